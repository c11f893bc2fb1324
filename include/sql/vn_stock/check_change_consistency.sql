-- Each row's change agrees with the closes: the published percent is the change over the previous close
-- (close - change), and where the previous trading day is in the table (at most 4 calendar days earlier,
-- i.e. across a weekend) its close is that previous close. One boolean per rule; all must be true.
WITH ordered AS (
    SELECT trading_date, close_price, change_value, change_percent,
           LAG(trading_date) OVER by_date AS previous_date,
           LAG(close_price) OVER by_date AS previous_close
    FROM vn_stock.daily_index
    WINDOW by_date AS (ORDER BY trading_date)
)
SELECT
    COUNT(*) FILTER (
        WHERE ABS(change_percent - 100 * change_value / NULLIF(close_price - change_value, 0)) > 0.006
    ) = 0 AS percent_matches_change,
    COUNT(*) FILTER (
        WHERE previous_date >= trading_date - 4 AND ABS(close_price - change_value - previous_close) > 0.005
    ) = 0 AS change_matches_previous_close
FROM ordered;
