"""The file formats: CSV/TSV columns, SQL dumps, lines of logs, JSON/YAML fields."""

from __future__ import annotations

import csv
import io
import json

import pytest
import yaml

from repro.errors import ConfigError
from repro.privacy import csv_file, sql_file, structured_file, text_file
from repro.privacy.tokens import Tokens

T = Tokens(b"unit-test-key-0123456789abcdef")


def _csv(data: bytes, columns: dict[str, str], delimiter: str | None = None,
         name: str = "x.csv") -> tuple[bytes, int]:
    out = io.BytesIO()
    count = csv_file.rewrite(io.BytesIO(data), out, columns, delimiter, name, T.token_bytes)
    return out.getvalue(), count


def _rows(rows: list[list[str]], delimiter: str = ";") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


@pytest.mark.parametrize("chunk", [5, 64, 1 << 20])
def test_csv_rewrites_its_columns_only_quoted_and_multiline_fields_too(monkeypatch, chunk):
    monkeypatch.setattr(csv_file, "CHUNK", chunk)
    rows = [["id", "name", "email", "note"]]
    people = ["Max Müller", 'Anna "Nina" Schmidt', "O'Brien; Pat"]
    notes = ["a\nb", "x;y", "plain", "", '"quoted"']
    for i in range(60):
        rows.append([str(i), people[i % 3], f"user{i % 7}@firma.de", notes[i % 5]])
    data = b"\xef\xbb\xbf" + _rows(rows)
    out, count = _csv(data, {"name": "name", "email": "email"})
    assert out.startswith(b"\xef\xbb\xbfid;name;email;note\n") and count == 120
    back = list(csv.reader(io.StringIO(out.decode("utf-8-sig")), delimiter=";"))
    assert len(back) == len(rows)
    for before, after in zip(rows[1:], back[1:], strict=True):
        assert (after[0], after[3]) == (before[0], before[3])
        assert after[1] == T.token("name", before[1]) != before[1]
        assert after[2] == T.token("email", before[2])


def test_csv_keeps_unquoted_lines_byte_for_byte_but_for_the_column():
    data = b"a,b,c\r\n1,max@firma.de,x\r\n\r\n2,anna@firma.de,y"  # CRLF, a blank line, no EOL
    out, _ = _csv(data, {"b": "email"})
    lines = out.split(b"\r\n")
    assert lines[0] == b"a,b,c" and lines[2] == b"" and out.count(b"\r\n") == 3
    assert lines[1] == b"1," + T.token("email", "max@firma.de").encode() + b",x"
    assert lines[3].startswith(b"2,") and lines[3].endswith(b",y")


def test_tsv_and_a_missing_column():
    out, _ = _csv(b"n\tmail\nx\tmax@firma.de\n", {"MAIL": "email"}, name="a.tsv")
    assert out.split(b"\n")[1] == b"x\t" + T.token("email", "max@firma.de").encode()
    with pytest.raises(ConfigError) as exc:
        _csv(b"id;emial\n1;a@b.de\n", {"email": "email"})
    assert str(exc.value) == ("x.csv:1: no column 'email' in the header (did you mean "
                              "'emial'?); check the rule's `columns:` or `delimiter:`")


DUMP = """\
-- a plain dump
CREATE TABLE public.customers (
    id integer NOT NULL,
    name text,
    email text,
    CONSTRAINT pk PRIMARY KEY (id)
);
INSERT INTO public.customers VALUES (1, 'Max Müller', 'max@firma.de'), (2, 'O''Brien', NULL);
INSERT INTO orders (id, contact, note)
  VALUES (7, 'MAX@firma.de', 'it''s; (fine)');
INSERT INTO `crm`.`leads` (`mail`, `n`) VALUES ('max@firma.de', 'don\\'t');
COPY public.customers (id, name, email) FROM stdin;
3\tMax Müller\tmax@firma.de
4\t\\N\t\\N
\\.
SELECT 'max@firma.de';
"""


def test_sql_inserts_with_and_without_columns_and_copy_blocks():
    out = io.BytesIO()
    rules = {"customers.name": "name", "public.customers.email": "email",
             "orders.contact": "email", "crm.leads.mail": "email"}
    count = sql_file.rewrite(io.BytesIO(DUMP.encode()), out, rules, "d.sql", T.token)
    text = out.getvalue().decode()
    mail, name = T.token("email", "max@firma.de"), T.token("name", "Max Müller")
    obrien = T.token("name", "O'Brien").replace("'", "''")
    assert f"VALUES (1, '{name}', '{mail}'), (2, '{obrien}', NULL);" in text
    assert f"VALUES (7, '{mail}', 'it''s; (fine)');" in text
    assert f"VALUES ('{mail}', 'don\\'t');" in text
    assert f"3\t{name}\t{mail}\n4\t\\N\t\\N\n\\.\n" in text
    assert "SELECT 'max@firma.de';" in text  # no rule names it: untouched
    assert count == 7 and text.count("\n") == DUMP.count("\n")


def test_sql_statements_sharing_a_line_are_each_read_against_their_own_table():
    dump = ("CREATE TABLE users (id int, email text); INSERT INTO users VALUES (1, "
            "'a@firma.de'); -- two on a line\n"
            "CREATE TABLE notes (id int, body text, email text);\n"
            "INSERT INTO users VALUES (2, 'b@firma.de'); INSERT INTO notes VALUES (3, 'x;y', "
            "'c@firma.de');\n"
            "INSERT INTO users VALUES (4,\n 'd@firma.de'); INSERT INTO `users` (`id`, `email`) "
            "VALUES (5, 'it\\'s; e@firma.de');\n")
    out = io.BytesIO()
    count = sql_file.rewrite(io.BytesIO(dump.encode()), out,
                             {"users.email": "email", "notes.email": "email"}, "d.sql", T.token)
    text = out.getvalue().decode()
    assert count == 5 and "@firma.de" not in text  # none left in clear
    assert "VALUES (3, 'x;y', '" in text  # a column no rule names stays as it was
    # Only the values changed: the rest is byte for byte the dump.
    expected = dump.replace("it\\'s; e@firma.de",
                            T.token("email", "it's; e@firma.de").replace("'", "''"))
    for value in "abcd":
        expected = expected.replace(f"{value}@firma.de", T.token("email", f"{value}@firma.de"))
    assert text == expected


def test_a_custom_format_dump_is_refused_in_one_line():
    with pytest.raises(ConfigError) as exc:
        sql_file.rewrite(io.BytesIO(b"PGDMP\x01\x0e\x00rest"), io.BytesIO(), {"a.b": "email"},
                         "c.dump", T.token)
    assert str(exc.value).startswith("c.dump: a PostgreSQL custom-format dump cannot be "
                                     "pseudonymised; ask for a plain one")


def test_lines_of_a_log_by_shape_and_by_pattern(monkeypatch):
    monkeypatch.setattr(text_file, "CHUNK", 16)
    log = ('login customer="Max Müller" <max@firma.de> from 8.8.4.4 via 10.0.0.1\n'
           "callback +49 30 1234567 on 2024-03-01, iban DE89 3704 0044 0532 0130 00 EUR\n")
    out = io.BytesIO()
    count = text_file.rewrite(io.BytesIO(log.encode()), out, ("email", "ip", "phone", "iban"),
                              {'customer="([^"]+)"': "name"}, T.token)
    text = out.getvalue().decode()
    assert text == (f'login customer="{T.token("name", "Max Müller")}" '
                    f'<{T.token("email", "max@firma.de")}> from {T.token("ip", "8.8.4.4")} '
                    f"via 10.0.0.1\ncallback {T.token('phone', '+49 30 1234567')} on "
                    f"2024-03-01, iban {T.token('iban', 'DE89 3704 0044 0532 0130 00')} EUR\n")
    assert count == 5


def test_json_json_lines_and_yaml_fields():
    doc = {"customers": [{"email": "max@firma.de", "phone": 4930123456, "id": 1},
                         {"email": "anna@firma.de"}], "owner": {"name": "Max Müller"}}
    fields = {"customers.*.email": "email", "customers.0.phone": "phone", "owner.name": "name"}
    for name, raw, load in [("a.json", json.dumps(doc), json.loads),
                            ("a.yaml", yaml.safe_dump(doc), yaml.safe_load),
                            ("a.jsonl", json.dumps(doc) + "\n" + json.dumps(doc) + "\n",
                             lambda t: json.loads(t.splitlines()[1]))]:
        out = io.BytesIO()
        structured_file.rewrite(io.BytesIO(raw.encode()), out, fields, name, T.token)
        got = load(out.getvalue().decode())
        assert got["customers"][0]["email"] == T.token("email", "max@firma.de"), name
        assert got["customers"][1]["email"] == T.token("email", "anna@firma.de")
        assert got["customers"][0]["phone"] == int(T.token("phone", "4930123456"))
        assert got["owner"]["name"] == T.token("name", "Max Müller")
        assert got["customers"][0]["id"] == 1


def test_the_fast_path_and_the_careful_path_write_the_same(monkeypatch):
    rows = [["id", "who", "mail", "iban"]] + [
        [str(i), f"Kunde {i % 9}", f"k{i % 13}@firma.de", "DE89370400440532013000"]
        for i in range(400)]
    data = _rows(rows, ",") + b"1,short\n" + _rows(rows[1:50], ",")  # one short line
    columns = {"who": "name", "mail": "email", "iban": "iban"}
    monkeypatch.setattr(csv_file, "CHUNK", 1000)
    fast, count = _csv(data, columns)
    monkeypatch.setattr(csv_file, "_plain", lambda *args: -1)
    careful, _ = _csv(data, columns)
    assert fast == careful and count == 449 * 3
    assert b"@firma.de" not in fast and b"DE89370400440532013000" not in fast
    assert b"\n1,short\n" in fast
