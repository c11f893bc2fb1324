-- Operational log: one row per apply of a landing day, saying what it changed in the day's slice of
-- toll_deliveries (a run's summary reads its own latest row).
CREATE TABLE IF NOT EXISTS public.toll_loads (
    run_id       VARCHAR(250) NOT NULL,
    landing_date DATE         NOT NULL,
    applied_at   TIMESTAMP    NOT NULL,
    added        BIGINT       NOT NULL,  -- transactions the slice did not hold
    updated      BIGINT       NOT NULL,  -- held with other values
    removed      BIGINT       NOT NULL,  -- held and no longer delivered
    unchanged    BIGINT       NOT NULL   -- delivered again with the same values
)
SORTKEY (landing_date);
