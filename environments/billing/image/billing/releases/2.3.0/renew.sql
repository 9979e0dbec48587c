-- billing 2.3.0: the nightly renewal run. Subscriptions due today are billed; the next
-- billing date is the same day next month, built from year, month and day.
BEGIN;
INSERT INTO renewals (subscription_id, renewed_on, amount)
SELECT id, current_date, monthly_fee FROM subscriptions WHERE next_billing = current_date;
UPDATE subscriptions
   SET next_billing = make_date(
         extract(year FROM current_date)::int + extract(month FROM current_date)::int / 12,
         extract(month FROM current_date)::int % 12 + 1,
         extract(day FROM current_date)::int)
 WHERE next_billing = current_date;
SELECT 'renewed ' || count(*) || ' subscription(s) on ' || current_date
  FROM renewals WHERE renewed_on = current_date;
COMMIT;
