-- billing 2.3.0: close a month. Line totals are quantity x unit price less the discount.
DELETE FROM monthly_totals WHERE month = :'month';
INSERT INTO monthly_totals (month, customer_id, total, currency)
SELECT :'month', l.customer_id,
       round(sum(l.quantity * l.unit_price * (1 - l.discount / 100.0)), 2), 'EUR'
  FROM invoice_lines l
 WHERE to_char(l.invoiced_on, 'YYYY-MM') = :'month'
 GROUP BY l.customer_id;
