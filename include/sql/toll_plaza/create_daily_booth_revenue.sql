-- Revenue and transaction count per day, booth and vehicle category. Small, so a copy on every node
-- (DISTSTYLE ALL) lets it join anything without redistribution.
CREATE TABLE IF NOT EXISTS public.toll_daily_booth_revenue (
    transaction_date  DATE           NOT NULL,
    toll_booth        VARCHAR(64)    NOT NULL,
    vehicle_category  VARCHAR(128)   NOT NULL,
    transaction_count BIGINT         NOT NULL,
    revenue           DECIMAL(14, 2) NOT NULL,
    PRIMARY KEY (transaction_date, toll_booth, vehicle_category)
)
DISTSTYLE ALL
SORTKEY (transaction_date);
