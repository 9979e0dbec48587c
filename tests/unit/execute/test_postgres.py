"""Loading customer data and running queries with psql/pg_restore, with a stand-in for
the service container."""

from __future__ import annotations

import re

import pytest

from repro.errors import ConfigError, SandboxError
from repro.execute import postgres
from repro.plan.values import LoadPlan, QueryPlan
from repro.sandbox.api import Status

from ..conftest import errors_of
from ..fake_backend import Answer, FakeContainer

# ---- repro.execute.postgres, with a stand-in for the service container ------------------------


class FakeService(FakeContainer):
    """A service container answering each exec (psql) with a canned result."""

    def __init__(self, *answers: tuple[int, str, str]):
        super().__init__("repro-run-db", "db", status=Status.RUNNING)
        if answers:
            self.answer("", *(Answer(code, out, err) for code, out, err in answers))

    @property
    def copied(self) -> dict[str, bytes]:
        return self.files

    @property
    def runs(self) -> list[tuple[list[str], str | None]]:
        return [(list(request.argv), request.user) for request in self.execs]


def load_plan(project, name: str, body: bytes, kind: str, **options) -> LoadPlan:
    path = project.write(f"scenarios/S/customer/{name}", body)
    return LoadPlan("db", kind, path, options.pop("database", "billing"),
                    options.pop("user", "billing"), **options)


def test_a_sql_dump_is_copied_in_and_run_with_psql(project):
    body = b"CREATE TABLE t (a int);\n"
    plan = load_plan(project, "billing.sql", body, "sql")
    service = FakeService()
    postgres.load(service, plan, 3)
    assert service.copied == {"/tmp/repro-load/03.sql": body}
    assert service.runs == [(["psql", "-v", "ON_ERROR_STOP=1", "-X", "-q", "-U", "billing",
                              "-d", "billing", "-f", "/tmp/repro-load/03.sql"],
                             "postgres")]
    assert plan.source.read_bytes() == body  # the customer's file is only read


def test_a_custom_format_dump_is_restored_with_pg_restore(project):
    plan = load_plan(project, "billing.dump", b"PGDMP\x01", "dump")
    service = FakeService()
    postgres.load(service, plan, 0)
    assert service.runs == [(["pg_restore", "--exit-on-error", "--no-owner", "-U", "billing",
                              "-d", "billing", "/tmp/repro-load/00.dump"], "postgres")]


def test_a_csv_is_loaded_with_copy_and_its_options(project):
    plan = load_plan(project, "customers.csv", b"1;a\n", "csv", table="public.customers",
                     delimiter=";", header=False, encoding="LATIN1")
    service = FakeService()
    postgres.load(service, plan, 1)
    assert service.runs == [(["psql", "-v", "ON_ERROR_STOP=1", "-X", "-q", "-U", "billing",
                              "-d", "billing", "-c",
                              "\\copy public.customers FROM '/tmp/repro-load/01.csv' "
                              "WITH (FORMAT csv, HEADER false, DELIMITER ';', ENCODING "
                              "'LATIN1')"], "postgres")]


def test_a_csv_whose_name_has_a_quote_is_still_found(project):
    plan = load_plan(project, "O'Brien.csv", b"1;a\n", "csv", table="t", delimiter=";")
    service = FakeService()
    postgres.load(service, plan, 1)
    (copied,) = service.copied
    command = service.runs[0][0][-1]
    literal = re.search(r"FROM '((?:[^']|'')*)'", command)
    assert literal is not None and literal.group(1).replace("''", "'") == copied, command


SQL_ERROR = ('psql:/tmp/repro-load/00-x.sql:5: ERROR:  invalid input syntax for type integer: '
             '"oops"\nLINE 1: INSERT INTO t VALUES (\'oops\');\n'
             '                              ^\n')


def test_a_failing_sql_line_is_named(project):
    plan = load_plan(project, "x.sql", b"-- x\n" * 5, "sql")
    with pytest.raises(ConfigError) as exc:
        postgres.load(FakeService((3, "", SQL_ERROR)), plan, 0)
    assert errors_of(exc) == ['scenarios/S/customer/x.sql:5: ERROR: invalid input syntax for '
                              'type integer: "oops" (loading into service db, database '
                              'billing; nothing ran)']


def test_a_notice_before_the_error_does_not_hide_it(project):
    # `DROP TABLE IF EXISTS` (line 2) prints a NOTICE: the error is the line that stopped.
    plan = load_plan(project, "x.sql", b"-- x\n" * 5, "sql")
    err = 'psql:/tmp/repro-load/00-x.sql:2: NOTICE:  table "t" does not exist, skipping\n' \
        + SQL_ERROR
    with pytest.raises(ConfigError) as exc:
        postgres.load(FakeService((3, "", err)), plan, 0)
    assert errors_of(exc) == ['scenarios/S/customer/x.sql:5: ERROR: invalid input syntax for '
                              'type integer: "oops" (loading into service db, database '
                              'billing; nothing ran)']


def test_a_bad_row_of_a_copy_block_is_named_by_its_own_line(project):
    dump = b"CREATE TABLE t2 (a int);\nCOPY t2 (a) FROM stdin;\n1\n2\nzz\n4\n\\.\nSELECT 1;\n"
    plan = load_plan(project, "c.sql", dump, "sql")
    err = ('psql:/tmp/repro-load/00-c.sql:7: ERROR:  invalid input syntax for type integer: '
           '"zz"\nCONTEXT:  COPY t2, line 3, column a: "zz"\n')
    with pytest.raises(ConfigError) as exc:
        postgres.load(FakeService((3, "", err)), plan, 0)
    assert errors_of(exc) == ['scenarios/S/customer/c.sql:5: ERROR: invalid input syntax for '
                              'type integer: "zz" (loading into service db, database billing; '
                              'nothing ran)']


def test_a_bad_csv_row_is_named_by_its_line(project):
    plan = load_plan(project, "c.csv", b"id;name\n1;a\n2;b;c\n", "csv", table="c",
                     delimiter=";")
    err = 'ERROR:  extra data after last expected column\nCONTEXT:  COPY c, line 3: "2;b;c"\n'
    with pytest.raises(ConfigError) as exc:
        postgres.load(FakeService((1, "", err)), plan, 0)
    assert errors_of(exc) == ["scenarios/S/customer/c.csv:3: ERROR: extra data after last "
                              "expected column (loading into service db, database billing; "
                              "nothing ran)"]


def test_a_pg_restore_failure_says_what_failed(project):
    plan = load_plan(project, "b.dump", b"PGDMP\x01", "dump")
    err = ('pg_restore: error: could not execute query: ERROR:  relation "c" already exists\n'
           'Command was: CREATE TABLE public.c (\n    id integer,\n    name text\n);\n\n\n')
    with pytest.raises(ConfigError) as exc:
        postgres.load(FakeService((1, "", err)), plan, 0)
    (message,) = errors_of(exc)
    assert message.startswith("scenarios/S/customer/b.dump: ")
    assert 'relation "c" already exists' in message, message


def test_a_service_without_psql_is_a_sandbox_error(project):
    plan = load_plan(project, "x.sql", b"SELECT 1;\n", "sql")
    with pytest.raises(SandboxError) as exc:
        postgres.load(FakeService((127, "", "sh: psql: not found\n")), plan, 0)
    assert str(exc.value) == ("service db has no psql: loading scenarios/S/customer/x.sql "
                              "needs a PostgreSQL image")


def test_a_query_returns_csv_or_the_error_as_an_observation():
    plan = QueryPlan("totals", "db", "SELECT a FROM t", "billing", "reader")
    service = FakeService((0, "a\n1\n", ""))
    assert postgres.query(service, plan) == ("a\n1\n", None)
    assert service.runs == [(["psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-U",
                              "reader", "-d", "billing", "-c", "SELECT a FROM t"], "postgres")]
    err = 'ERROR:  column "nope" does not exist\nLINE 1: select nope from t\n        ^\n'
    assert postgres.query(FakeService((1, "", err)), plan) == (
        "", 'ERROR: column "nope" does not exist LINE 1: select nope from t ^')
    assert postgres.query(FakeService((2, "", "")), plan) == ("", "psql exited 2")


@pytest.mark.parametrize("reported, row, expected", [
    (7, 3, 5),    # the third data row of the block that ends on line 7
    (7, 1, 3),
    (12, 2, 11),  # the second COPY block
    (1, 1, 1),    # no COPY above the reported line: keep what psql said
])
def test_copy_row_line(tmp_path, reported, row, expected):
    dump = tmp_path / "d.sql"
    dump.write_bytes(b"SET x = 1;\nCOPY a (x) FROM stdin;\n1\n2\nzz\n4\n\\.\n"
                     b"-- next\nCOPY b (y) FROM stdin;\nq\nbad\n\\.\n")
    assert postgres._copy_row_line(dump, reported, row) == expected
