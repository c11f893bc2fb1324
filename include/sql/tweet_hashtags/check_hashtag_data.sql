{%- set day = run_date() -%}
-- What the day's load holds, and duplicate keys across every day of the table (must be none).
SELECT
  (SELECT count(*) FROM {{ var.json.tweet_hashtags.analytical_database }}.hashtag_data
   WHERE year = '{{ day.strftime("%Y") }}' AND month = '{{ day.strftime("%m") }}' AND day = '{{ day.strftime("%d") }}') AS rows_loaded,
  (SELECT count(DISTINCT post_id) FROM {{ var.json.tweet_hashtags.analytical_database }}.hashtag_data
   WHERE year = '{{ day.strftime("%Y") }}' AND month = '{{ day.strftime("%m") }}' AND day = '{{ day.strftime("%d") }}') AS distinct_posts,
  (SELECT count(DISTINCT hashtag) FROM {{ var.json.tweet_hashtags.analytical_database }}.hashtag_data
   WHERE year = '{{ day.strftime("%Y") }}' AND month = '{{ day.strftime("%m") }}' AND day = '{{ day.strftime("%d") }}') AS hashtags,
  (SELECT count(*) - count(DISTINCT hash_id) FROM {{ var.json.tweet_hashtags.analytical_database }}.hashtag_data) AS duplicate_hash_ids
