{%- set day = run_date() -%}
{# The day's top hashtags: posts, distinct users and average polarity, ranked by posts then name. #}
UNLOAD (
  SELECT CAST(row_number() OVER (ORDER BY count(*) DESC, hashtag) AS bigint) AS rank, hashtag,
         count(*) AS posts, count(DISTINCT user_name) AS users, avg(polarity) AS avg_polarity
  FROM {{ var.json.tweet_hashtags.analytical_database }}.hashtag_data
  WHERE year = '{{ day.strftime("%Y") }}' AND month = '{{ day.strftime("%m") }}' AND day = '{{ day.strftime("%d") }}'
  GROUP BY hashtag
  ORDER BY posts DESC, hashtag
  LIMIT {{ params.top_hashtags }}
)
TO '{{ ti.xcom_pull(task_ids="plan_load")["top_hashtags"] }}'
WITH (format = 'PARQUET')
