"""Load customer exports into a PostgreSQL service, and read its state back, with psql."""

from __future__ import annotations

import io
import posixpath
import re
from pathlib import Path

from repro import tarball
from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem, SandboxError
from repro.hashing import Reading
from repro.plan.values import LoadPlan, QueryPlan
from repro.sandbox.api import Container, ExecRequest

INBOX = "/tmp/repro-load"
_PSQL_LINE = re.compile(r"^psql:[^:]+:(\d+): (.*)$", re.M)
_COPY_LINE = re.compile(r"CONTEXT:\s+COPY [^,]+, line (\d+)")


def _put(container: Container, source: Path, name: str) -> str:
    """Copy one customer file into the service (a copy: the original is only read)."""
    buf = io.BytesIO()
    with tarball.writer(buf) as tar, Reading(source) as body:  # hashed for the access log
        tarball.add_stream(tar, posixpath.join(INBOX.lstrip("/"), name), body,
                           body.stat.st_size)
    container.copy_in(buf.getvalue())
    return posixpath.join(INBOX, name)


def _run(container: Container, argv: list[str], user: str) -> tuple[int, str, str]:
    out, err = io.BytesIO(), io.BytesIO()
    result = container.exec(ExecRequest(tuple(argv), user=user, label=f"{argv[0]} in its "
                                        "service"), out, err)
    code = -1 if result.exit_code is None else result.exit_code
    return code, out.getvalue().decode("utf-8", "replace"), \
        err.getvalue().decode("utf-8", "replace")


def load(container: Container, plan: LoadPlan, index: int) -> None:
    """Raise ConfigError naming the export's file and line when it does not load."""
    shown = display_path(plan.source)
    # A plain name inside the service: the customer's file name may hold quotes.
    target = _put(container, plan.source, f"{index:02d}{plan.source.suffix}")
    base = ["-v", "ON_ERROR_STOP=1", "-X", "-q", "-U", plan.user, "-d", plan.database]
    if plan.kind == "dump":
        argv = ["pg_restore", "--exit-on-error", "--no-owner", "-U", plan.user, "-d",
                plan.database, target]
    elif plan.kind == "sql":
        argv = ["psql", *base, "-f", target]
    else:
        options = (f"FORMAT csv, HEADER {str(plan.header).lower()}, DELIMITER "
                   f"'{plan.delimiter}', ENCODING '{plan.encoding}'")
        argv = ["psql", *base, "-c", f"\\copy {plan.table} FROM '{target}' WITH ({options})"]
    code, _, err = _run(container, argv, "postgres")
    if code != 0 and plan.create_database and _missing_database(err, plan.database):
        _create_database(container, plan)  # nothing ran: the load is tried again
        code, _, err = _run(container, argv, "postgres")
    if code == 0:
        return
    if code == 127 or "executable file not found" in err:
        raise SandboxError(f"service {plan.service} has no {argv[0]}: loading {shown} needs "
                           "a PostgreSQL image")
    rows = err.strip().splitlines()
    # The first ERROR/FATAL line, not a NOTICE before it nor pg_restore's echo of the SQL
    message = next((row for row in rows if re.search(r"\b(ERROR|FATAL|error):", row)),
                   rows[-1] if rows else f"exit {code}")
    line = None
    found = next((m for m in _PSQL_LINE.finditer(err)
                  if re.match(r"\s*(ERROR|FATAL)", m.group(2))), None)
    if found:
        line, message = int(found.group(1)), found.group(2)
    copied = _COPY_LINE.search(err)
    if copied and plan.kind == "csv":  # \copy of a CSV: the line within that file
        line = int(copied.group(1))
        message = next((row for row in err.splitlines() if "ERROR" in row), message)
    elif copied and line is not None:  # a COPY block of a dump: psql names its end
        line = _copy_row_line(plan.source, line, int(copied.group(1)))
    message = re.sub(r"^(psql|pg_restore):\s*([^:]*:(\d+:)?\s*)?(?=\w)", "", message)
    message = re.sub(r"\s+", " ", message).strip()
    raise ConfigError(Problem(shown, line, "", f"{message} (loading into service "
                              f"{plan.service}, database {plan.database}; nothing ran)"))


def _missing_database(err: str, database: str) -> bool:
    return f'database "{database}" does not exist' in err


def _create_database(container: Container, plan: LoadPlan) -> None:
    """Create the load's database owned by its user, as the superuser when there is one
    (the load's user may not have CREATEDB), else as the load's user."""
    err = ""
    for admin in dict.fromkeys(("postgres", plan.user)):
        code, _, err = _run(container, ["createdb", "-U", admin, "-O", plan.user, "--",
                                        plan.database], "postgres")
        if code == 0 or "already exists" in err:  # another load made it meanwhile
            return
    message = re.sub(r"\s+", " ", err.strip()).removeprefix("createdb: error: ")
    raise ConfigError(Problem(display_path(plan.source), None, "", f"database "
                              f"{plan.database} does not exist and creating it failed: "
                              f"{message} (service {plan.service}; set `create_database: "
                              "false` on the load to leave it to the dump; nothing ran)"))


def _copy_row_line(dump: Path, reported: int, row: int) -> int:
    """The dump line of the `row`-th data row of the COPY block psql reported at its end."""
    with dump.open("rb") as handle:
        lines = handle.read().split(b"\n")[:reported]
    for index in range(len(lines) - 1, -1, -1):
        if lines[index].startswith(b"COPY "):
            return index + 1 + row
    return reported


def query(container: Container, plan: QueryPlan) -> tuple[str, str | None]:
    """(CSV text, error or None): a failing query is an observation, not a crash."""
    argv = ["psql", "-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-U", plan.user, "-d",
            plan.database, "-c", plan.sql]
    code, out, err = _run(container, argv, "postgres")
    if code != 0:
        return out, re.sub(r"\s+", " ", err.strip()) or f"psql exited {code}"
    return out, None
