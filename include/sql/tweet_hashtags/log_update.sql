{%- set day = run_date() -%}
INSERT INTO {{ var.json.tweet_hashtags.analytical_database }}.data_update_log
SELECT 'tweet_hashtags', '{{ run_id }}', DATE '{{ day.strftime("%Y-%m-%d") }}', 'hashtag_data', count(*),
       count(DISTINCT post_id), '{{ ti.xcom_pull(task_ids="plan_load")["hashtag_data"] }}',
       CAST(current_timestamp AS timestamp)
FROM {{ var.json.tweet_hashtags.analytical_database }}.hashtag_data
WHERE year = '{{ day.strftime("%Y") }}' AND month = '{{ day.strftime("%m") }}' AND day = '{{ day.strftime("%d") }}'
