-- Operational log: one line per load of a day into the analytical table.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ var.json.tweet_hashtags.analytical_database }}.data_update_log (
  pipeline string,
  run_id string,
  run_date date,
  table_name string,
  rows_loaded bigint,
  distinct_posts bigint,
  location string,
  loaded_at timestamp
)
ROW FORMAT DELIMITED FIELDS TERMINATED BY '\t'
STORED AS TEXTFILE
LOCATION 's3://{{ var.json.tweet_hashtags.data_bucket }}/analytical/data_update_log/'
