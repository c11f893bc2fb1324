-- The best-performing product as of the run date: the highest total review points (ties: lowest
-- product_id), with its busiest order day (most orders; ties: earliest day), whether that day was a public
-- holiday, its review-star distribution and its late-shipment share (late as in agg_shipments, over its
-- orders placed by the run date), all from the run date's drop. Reviews carry no date: all the drop's count.
DELETE FROM analytics.best_performing_product WHERE run_date = %(run_date)s::date;

INSERT INTO analytics.best_performing_product
WITH review_points AS (
    SELECT product_id, sum(review) AS tt_review_points, count(*) AS tt_reviews,
           count(*) FILTER (WHERE review = 1) AS one_star, count(*) FILTER (WHERE review = 2) AS two_star,
           count(*) FILTER (WHERE review = 3) AS three_star, count(*) FILTER (WHERE review = 4) AS four_star,
           count(*) FILTER (WHERE review = 5) AS five_star
    FROM staging.reviews
    WHERE drop_date = %(run_date)s::date
    GROUP BY product_id
),
best AS (
    SELECT * FROM review_points ORDER BY tt_review_points DESC, product_id ASC LIMIT 1
),
best_orders AS (
    SELECT o.order_id, o.order_date
    FROM staging.orders AS o
    JOIN best ON best.product_id = o.product_id
    WHERE o.drop_date = %(run_date)s::date AND o.order_date <= %(run_date)s::date
),
busiest_day AS (
    SELECT order_date, count(*) AS orders
    FROM best_orders
    GROUP BY order_date
    ORDER BY orders DESC, order_date ASC
    LIMIT 1
),
shipping AS (
    SELECT count(*) AS tt_orders,
           count(*) FILTER (
               WHERE s.shipment_date <= %(run_date)s::date
                 AND s.shipment_date >= bo.order_date + 6
                 AND (s.delivery_date IS NULL OR s.delivery_date > %(run_date)s::date)
           ) AS tt_late_shipments
    FROM best_orders AS bo
    LEFT JOIN staging.shipment_deliveries AS s ON s.drop_date = %(run_date)s::date AND s.order_id = bo.order_id
)
SELECT
    %(run_date)s::date,
    best.product_id,
    best.tt_review_points,
    best.tt_reviews,
    busiest_day.order_date,
    coalesce(busiest_day.orders, 0),
    d.is_public_holiday,
    round(100.0 * best.one_star / best.tt_reviews, 2),
    round(100.0 * best.two_star / best.tt_reviews, 2),
    round(100.0 * best.three_star / best.tt_reviews, 2),
    round(100.0 * best.four_star / best.tt_reviews, 2),
    round(100.0 * best.five_star / best.tt_reviews, 2),
    shipping.tt_orders,
    shipping.tt_late_shipments,
    coalesce(round(100.0 * shipping.tt_late_shipments / nullif(shipping.tt_orders, 0), 2), 0)
FROM best
CROSS JOIN shipping
LEFT JOIN busiest_day ON true
LEFT JOIN analytics.dim_dates AS d ON d.calendar_date = busiest_day.order_date;
