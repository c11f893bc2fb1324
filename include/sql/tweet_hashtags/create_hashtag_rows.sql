-- The staging Lambda's rows: JSON lines, one row per (post, hashtag), a partition per landing day.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ var.json.tweet_hashtags.staging_database }}.hashtag_rows (
  hash_id string,
  record_id string,
  post_id string,
  created string,
  user_name string,
  repost_count bigint,
  hashtag string,
  text string,
  text_clean string,
  polarity double,
  subjectivity double,
  lang string,
  arrival string,
  sequence_number string
)
PARTITIONED BY (year string, month string, day string)
ROW FORMAT SERDE 'org.openx.data.jsonserde.JsonSerDe'
STORED AS TEXTFILE
LOCATION 's3://{{ var.json.tweet_hashtags.data_bucket }}/staging/hashtag_rows/'
