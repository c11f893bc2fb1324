-- Orders placed on public holidays (analytics.dim_dates) per month over the past year: the 12 complete
-- calendar months before the run date's month, always 12 rows (0 when none), from the run date's drop.
-- Rerunning replaces them.
DELETE FROM analytics.agg_public_holiday_orders WHERE run_date = %(run_date)s::date;

INSERT INTO analytics.agg_public_holiday_orders (run_date, order_month, tt_orders)
SELECT %(run_date)s::date, months.order_month::date, count(holiday_orders.order_id)
FROM generate_series(
         date_trunc('month', %(run_date)s::date) - interval '12 months',
         date_trunc('month', %(run_date)s::date) - interval '1 month',
         interval '1 month'
     ) AS months (order_month)
LEFT JOIN (
    SELECT o.order_id, date_trunc('month', o.order_date) AS order_month
    FROM staging.orders AS o
    JOIN analytics.dim_dates AS d ON d.calendar_date = o.order_date
    WHERE o.drop_date = %(run_date)s::date AND d.is_public_holiday
) AS holiday_orders ON holiday_orders.order_month = months.order_month
GROUP BY months.order_month;
