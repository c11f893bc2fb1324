-- The daily report: the day's top hashtags, a partition per day replaced as hashtag_data's are.
CREATE EXTERNAL TABLE IF NOT EXISTS {{ var.json.tweet_hashtags.analytical_database }}.top_hashtags (
  rank bigint,
  hashtag string,
  posts bigint,
  users bigint,
  avg_polarity double
)
PARTITIONED BY (year string, month string, day string)
STORED AS PARQUET
LOCATION 's3://{{ var.json.tweet_hashtags.data_bucket }}/analytical/top_hashtags/'
