-- billing 2.3.1: book a seat. Fix for TIX-2041: the seat's row is locked (FOR UPDATE)
-- before looking whether it is free, so two customers book one seat one after the other:
-- the second sees the first one's booking and gets "sold out".
BEGIN;
SELECT seat FROM seats WHERE seat = :'seat' FOR UPDATE \g /dev/null
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
