{%- set day = run_date() -%}
ALTER TABLE {{ var.json.tweet_hashtags.staging_database }}.hashtag_rows ADD IF NOT EXISTS
PARTITION (year = '{{ day.strftime("%Y") }}', month = '{{ day.strftime("%m") }}', day = '{{ day.strftime("%d") }}')
LOCATION 's3://{{ var.json.tweet_hashtags.data_bucket }}/staging/hashtag_rows/year={{ day.strftime("%Y") }}/month={{ day.strftime("%m") }}/day={{ day.strftime("%d") }}/'
