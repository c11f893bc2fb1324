-- Facts the data-quality task compares with the Glue job's report: one row, named columns.
SELECT
    COUNT(*)                                                       AS rows_for_date,
    COUNT(*) - COUNT(DISTINCT transaction_id)                      AS duplicate_keys,
    SUM(CASE WHEN transaction_id IS NULL THEN 1 ELSE 0 END)        AS null_keys,
    SUM(CASE WHEN transaction_amount IS NULL OR transaction_amount <= 0 THEN 1 ELSE 0 END)
                                                                   AS non_positive_amounts,
    (SELECT COALESCE(SUM(transaction_count), 0) FROM public.toll_daily_booth_revenue
     WHERE transaction_date = '{{ (logical_date or dag_run.run_after) | ds }}') AS aggregated_for_date,
    (SELECT COUNT(*) FROM public.toll_table
     WHERE transaction_date = '{{ (logical_date or dag_run.run_after) | ds }}') AS transactions_on_date
FROM public.toll_table
WHERE landing_date = '{{ (logical_date or dag_run.run_after) | ds }}';
