-- billing 2.3.0: book a seat. Look whether it is free, charge the card, then book it.
-- Nothing stops a second customer from looking in between: both see the seat free and
-- both are charged for it.
BEGIN;
SELECT NOT EXISTS (SELECT 1 FROM bookings WHERE seat = :'seat') AS free \gset
\if :free
-- the card is charged (the payment provider takes a second)
SELECT pg_sleep(1) \g /dev/null
INSERT INTO bookings (seat, customer) VALUES (:'seat', :'customer');
\echo booked
\else
\echo sold out
\endif
COMMIT;
