-- One row per toll transaction, as the earliest landing day delivered it (derived from toll_deliveries by the
-- load). Distributed on the key so the load's DELETE ... USING join stays
-- node-local; sorted on the transaction date that every daily query filters on.
CREATE TABLE IF NOT EXISTS public.toll_table (
    transaction_id     BIGINT        NOT NULL,
    transaction_date   DATE          NOT NULL,
    toll_booth         VARCHAR(64)   NOT NULL,
    vehicle_make       VARCHAR(64),
    vehicle_category   VARCHAR(128)  NOT NULL,
    transaction_amount DECIMAL(10, 2) NOT NULL,
    landing_date       DATE          NOT NULL,  -- the landing day that delivered it first (owns it)
    PRIMARY KEY (transaction_id)
)
DISTKEY (transaction_id)
COMPOUND SORTKEY (transaction_date, toll_booth);
