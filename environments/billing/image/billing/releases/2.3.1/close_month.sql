-- billing 2.3.1: close a month. Line totals are quantity x unit price less the discount.
-- Fix for NORD-88: lines imported through the 2019 API carry no discount (NULL); one such
-- line made the whole customer's total NULL. No discount means 0 %.
DELETE FROM monthly_totals WHERE month = :'month';
INSERT INTO monthly_totals (month, customer_id, total, currency)
SELECT :'month', l.customer_id,
       round(sum(l.quantity * l.unit_price * (1 - coalesce(l.discount, 0) / 100.0)), 2), 'EUR'
  FROM invoice_lines l
 WHERE to_char(l.invoiced_on, 'YYYY-MM') = :'month'
 GROUP BY l.customer_id;
