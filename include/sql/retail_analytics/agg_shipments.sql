-- Shipping problems as of the run's date, one row per run date; rerunning replaces it.
-- Late shipment: shipped 6 or more days after the order, and not delivered by the run date.
-- Undelivered item: neither shipped nor delivered by the run date, 15 or more days after the order
--   (an order without any shipment row counts as not shipped).
-- Computed from the run date's drop; only what was known on the run date counts: orders placed, shipments and
-- deliveries made by then.
DELETE FROM analytics.agg_shipments WHERE run_date = %(run_date)s::date;

INSERT INTO analytics.agg_shipments (run_date, tt_late_shipments, tt_undelivered_items)
SELECT
    %(run_date)s::date,
    count(*) FILTER (
        WHERE s.shipment_date <= %(run_date)s::date
          AND s.shipment_date >= o.order_date + 6
          AND (s.delivery_date IS NULL OR s.delivery_date > %(run_date)s::date)
    ),
    count(*) FILTER (
        WHERE (s.shipment_date IS NULL OR s.shipment_date > %(run_date)s::date)
          AND (s.delivery_date IS NULL OR s.delivery_date > %(run_date)s::date)
          AND o.order_date + 15 <= %(run_date)s::date
    )
FROM staging.orders AS o
LEFT JOIN staging.shipment_deliveries AS s ON s.drop_date = o.drop_date AND s.order_id = o.order_id
WHERE o.drop_date = %(run_date)s::date AND o.order_date <= %(run_date)s::date;
