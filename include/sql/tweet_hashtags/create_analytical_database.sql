CREATE DATABASE IF NOT EXISTS {{ var.json.tweet_hashtags.analytical_database }}
