"""What can be known of a database load without a database: the file's shape.

`repro validate`, `repro plan` and `repro run` (before any engine is asked) check each
`load:` export here, reading it once as a stream, and refuse it with the line PostgreSQL
would give, at the file's line:

- a CSV whose rows do not all have the header's number of fields, a quoted field left
  open at the end, bytes that are not in its `encoding`;
- a `sql:` file that is compressed or an archive (gzip, bzip2, xz, zip, tar) or binary,
  a plain dump whose COPY rows do not match their column list or that ends inside a COPY
  block (a truncated dump loads half without a word), bytes not in the encoding the dump
  declares (`SET client_encoding`);
- a pg_dump custom-format file cut short in its header, or the table of contents of a
  directory-format dump given alone.

What needs the server (types, constraints, unknown tables) is left to the load itself.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from repro.config.yaml_source import display_path
from repro.errors import Problem
from repro.plan.values import LoadPlan

PGDUMP_MAGIC = b"PGDMP"  # pg_dump's custom format starts so
_ARCH_CUSTOM, _ARCH_DIRECTORY = 1, 5  # pg_backup_archiver.h's ArchiveFormat
# PostgreSQL's encoding names (spelled as pg_char_to_encoding compares them: upper case,
# no `-` or `_`) -> Python codecs. SQL_ASCII takes any byte; unknown names are left to it.
_CODECS = {
    "UTF8": "utf-8", "UNICODE": "utf-8", "LATIN1": "latin-1", "LATIN2": "iso8859-2",
    "LATIN3": "iso8859-3", "LATIN4": "iso8859-4", "LATIN5": "iso8859-9",
    "LATIN6": "iso8859-10", "LATIN7": "iso8859-13", "LATIN8": "iso8859-14",
    "LATIN9": "iso8859-15", "LATIN10": "iso8859-16", "ISO88591": "latin-1",
    "ISO88592": "iso8859-2", "ISO88595": "iso8859-5", "ISO88596": "iso8859-6",
    "ISO88597": "iso8859-7", "ISO88598": "iso8859-8", "ISO885915": "iso8859-15",
    "WIN866": "cp866", "WIN874": "cp874", "WIN1250": "cp1250", "WIN1251": "cp1251",
    "WIN1252": "cp1252", "WIN1253": "cp1253", "WIN1254": "cp1254", "WIN1255": "cp1255",
    "WIN1256": "cp1256", "WIN1257": "cp1257", "WIN1258": "cp1258", "KOI8R": "koi8-r",
    "KOI8U": "koi8-u", "EUCJP": "euc_jp", "EUCKR": "euc_kr", "EUCCN": "gb2312",
    "SJIS": "shift_jis", "BIG5": "big5", "GBK": "gbk", "GB18030": "gb18030", "UHC": "cp949",
}
_COMPRESSED = [(b"\x1f\x8b", "gzip-compressed"), (b"BZh", "bzip2-compressed"),
               (b"\xfd7zXZ\x00", "xz-compressed"), (b"PK\x03\x04", "a zip archive")]
_CLIENT_ENCODING = re.compile(rb"^\s*SET\s+client_encoding\s*=\s*'([^']+)'", re.I)
_COPY = re.compile(rb"^COPY\s+\S+(?:\s*\((.*)\))?\s+FROM\s+stdin\b", re.I)


class Refused(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line, self.message = line, message


def check(plan: LoadPlan) -> Problem | None:
    """The first thing in the export that would stop its load, or None."""
    try:
        with plan.source.open("rb") as handle:
            if plan.kind == "csv":
                _csv(handle, plan)
            elif plan.kind == "dump":
                _custom_dump(handle)
            else:
                _sql(handle)
    except Refused as refused:
        return Problem(display_path(plan.source), refused.line, "", f"{refused.message} "
                       f"(loading into service {plan.service}, database {plan.database}; "
                       "nothing ran)")
    except OSError as exc:
        return Problem(display_path(plan.source), None, "", f"cannot read it: "
                       f"{exc.strerror or exc}")
    return None


def codec(encoding: str) -> str | None:
    return _CODECS.get(re.sub(r"[^A-Z0-9]", "", encoding.upper()))


def _decoded(handle: IO[bytes], encoding: str, counter: list[int]) -> Iterator[str]:
    """Lines as text; `counter[0]` is the number of the line last given."""
    name = codec(encoding)
    for number, raw in enumerate(handle, 1):
        counter[0] = number
        if name is None:
            yield raw.decode("latin-1")  # any byte: SQL_ASCII, or left to the server
            continue
        try:
            yield raw.decode(name)
        except UnicodeDecodeError as exc:
            raise _bad_bytes(number, encoding, raw[exc.start:exc.start + 2]) from None


def _bad_bytes(line: int, encoding: str, sample: bytes) -> Refused:
    shown = " ".join(f"0x{b:02x}" for b in sample)
    return Refused(line, f"ERROR: invalid byte sequence for encoding \"{encoding.upper()}\": "
                   f"{shown}; give the file's own encoding (`encoding: LATIN1`, WIN1252...)")


def _fields_differ(line: int, count: int, expected: int, names: list[str], against: str
                   ) -> Refused:
    if count > expected:
        what = "extra data after last expected column"
    else:
        column = names[count].strip().strip('"') if count < len(names) else str(count + 1)
        what = f"missing data for column \"{column}\""
    return Refused(line, f"ERROR: {what}: {count} fields where {against}")


def _csv(handle: IO[bytes], plan: LoadPlan) -> None:
    counter = [0]
    reader = csv.reader(_decoded(handle, plan.encoding, counter), delimiter=plan.delimiter,
                        quotechar='"', doublequote=True, strict=True)
    expected, names, first, start = -1, [], 1, 1
    try:
        for row in reader:
            count = max(len(row), 1)  # an empty line is one empty field to COPY
            if expected < 0:
                expected, names, first = count, row if plan.header else [], start
            elif count != expected:
                raise _fields_differ(start, count, expected, names,
                                     f"line {first} has {expected}")
            start = counter[0] + 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            raise Refused(start, "ERROR: unterminated CSV quoted field: the quote opened "
                          "on this line is never closed") from None
        # Anything else csv is strict about (text after a closing quote) is PostgreSQL's call


def _custom_dump(handle: IO[bytes]) -> None:
    head = handle.read(11)
    if len(head) < 11:
        raise Refused(None, "pg_restore: error: the pg_dump archive ends inside its header: "
                      "the file is truncated")
    if head[10] == _ARCH_DIRECTORY:
        raise Refused(None, "this is the toc.dat of a directory-format dump (pg_dump -Fd), "
                      "which pg_restore needs with its whole folder: dump with -Fc (one "
                      "file) or as plain SQL")
    if head[10] != _ARCH_CUSTOM:
        raise Refused(None, f"pg_restore: error: unrecognised archive format {head[10]} in "
                      "the file header; give pg_dump -Fc output or plain SQL")


def _sql(handle: IO[bytes]) -> None:
    head = handle.read(512)
    for magic, what in _COMPRESSED:
        if head.startswith(magic):
            raise Refused(None, f"this `sql:` file is {what}, not SQL text: unpack it and "
                          "load the .sql, or give pg_dump -Fc output")
    if head[257:262] == b"ustar":
        raise Refused(None, "this `sql:` file is a tar archive (pg_dump -Ft?), not SQL text: "
                      "give pg_dump -Fc output or plain SQL")
    handle.seek(0)
    codec_name: str | None = None
    encoding = ""
    copy_at, columns = 0, -1
    names: list[str] = []
    number = 0
    for number, raw in enumerate(handle, 1):
        if b"\x00" in raw:
            raise Refused(number, "binary data (a NUL byte), not SQL text: give plain SQL or "
                          "pg_dump -Fc output")
        if codec_name is not None:
            try:
                raw.decode(codec_name)
            except UnicodeDecodeError as exc:
                raise _bad_bytes(number, encoding, raw[exc.start:exc.start + 2]) from None
        if copy_at:
            if raw.rstrip(b"\r\n") == b"\\.":
                copy_at = 0
            elif columns >= 0:
                count = raw.rstrip(b"\r\n").count(b"\t") + 1
                if count != columns:
                    raise _fields_differ(number, count, columns, names, f"the COPY of line "
                                         f"{copy_at} lists {columns} columns")
            continue
        declared = _CLIENT_ENCODING.match(raw)
        if declared:
            encoding = declared.group(1).decode("ascii", "replace")
            codec_name = codec(encoding)
        copy = _COPY.match(raw)
        if copy:
            copy_at = number
            listed = copy.group(1)
            names = listed.decode("utf-8", "replace").split(",") if listed else []
            columns = len(names) if listed else -1
    if copy_at:
        raise Refused(copy_at, "the dump ends inside this COPY block (no `\\.` line): the "
                      "file is truncated, and psql would load it half without a word")


def file_problem(source: Path) -> str:
    """Why a load's path is not a file it can load."""
    if source.is_dir():
        return (f"{display_path(source)} is a folder: a load takes one file (plain SQL, "
                "pg_dump -Fc output or CSV)")
    return f"{display_path(source)} not found"
