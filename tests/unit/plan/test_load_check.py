"""Database exports checked without a server: `repro validate` says what the load would."""

from __future__ import annotations

import gzip

import pytest

SCENARIO = """\
environment: svc
load:
  - {{service: db, {key}: customer/{name}, table: t, database: billing{extra}}}
steps: [{{name: s, run: "true"}}]
oracle: {{any: [{{step: s, failed: true}}]}}
"""
ENV = """\
image: busybox
services:
  db: {image: "postgres:16"}
"""
TAIL = "(loading into service db, database billing; nothing ran)"
DUMP_HEAD = "SET client_encoding = 'UTF8';\nCOPY public.t (id, name, total) FROM stdin;\n"

CORPUS = [
    ("csv extra column", "csv", "c.csv", b"id;name\n1;a\n2;b;c\n", ", delimiter: ';'", 3,
     "ERROR: extra data after last expected column: 3 fields where line 1 has 2"),
    ("csv missing column", "csv", "c.csv", b"id,name,total\n1,a,2\n2,b\n", "", 3,
     'ERROR: missing data for column "total": 2 fields where line 1 has 3'),
    ("csv open quote", "csv", "c.csv", b'id,name\n1,"a\n2,b\n', "", 2,
     "ERROR: unterminated CSV quoted field"),
    ("csv not utf-8", "csv", "c.csv", b"id,name\n1,Caf\xe9 M\xfcller\n", "", 2,
     'ERROR: invalid byte sequence for encoding "UTF8": 0xe9 0x20'),
    ("csv not win1252", "csv", "c.csv", b"id,name\n1,a\x81\n", ", encoding: WIN1252", 2,
     'ERROR: invalid byte sequence for encoding "WIN1252": 0x81'),
    ("gzip as sql", "sql", "d.sql", gzip.compress(b"SELECT 1;\n"), "", None,
     "this `sql:` file is gzip-compressed, not SQL text"),
    ("binary sql", "sql", "d.sql", b"CREATE TABLE t (a int);\n\x00\x01\x02\n", "", 2,
     "binary data (a NUL byte), not SQL text"),
    ("copy row too long", "sql", "d.sql", (DUMP_HEAD + "1\ta\t2\t9\n\\.\n").encode(), "", 3,
     "ERROR: extra data after last expected column: 4 fields where the COPY of line 2 lists "
     "3 columns"),
    ("copy row too short", "sql", "d.sql", (DUMP_HEAD + "1\ta\t2\n2\tb\n\\.\n").encode(), "", 4,
     'ERROR: missing data for column "total": 2 fields where the COPY of line 2 lists 3'),
    ("truncated dump", "sql", "d.sql", (DUMP_HEAD + "1\ta\t2\n").encode(), "", 2,
     "the dump ends inside this COPY block (no `\\.` line): the file is truncated"),
    ("dump not utf-8", "sql", "d.sql", (DUMP_HEAD.encode() + b"1\tM\xfcller\t2\n\\.\n"), "", 3,
     'ERROR: invalid byte sequence for encoding "UTF8": 0xfc 0x6c'),
    ("custom dump cut", "sql", "d.dump", b"PGDMP\x01\x0e", "", None,
     "pg_restore: error: the pg_dump archive ends inside its header"),
    ("directory toc", "sql", "toc.dat", b"PGDMP\x01\x0e\x00\x04\x08\x05", "", None,
     "this is the toc.dat of a directory-format dump (pg_dump -Fd)"),
]


@pytest.mark.parametrize("what,key,name,content,extra,line,message", CORPUS,
                         ids=[c[0] for c in CORPUS])
def test_a_load_that_cannot_work_is_one_line_before_any_engine(
        project, cli, what, key, name, content, extra, line, message):
    project.environment("svc", ENV)
    project.scenario("S", SCENARIO.format(key=key, name=name, extra=extra))
    project.write(f"scenarios/S/customer/{name}", content)
    for command in ("validate", "plan"):
        result = cli(command, "scenarios/S")
        assert result.exit_code == 2, result.stdout
        shown = [x.removeprefix("repro: error: ") for x in result.stderr.splitlines()
                 if "scenarios/S/customer/" in x]
        assert len(shown) == 1 and "Traceback" not in result.stderr
        where = f"scenarios/S/customer/{name}" + (f":{line}: " if line else ": ")
        assert shown[0].startswith(where + message), shown[0]
        assert shown[0].endswith(TAIL) and "\n" not in shown[0]


def test_well_formed_exports_pass(project, cli):
    project.environment("svc", ENV)
    project.scenario("S", SCENARIO.format(key="csv", name="c.csv", extra=", encoding: LATIN1")
                     .replace("load:\n", "load:\n  - {service: db, sql: customer/d.sql}\n"))
    project.write("scenarios/S/customer/c.csv", b'id,name\n1,"Caf\xe9\n2nd line, quoted"\n2,b\n')
    project.write("scenarios/S/customer/d.sql", (DUMP_HEAD + "1\ta\t2\n\\.\nSELECT 1;\n")
                  .encode())
    result = cli("validate", "scenarios/S")
    assert result.exit_code == 0, result.stderr


def test_a_folder_given_as_a_load_says_so(project, cli):
    project.environment("svc", ENV)
    project.scenario("S", SCENARIO.format(key="sql", name="dumpdir", extra=""))
    (project.root / "scenarios/S/customer/dumpdir").mkdir(parents=True)
    result = cli("validate", "scenarios/S")
    assert result.exit_code == 2
    assert "load[0].sql: scenarios/S/customer/dumpdir is a folder: a load takes one file" in \
        result.stderr
