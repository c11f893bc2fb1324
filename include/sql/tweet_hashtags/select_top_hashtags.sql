{%- set day = run_date() -%}
SELECT rank, hashtag, posts, users, avg_polarity
FROM {{ var.json.tweet_hashtags.analytical_database }}.top_hashtags
WHERE year = '{{ day.strftime("%Y") }}' AND month = '{{ day.strftime("%m") }}' AND day = '{{ day.strftime("%d") }}'
ORDER BY rank
