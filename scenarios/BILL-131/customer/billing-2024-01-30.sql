--
-- PostgreSQL database dump: billing subscriptions, Kessler Gruppe, taken 2024-01-30 22:00
-- (after that night's renewal run) for ticket BILL-131
--

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

CREATE TABLE public.subscriptions (
    id integer PRIMARY KEY,
    customer text NOT NULL,
    plan text NOT NULL,
    monthly_fee numeric(10,2) NOT NULL,
    next_billing date NOT NULL
);
ALTER TABLE public.subscriptions OWNER TO billing;

CREATE TABLE public.renewals (
    subscription_id integer NOT NULL REFERENCES public.subscriptions (id),
    renewed_on date NOT NULL,
    amount numeric(10,2) NOT NULL
);
ALTER TABLE public.renewals OWNER TO billing;

COPY public.subscriptions (id, customer, plan, monthly_fee, next_billing) FROM stdin;
1	Kessler Brauerei GmbH	pro	49.00	2024-01-31
2	Kessler Getränkehandel	basic	19.00	2024-01-31
3	Kessler Logistik	pro	49.00	2024-02-15
4	Kessler Immobilien	basic	19.00	2024-02-29
\.

COPY public.renewals (subscription_id, renewed_on, amount) FROM stdin;
1	2023-12-31	49.00
2	2023-12-31	19.00
4	2024-01-29	19.00
\.
