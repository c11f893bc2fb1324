{%- set day = run_date() -%}
ALTER TABLE {{ var.json.tweet_hashtags.analytical_database }}.{{ params.table }} DROP IF EXISTS
PARTITION (year = '{{ day.strftime("%Y") }}', month = '{{ day.strftime("%m") }}', day = '{{ day.strftime("%d") }}')
