--
-- PostgreSQL database dump: box office of Stadtfest Linz, taken 2024-06-03 for ticket TIX-2041
--

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

CREATE TABLE public.seats (
    seat text PRIMARY KEY,
    price numeric(8,2) NOT NULL
);
ALTER TABLE public.seats OWNER TO billing;

CREATE TABLE public.bookings (
    booking_id serial PRIMARY KEY,
    seat text NOT NULL REFERENCES public.seats (seat),
    customer text NOT NULL,
    booked_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE public.bookings OWNER TO billing;

COPY public.seats (seat, price) FROM stdin;
12A	89.00
12B	89.00
12C	89.00
12D	89.00
\.

COPY public.bookings (seat, customer, booked_at) FROM stdin;
12B	customer-8812	2024-06-01 09:12:44+02
12C	customer-1290	2024-06-01 09:13:02+02
12D	customer-4471	2024-06-02 18:40:19+02
\.
