-- The run's own staging table (one per landing day, so runs of different days never share one).
CREATE TABLE IF NOT EXISTS public.toll_stage_{{ run_date() | ds_nodash }} (LIKE public.toll_deliveries);
