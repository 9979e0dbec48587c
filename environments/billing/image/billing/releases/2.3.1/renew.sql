-- billing 2.3.1: the nightly renewal run. Subscriptions due today are billed; the next
-- billing date is the same day next month.
-- Fix for the renewal run of January 31st: the next date was built from year, month and
-- day, and February 31st does not exist ("date field value out of range"); the run
-- stopped and nobody was billed. Date arithmetic clamps to the month's last day instead.
BEGIN;
INSERT INTO renewals (subscription_id, renewed_on, amount)
SELECT id, current_date, monthly_fee FROM subscriptions WHERE next_billing = current_date;
UPDATE subscriptions
   SET next_billing = (current_date + interval '1 month')::date
 WHERE next_billing = current_date;
SELECT 'renewed ' || count(*) || ' subscription(s) on ' || current_date
  FROM renewals WHERE renewed_on = current_date;
COMMIT;
