-- Revenue per booth per day over the fortnight ending on the run's date, for the run's chart.
SELECT transaction_date, toll_booth, SUM(revenue) AS revenue
FROM public.toll_daily_booth_revenue
WHERE transaction_date BETWEEN DATE '{{ run_date() | ds }}' - 13
                           AND DATE '{{ run_date() | ds }}'
GROUP BY transaction_date, toll_booth
ORDER BY transaction_date, toll_booth
