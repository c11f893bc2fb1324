-- The VN-Index daily history in Aurora PostgreSQL: one row per trading date.
-- Prices are index points; amounts are in billions of VND (the source's "tỷ VNĐ"); volumes are shares.
CREATE SCHEMA IF NOT EXISTS vn_stock;

CREATE TABLE IF NOT EXISTS vn_stock.daily_index (
    trading_date   date PRIMARY KEY,
    close_price    double precision NOT NULL,
    change_value   double precision NOT NULL,  -- points versus the previous close
    change_percent double precision NOT NULL,  -- percent of the previous close, as published (2 decimals)
    matched_volume bigint NOT NULL,            -- order-matched trades
    matched_amount double precision NOT NULL,
    deal_volume    bigint NOT NULL,            -- negotiated (put-through) trades
    deal_amount    double precision NOT NULL,
    open_price     double precision NOT NULL,
    high_price     double precision NOT NULL,
    low_price      double precision NOT NULL
);
