CREATE DATABASE IF NOT EXISTS {{ var.json.tweet_hashtags.staging_database }}
