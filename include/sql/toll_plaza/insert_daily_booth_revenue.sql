INSERT INTO public.toll_daily_booth_revenue
    (transaction_date, toll_booth, vehicle_category, transaction_count, revenue)
SELECT transaction_date, toll_booth, vehicle_category, COUNT(*), SUM(transaction_amount)
FROM public.toll_table
WHERE transaction_date = '{{ (logical_date or dag_run.run_after) | ds }}'
   OR transaction_date IN (
       SELECT DISTINCT transaction_date FROM public.toll_table
       WHERE landing_date = '{{ (logical_date or dag_run.run_after) | ds }}'
   )
GROUP BY transaction_date, toll_booth, vehicle_category;
