-- Every transaction as each landing day delivered it: one slice per landing day, which that day's run replaces
-- whole, so loading one day never changes another day's slice, whatever the order of runs and backfills.
-- toll_table is derived from it: each transaction as the earliest day that delivered it.
CREATE TABLE IF NOT EXISTS public.toll_deliveries (
    landing_date       DATE          NOT NULL,
    transaction_id     BIGINT        NOT NULL,
    transaction_date   DATE          NOT NULL,
    toll_booth         VARCHAR(64)   NOT NULL,
    vehicle_make       VARCHAR(64),
    vehicle_category   VARCHAR(128)  NOT NULL,
    transaction_amount DECIMAL(10, 2) NOT NULL,
    PRIMARY KEY (landing_date, transaction_id)
)
DISTKEY (transaction_id)
SORTKEY (landing_date);
