{%- set day = run_date() -%}
{# The day's staged rows, typed, written as Parquet to this load's own location (swapped in afterwards). #}
UNLOAD (
  SELECT hash_id, post_id, CAST(created AS timestamp) AS created, user_name, repost_count, hashtag, text_clean,
         polarity, subjectivity, lang
  FROM {{ var.json.tweet_hashtags.staging_database }}.hashtag_rows
  WHERE year = '{{ day.strftime("%Y") }}' AND month = '{{ day.strftime("%m") }}' AND day = '{{ day.strftime("%d") }}'
)
TO '{{ ti.xcom_pull(task_ids="plan_load")["hashtag_data"] }}'
WITH (format = 'PARQUET')
