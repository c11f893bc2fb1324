-- The day's staged deliveries become its slice of toll_deliveries; every transaction whose delivery changes is
-- rebuilt in toll_table as its earliest delivery (the day that delivered it first owns it), and the daily
-- aggregate of every transaction date that changes is rebuilt. Only what differs from the slice already loaded is
-- written: a rerun of the same landed file leaves every table as it is, without rewriting it. One transaction
-- (a Data API batch); the lock makes runs of different days (a backfill beside the scheduled run) apply one after
-- the other.
LOCK public.toll_deliveries;

-- Transactions the day no longer delivers, delivers for the first time, or delivers with other values (only
-- vehicle_make may be null), each with the values the day now delivers (none when it no longer delivers it). The
-- rebuild_day param takes every transaction of the slice and the stage instead.
CREATE TEMP TABLE changed AS
SELECT *
FROM (
    SELECT COALESCE(d.transaction_id, s.transaction_id) AS transaction_id,
           d.transaction_id IS NOT NULL AS was_delivered,
           s.transaction_id IS NOT NULL AS delivered,
           (d.transaction_date <> s.transaction_date
            OR d.toll_booth <> s.toll_booth
            OR d.vehicle_category <> s.vehicle_category
            OR d.transaction_amount <> s.transaction_amount
            OR d.vehicle_make <> s.vehicle_make
            OR (d.vehicle_make IS NULL) <> (s.vehicle_make IS NULL)) AS differs,
           s.landing_date, s.transaction_date, s.toll_booth, s.vehicle_make, s.vehicle_category, s.transaction_amount
    FROM (
        SELECT * FROM public.toll_deliveries WHERE landing_date = '{{ run_date() | ds }}'
    ) AS d
    FULL JOIN public.toll_stage_{{ run_date() | ds_nodash }} s
        ON s.transaction_id = d.transaction_id
) AS compared
WHERE {% if params.rebuild_day %}TRUE OR {% endif %}NOT (was_delivered AND delivered) OR differs;

-- What this apply changes in the slice, for the run's summary (a run id holds no quote: Airflow's
-- allowed_run_id_pattern).
INSERT INTO public.toll_loads (run_id, landing_date, applied_at, added, updated, removed, unchanged)
SELECT '{{ run_id }}', CAST('{{ run_date() | ds }}' AS DATE), SYSDATE,
       COALESCE(SUM(CASE WHEN delivered AND NOT was_delivered THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN delivered AND was_delivered AND differs THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN was_delivered AND NOT delivered THEN 1 ELSE 0 END), 0),
       (SELECT COUNT(*) FROM public.toll_stage_{{ run_date() | ds_nodash }})
       - COALESCE(SUM(CASE WHEN delivered AND (NOT was_delivered OR differs) THEN 1 ELSE 0 END), 0)
FROM changed;

-- The dates whose aggregate changes: those of the rows replaced here, then (below) those of the rows replacing them.
CREATE TEMP TABLE touched_dates AS
SELECT DISTINCT t.transaction_date FROM public.toll_table t JOIN changed ON changed.transaction_id = t.transaction_id;

DELETE FROM public.toll_deliveries USING changed
WHERE public.toll_deliveries.landing_date = '{{ run_date() | ds }}'
  AND public.toll_deliveries.transaction_id = changed.transaction_id;

INSERT INTO public.toll_deliveries
    (landing_date, transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount)
SELECT landing_date, transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount
FROM changed
WHERE delivered;

-- Changed transactions that other days deliver too: only these need their deliveries ranked to find the owner.
CREATE TEMP TABLE shared AS
SELECT DISTINCT d.transaction_id
FROM public.toll_deliveries d JOIN changed ON changed.transaction_id = d.transaction_id
WHERE d.landing_date <> '{{ run_date() | ds }}';

DELETE FROM public.toll_table USING changed WHERE public.toll_table.transaction_id = changed.transaction_id;

-- A changed transaction only this day delivers is owned by it: its staged row, as it is.
INSERT INTO public.toll_table
    (transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount, landing_date)
SELECT transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount, landing_date
FROM changed
WHERE delivered AND NOT EXISTS (SELECT 1 FROM shared WHERE shared.transaction_id = changed.transaction_id);

-- A shared one is its earliest delivery.
INSERT INTO public.toll_table
    (transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount, landing_date)
SELECT transaction_id, transaction_date, toll_booth, vehicle_make, vehicle_category, transaction_amount, landing_date
FROM (
    SELECT d.*, ROW_NUMBER() OVER (PARTITION BY d.transaction_id ORDER BY d.landing_date) AS delivery_rank
    FROM public.toll_deliveries d JOIN shared ON shared.transaction_id = d.transaction_id
) AS ranked
WHERE delivery_rank = 1;

-- The changed rows' dates cover those of the rows the day owns; the shared transactions' rows add theirs.
INSERT INTO touched_dates
SELECT DISTINCT transaction_date FROM changed WHERE delivered
UNION
SELECT t.transaction_date FROM public.toll_table t JOIN shared ON shared.transaction_id = t.transaction_id;

DELETE FROM public.toll_daily_booth_revenue WHERE transaction_date IN (SELECT transaction_date FROM touched_dates);

INSERT INTO public.toll_daily_booth_revenue
    (transaction_date, toll_booth, vehicle_category, transaction_count, revenue)
SELECT transaction_date, toll_booth, vehicle_category, COUNT(*), SUM(transaction_amount)
FROM public.toll_table
WHERE transaction_date IN (SELECT DISTINCT transaction_date FROM touched_dates)
GROUP BY transaction_date, toll_booth, vehicle_category;

DROP TABLE public.toll_stage_{{ run_date() | ds_nodash }};
