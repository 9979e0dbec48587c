--
-- PostgreSQL database dump: billing, Nordwind Handels AG, taken 2024-04-02 for ticket NORD-88
--

SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;

CREATE TABLE public.customers (
    customer_id integer PRIMARY KEY,
    name text NOT NULL
);
ALTER TABLE public.customers OWNER TO billing;

CREATE TABLE public.invoice_lines (
    line_id integer PRIMARY KEY,
    customer_id integer NOT NULL,
    invoiced_on date NOT NULL,
    article text NOT NULL,
    quantity numeric(10,2) NOT NULL,
    unit_price numeric(12,2) NOT NULL,
    discount numeric(5,2)            -- percent; lines from the 2019 import API have none
);
ALTER TABLE public.invoice_lines OWNER TO billing;

CREATE TABLE public.monthly_totals (
    month text NOT NULL,
    customer_id integer NOT NULL,
    total numeric(14,2),
    currency text NOT NULL,
    PRIMARY KEY (month, customer_id)
);
ALTER TABLE public.monthly_totals OWNER TO billing;

COPY public.invoice_lines (line_id, customer_id, invoiced_on, article, quantity, unit_price, discount) FROM stdin;
1	1	2024-03-04	Paper A4, 500 sheets	40.00	4.90	5.00
2	1	2024-03-11	Toner TN-2420	6.00	61.50	0.00
3	2	2024-03-05	Office chair Ergo 3	2.00	289.00	10.00
4	2	2024-03-19	Desk lamp LED	4.00	34.90	0.00
5	3	2024-03-07	Pallet of copy paper	3.00	219.00	12.50
6	3	2024-03-14	Shredder P-4	1.00	149.00	\N
7	3	2024-03-27	Archive boxes, 50	10.00	18.40	\N
8	1	2024-02-28	Paper A4, 500 sheets	20.00	4.90	5.00
\.
