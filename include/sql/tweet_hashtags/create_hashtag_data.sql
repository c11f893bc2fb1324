-- The analytical table: typed, Parquet, a partition per day whose location is the load that last replaced it.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ var.json.tweet_hashtags.analytical_database }}.hashtag_data (
  hash_id string,
  post_id string,
  created timestamp,
  user_name string,
  repost_count bigint,
  hashtag string,
  text_clean string,
  polarity double,
  subjectivity double,
  lang string
)
PARTITIONED BY (year string, month string, day string)
STORED AS PARQUET
LOCATION 's3://{{ var.json.tweet_hashtags.data_bucket }}/analytical/hashtag_data/'
