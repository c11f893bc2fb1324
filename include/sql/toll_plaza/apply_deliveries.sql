-- The day's staged deliveries replace its slice of toll_deliveries; then every transaction the slice held or
-- holds is rebuilt in toll_table as its earliest delivery (the day that delivered it first owns it), and the
-- daily aggregate of every transaction date that changed is rebuilt. One transaction (a Data API batch); the lock
-- makes runs of different days (a backfill beside the scheduled run) apply one after the other.
LOCK public.toll_deliveries;

-- A transaction both in the slice and in the stage (a rerun) is listed twice: every use below allows it, which
-- spares de-duplicating a day of ids.
CREATE TEMP TABLE touched AS
SELECT transaction_id FROM public.toll_deliveries WHERE landing_date = '{{ (logical_date or dag_run.run_after) | ds }}'
UNION ALL
SELECT transaction_id FROM public.toll_stage_{{ (logical_date or dag_run.run_after) | ds_nodash }};

-- The dates whose aggregate changes: those of the rows replaced here, then (below) those of the rows replacing them.
CREATE TEMP TABLE touched_dates AS
SELECT DISTINCT t.transaction_date FROM public.toll_table t JOIN touched ON touched.transaction_id = t.transaction_id;

DELETE FROM public.toll_deliveries WHERE landing_date = '{{ (logical_date or dag_run.run_after) | ds }}';

INSERT INTO public.toll_deliveries
    (landing_date, transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount)
SELECT landing_date, transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount
FROM public.toll_stage_{{ (logical_date or dag_run.run_after) | ds_nodash }};

-- Touched transactions that other days delivered too: only these need their deliveries ranked to find the owner.
CREATE TEMP TABLE shared AS
SELECT DISTINCT d.transaction_id
FROM public.toll_deliveries d JOIN touched ON touched.transaction_id = d.transaction_id
WHERE d.landing_date <> '{{ (logical_date or dag_run.run_after) | ds }}';

DELETE FROM public.toll_table USING touched WHERE public.toll_table.transaction_id = touched.transaction_id;

-- A transaction only this day delivered is owned by it: its staged row, as it is.
INSERT INTO public.toll_table
    (transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount, landing_date)
SELECT s.transaction_id, s.transaction_date, s.toll_booth, s.vehicle_make, s.vehicle_category, s.transaction_amount,
       s.landing_date
FROM public.toll_stage_{{ (logical_date or dag_run.run_after) | ds_nodash }} s
WHERE NOT EXISTS (SELECT 1 FROM shared WHERE shared.transaction_id = s.transaction_id);

-- A shared one is its earliest delivery (none when no day delivers it any more).
INSERT INTO public.toll_table
    (transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount, landing_date)
SELECT transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount, landing_date
FROM (
    SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.transaction_id ORDER BY d.landing_date) AS delivery_rank
    FROM public.toll_deliveries d JOIN shared ON shared.transaction_id = d.transaction_id
) AS ranked
WHERE delivery_rank = 1;

-- The staged rows' dates cover those of the rows the day owns; the shared transactions' rows add theirs.
INSERT INTO touched_dates
SELECT DISTINCT transaction_date FROM public.toll_stage_{{ (logical_date or dag_run.run_after) | ds_nodash }}
UNION
SELECT t.transaction_date FROM public.toll_table t JOIN shared ON shared.transaction_id = t.transaction_id;

DELETE FROM public.toll_daily_booth_revenue WHERE transaction_date IN (SELECT transaction_date FROM touched_dates);

INSERT INTO public.toll_daily_booth_revenue
    (transaction_date, toll_booth, vehicle_category, transaction_count, revenue)
SELECT transaction_date, toll_booth, vehicle_category, COUNT(*), SUM(transaction_amount)
FROM public.toll_table
WHERE transaction_date IN (SELECT DISTINCT transaction_date FROM touched_dates)
GROUP BY transaction_date, toll_booth, vehicle_category;

DROP TABLE public.toll_stage_{{ (logical_date or dag_run.run_after) | ds_nodash }};
