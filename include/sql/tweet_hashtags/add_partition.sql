{%- set day = run_date() -%}
ALTER TABLE {{ var.json.tweet_hashtags.analytical_database }}.{{ params.table }} ADD IF NOT EXISTS
PARTITION (year = '{{ day.strftime("%Y") }}', month = '{{ day.strftime("%m") }}', day = '{{ day.strftime("%d") }}')
LOCATION '{{ ti.xcom_pull(task_ids="plan_load")[params.table] }}'
