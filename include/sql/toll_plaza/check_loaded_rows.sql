-- Facts about the run's landing day that the data-quality task compares with the Glue job's report: one row.
-- delivered: the day's slice; owned: of it, the transactions this day delivered first; owned_by_earlier_days:
-- delivered again here but first on an earlier day (counted there); also_delivered_later: this day's that later
-- days delivered again (this day counts them, not those days); added, updated, removed, unchanged: what the run's
-- latest apply changed in the slice (toll_loads).
SELECT facts.*, last_apply.added, last_apply.updated, last_apply.removed, last_apply.unchanged
FROM (
    SELECT
        COUNT(*)                                                                     AS delivered,
        SUM(CASE WHEN t.landing_date = d.landing_date THEN 1 ELSE 0 END)             AS owned,
        SUM(CASE WHEN t.landing_date < d.landing_date THEN 1 ELSE 0 END)             AS owned_by_earlier_days,
        SUM(CASE WHEN later.transaction_id IS NOT NULL THEN 1 ELSE 0 END)            AS also_delivered_later,
        SUM(CASE WHEN t.transaction_id IS NULL THEN 1 ELSE 0 END)                    AS missing_from_table,
        SUM(CASE WHEN d.transaction_amount <= 0 THEN 1 ELSE 0 END)                   AS non_positive_amounts,
        (SELECT COUNT(*) FROM public.toll_table
         WHERE landing_date = '{{ run_date() | ds }}')      AS rows_for_date,
        (SELECT COUNT(*) - COUNT(DISTINCT transaction_id) FROM public.toll_table)    AS duplicate_keys,
        (SELECT COALESCE(SUM(transaction_count), 0) FROM public.toll_daily_booth_revenue
         WHERE transaction_date = '{{ run_date() | ds }}')  AS aggregated_for_date,
        (SELECT COUNT(*) FROM public.toll_table
         WHERE transaction_date = '{{ run_date() | ds }}')  AS transactions_on_date
    FROM public.toll_deliveries d
    LEFT JOIN public.toll_table t ON t.transaction_id = d.transaction_id
    LEFT JOIN (SELECT DISTINCT transaction_id FROM public.toll_deliveries
               WHERE landing_date > '{{ run_date() | ds }}') later
           ON later.transaction_id = d.transaction_id
    WHERE d.landing_date = '{{ run_date() | ds }}'
) AS facts
-- The run's latest apply (a cleared run applies again under the same run id).
LEFT JOIN (
    SELECT added, updated, removed, unchanged FROM public.toll_loads
    WHERE run_id = '{{ run_id }}'
    ORDER BY applied_at DESC
    LIMIT 1
) AS last_apply ON 1 = 1;
