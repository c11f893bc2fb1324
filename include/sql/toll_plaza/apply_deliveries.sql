-- The day's staged deliveries replace its slice of toll_deliveries; then every transaction the slice held or
-- holds is rebuilt in toll_table as its earliest delivery (the day that delivered it first owns it), and the
-- daily aggregate of every transaction date that changed is rebuilt. One transaction (a Data API batch); the lock
-- makes runs of different days (a backfill beside the scheduled run) apply one after the other.
LOCK public.toll_deliveries;

CREATE TEMP TABLE touched AS
SELECT transaction_id FROM public.toll_deliveries WHERE landing_date = '{{ (logical_date or dag_run.run_after) | ds }}'
UNION
SELECT transaction_id FROM public.toll_stage_{{ (logical_date or dag_run.run_after) | ds_nodash }};

CREATE TEMP TABLE touched_dates AS
SELECT DISTINCT t.transaction_date FROM public.toll_table t JOIN touched ON touched.transaction_id = t.transaction_id;

DELETE FROM public.toll_deliveries WHERE landing_date = '{{ (logical_date or dag_run.run_after) | ds }}';

INSERT INTO public.toll_deliveries
    (landing_date, transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount)
SELECT landing_date, transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount
FROM public.toll_stage_{{ (logical_date or dag_run.run_after) | ds_nodash }};

DELETE FROM public.toll_table USING touched WHERE public.toll_table.transaction_id = touched.transaction_id;

INSERT INTO public.toll_table
    (transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount, landing_date)
SELECT transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount, landing_date
FROM (
    SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.transaction_id ORDER BY d.landing_date) AS delivery_rank
    FROM public.toll_deliveries d JOIN touched ON touched.transaction_id = d.transaction_id
) AS ranked
WHERE delivery_rank = 1;

INSERT INTO touched_dates
SELECT DISTINCT t.transaction_date FROM public.toll_table t JOIN touched ON touched.transaction_id = t.transaction_id;

DELETE FROM public.toll_daily_booth_revenue WHERE transaction_date IN (SELECT transaction_date FROM touched_dates);

INSERT INTO public.toll_daily_booth_revenue
    (transaction_date, toll_booth, vehicle_category, transaction_count, revenue)
SELECT transaction_date, toll_booth, vehicle_category, COUNT(*), SUM(transaction_amount)
FROM public.toll_table
WHERE transaction_date IN (SELECT DISTINCT transaction_date FROM touched_dates)
GROUP BY transaction_date, toll_booth, vehicle_category;

DROP TABLE public.toll_stage_{{ (logical_date or dag_run.run_after) | ds_nodash }};
