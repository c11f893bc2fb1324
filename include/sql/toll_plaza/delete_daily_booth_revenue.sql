-- Refresh the run's date and every transaction date the run's landing partition brought rows for
-- (files from the original generator carry older dates), so no day's aggregate goes stale.
DELETE FROM public.toll_daily_booth_revenue
WHERE transaction_date = '{{ (logical_date or dag_run.run_after) | ds }}'
   OR transaction_date IN (
       SELECT DISTINCT transaction_date FROM public.toll_table
       WHERE landing_date = '{{ (logical_date or dag_run.run_after) | ds }}'
   );
