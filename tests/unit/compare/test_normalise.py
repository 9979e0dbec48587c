"""The rulebook: masks, replacements, ignored fields and columns, sorted lines, channel globs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from repro.compare.channels import Channel, from_record
from repro.compare.normalise import Normal, Rulebook
from repro.config.model import MASKS, Rule
from repro.config.schema import build
from repro.config.yaml_source import parse_yaml
from repro.errors import ConfigError
from repro.plan.values import CapturePlan
from repro.results import reader

UUID = "123e4567-e89b-12d3-a456-426614174000"
CONTAINER = "4f3c2b1a9d8e" + "0123456789abcdef" * 3 + "5a6b"  # 64 hex digits


def masked(text: str, *masks: str, channel: str = "steps.app.stdout") -> str:
    return Rulebook([Rule(mask=m) for m in masks]).text_rules(channel, text)


def normal(tmp_path: Path, name: str, kind: str, content: str | bytes,
           capture: CapturePlan | None = None, rules: list[Rule] | None = None) -> Normal:
    path = tmp_path / f"{name.replace('/', '_')}.{len(list(tmp_path.iterdir()))}"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return Rulebook(rules or []).normalise(Channel(name, kind, path=path, capture=capture))


def sha(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


# ---- built-in masks --------------------------------------------------------------------


@pytest.mark.parametrize(("mask", "line", "expected"), [
    ("iso8601", "2024-03-05T14:22:01Z started, done 2024-03-05T14:22:09.5Z",
     "<timestamp> started, done <timestamp>"),
    ("iso8601", "at 2024-03-05T14:22:01.123456+02:00.", "at <timestamp>."),
    ("iso8601", "2024-03-05 14:22:01,123 INFO ready", "<timestamp> INFO ready"),
    ("iso8601", "since 2024-03-05T14:22:01+0200 (2024-03-05 14:22)",
     "since <timestamp> (<timestamp>)"),
    ("log-timestamp", '10.0.0.1 - - [05/Mar/2024:14:22:01 +0000] "GET / HTTP/1.1" 200',
     '10.0.0.1 - - [<timestamp>] "GET / HTTP/1.1" 200'),
    ("log-timestamp", "Mar  5 14:22:01 sandbox cron: Mar 15 04:02:59 next",
     "<timestamp> sandbox cron: <timestamp> next"),
    ("log-timestamp", "elapsed 00:00:03.250, at 14:22:01", "elapsed <time>, at <time>"),
    ("uuid", f"request {UUID} of {UUID.upper()}", "request <uuid> of <uuid>"),
    ("container-id", f"Container {CONTAINER} started as 4f3c2b1a9d8e",
     "Container <container> started as <container>"),
    ("hex-id", "commit 3f2a9c1d (HEAD), blob 0123456789abcdef0123",
     "commit <hex> (HEAD), blob <hex>"),
    ("duration", "took 150ms, 1.5 s, 12 seconds, 2 min, 3h, 40µs and 7ns",
     "took <duration>, <duration>, <duration>, <duration>, <duration>, <duration> and "
     "<duration>"),
    ("tmp-path", "wrote /tmp/tmp.aB3xYz/report-1.csv and /var/tmp/cache_9 ok",
     "wrote <tmp> and <tmp> ok"),
    ("pid", "worker pid=4242 (PID: 17) sshd[4242]: Accepted",
     "worker pid=<pid> (PID: <pid>) sshd[<pid>]: Accepted"),
    ("hostname", "connected to sandbox:5432 in repro-ACME-4521-20240305T142201Z-a1b2",
     "connected to sandbox:5432 in <host>"),
])
def test_each_mask_on_realistic_lines(mask: str, line: str, expected: str) -> None:
    assert masked(line, mask) == expected


def test_masks_leave_ordinary_text_alone() -> None:
    text = ("version 1.4.3 on port 8080, build 20240305, release date 2024-03-05\n"
            "processed 500 items in 3 batches; ratio 3:2 at 10.0.0.1:8080\n"
            "3 sheep, 1 s3 bucket, 5 m of cable, MAC 00:11:22:33:44:55\n"
            "sandboxes in /tmpfoo, rapid=3, spids 4, words like deadbeef and 12345678\n")
    assert masked(text, *MASKS) == text


def test_container_id_mask_leaves_a_plain_twelve_digit_number_alone() -> None:
    # A byte count is not a container id; masking it also breaks JSON (`"size": <container>`).
    assert masked("uploaded 123456789012 bytes", "container-id") == \
        "uploaded 123456789012 bytes"


def test_time_masks_in_either_order_leave_no_date_behind() -> None:
    text = "at 2024-03-05T14:22:01Z\n2024-03-05 14:22:01,123 INFO ready\n"
    want = "at <timestamp>\n<timestamp> INFO ready\n"
    assert masked(text, "iso8601", "log-timestamp") == want
    assert masked(text, "log-timestamp", "iso8601") == want


# ---- replace, sort_lines, channel globs ------------------------------------------------


def test_replace_with_backreferences_multiline_anchors_and_default() -> None:
    book = Rulebook([
        Rule(replace=r"(\w+)@(\w+)\.example", with_=r"\2 user \1"),
        Rule(replace=r"(?P<key>\w+)_id=\d+", with_=r"\g<key>_id=N"),
        Rule(replace=r"^DEBUG .*$"),
        Rule(mask="uuid"),
        Rule(replace="<uuid>", with_="ID"),  # rules apply in order: it sees the mask's output
    ])
    text = f"login bob@acme.example\nDEBUG cache {UUID}\nuser_id=17 order_id=9 {UUID}\n"
    assert book.text_rules("steps.app.stdout", text) == \
        "login acme user bob\n<masked>\nuser_id=N order_id=N ID\n"


def test_a_bad_replacement_template_is_a_config_error() -> None:
    # `with: C:\path` is a regex template with a bad escape: the user must hear it as a
    # config problem, not as an internal error after the whole run.
    with pytest.raises(ConfigError, match=r"with: invalid replacement 'C:.*bad escape"):
        rule = build(Rule, parse_yaml("replace: 'D:\\\\data'\nwith: 'C:\\path'\n", "s.yaml"))
        Rulebook([rule]).text_rules("steps.app.stdout", "saved to D:\\data\n")


def test_sort_lines_keeps_every_line() -> None:
    book = Rulebook([Rule(sort_lines=True)])
    assert book.text_rules("steps.app.stdout", "c\na\n\nb\n") == "\na\nb\nc\n"
    assert book.text_rules("steps.app.stdout", "b\na").splitlines() == ["a", "b"]


def test_rules_apply_only_to_the_channels_their_globs_name() -> None:
    book = Rulebook([
        Rule(mask="uuid", channels=["steps.*.stderr"]),
        Rule(replace="secret", with_="***", channels=["files.app.log", "steps.build.stdout"]),
        Rule(sort_lines=True, channels=["files.logs/*"]),
    ])
    text = f"b secret {UUID}\na\n"
    got = {name: book.text_rules(name, text) for name in [
        "steps.build.stderr", "steps.build.stdout", "files.app.log", "files.app.log.1",
        "files.logs/x.log", "files.logs"]}
    assert got == {
        "steps.build.stderr": "b secret <uuid>\na\n",
        "steps.build.stdout": f"b *** {UUID}\na\n",
        "files.app.log": f"b *** {UUID}\na\n",
        "files.app.log.1": text,
        "files.logs/x.log": f"a\nb secret {UUID}\n",
        "files.logs": text,
    }


# ---- JSON and YAML ---------------------------------------------------------------------


def test_json_becomes_sorted_key_json_with_ignored_fields(tmp_path: Path) -> None:
    doc = {"total": 10.5, "meta": {"generated_at": "x", "host": "h"},
           "items": [{"id": 1, "n": 2}, {"id": 3, "n": 4}], "tags": ["a", "b", "c"]}
    rules = [Rule(ignore_fields=["meta.generated_at", "items.*.id", "tags.1"]),
             Rule(ignore_fields=["nothing.here", "items.9.n", "total.x", "tags.x"]),
             Rule(ignore_fields=["total"], channels=["files.other.json"])]
    got = normal(tmp_path, "files.out.json", "json", json.dumps(doc), rules=rules)
    assert (got.kind, got.note) == ("json", None)
    assert got.text == """\
{
  "items": [
    {
      "id": "<ignored>",
      "n": 2
    },
    {
      "id": "<ignored>",
      "n": 4
    }
  ],
  "meta": {
    "generated_at": "<ignored>",
    "host": "h"
  },
  "tags": [
    "a",
    "<ignored>",
    "c"
  ],
  "total": 10.5
}
"""
    every = normal(tmp_path, "files.out.json", "json", json.dumps(doc),
                   rules=[Rule(ignore_fields=["*"])])
    assert json.loads(every.text) == dict.fromkeys(doc, "<ignored>")


def test_yaml_becomes_json_and_takes_the_same_rules(tmp_path: Path) -> None:
    got = normal(tmp_path, "files.out.yaml", "yaml",
                 "run: 7731\nwhen: 2024-03-05\nitems:\n  - {id: a1, n: 1}\n",
                 rules=[Rule(ignore_fields=["run", "items.*.id"])])
    assert json.loads(got.text) == {"run": "<ignored>", "when": "2024-03-05",
                                    "items": [{"id": "<ignored>", "n": 1}]}


@pytest.mark.parametrize(("kind", "content", "note"), [
    ("json", '{"a": 1,}\n',
     "not valid JSON (line 1: Expecting property name enclosed in double quotes): "
     "compared as text"),
    ("json", "", "not valid JSON (line 1: Expecting value): compared as text"),
    ("yaml", "a: 1\n  b: 2\n",
     "not valid YAML (mapping values are not allowed here): compared as text"),
])
def test_invalid_structured_content_is_compared_as_text(tmp_path: Path, kind: str,
                                                        content: str, note: str) -> None:
    got = normal(tmp_path, f"files.out.{kind}", kind, content)
    assert (got.kind, got.text, got.note) == ("text", content, note)


# ---- CSV and TSV -----------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "capture", "content", "expected"), [
    ("csv", CapturePlan("out.csv", "/o.csv", key=("id",)),
     "id,amount,stamp\n2,20,x\n1,10.5,y\n10,1,z\n", "id,amount\n1,10.5\n10,1\n2,20\n"),
    ("csv", CapturePlan("out.csv", "/o.csv", key=("region", "id")),
     "id,region,stamp\n1,eu,x\n2,ap,y\n1,ap,z\n", "id,region\n1,ap\n2,ap\n1,eu\n"),
    ("csv", CapturePlan("out.csv", "/o.csv", ordered=False),
     'id,note,stamp\n2,b,x\n1,"a, b",y\n', 'id,note\n1,"a, b"\n2,b\n'),
    ("csv", CapturePlan("out.csv", "/o.csv"), "id,note\n2,b\n1,a\n3\n", "id,note\n2,b\n1,a\n3,\n"),
    ("csv", None, "", "\n"),
    ("tsv", CapturePlan("out.tsv", "/o.tsv", key=("id",)),
     "id\tname\tstamp\n2\tb, c\tx\n1\ta\ty\n", "id\tname\n1\ta\n2\tb, c\n"),
])
def test_tables_are_reserialised_sorted_by_key_without_ignored_columns(
        tmp_path: Path, kind: str, capture: CapturePlan | None, content: str,
        expected: str) -> None:
    got = normal(tmp_path, f"files.out.{kind}", kind, content, capture,
                 rules=[Rule(ignore_columns=["stamp", "missing"])])
    assert (got.kind, got.text) == (kind, expected)
    assert got.key == (capture.key if capture else ())


def test_a_table_without_its_key_column_is_compared_as_text(tmp_path: Path) -> None:
    # The product dropping a column is a divergence to show, not a configuration error.
    got = normal(tmp_path, "files.out.csv", "csv", "id,amount\n1,2\n",
                 CapturePlan("out.csv", "/o.csv", key=("invoice",)))
    assert (got.kind, got.text) == ("text", "id,amount\n1,2\n")
    assert got.note == "key column 'invoice' is not in the header (id, amount): compared as text"


def test_ignoring_the_key_column_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'id'"):
        normal(tmp_path, "files.out.csv", "csv", "id,amount\n1,2\n",
               CapturePlan("out.csv", "/o.csv", key=("id",)),
               rules=[Rule(ignore_columns=["id"])])


# ---- what a Normal holds ---------------------------------------------------------------


def test_normal_keeps_both_hashes_the_size_and_the_capture_options(tmp_path: Path) -> None:
    raw = f"req {UUID}\n\xff".encode("latin-1")  # not UTF-8 at the end
    text = normal(tmp_path, "steps.app.stdout", "text", raw, rules=[Rule(mask="uuid")])
    assert (text.kind, text.text, text.value) == ("text", "req <uuid>\n\ufffd", None)
    assert (text.sha256, text.raw_sha256, text.size) == (sha("req <uuid>\n\ufffd"), sha(raw), 42)
    capture = CapturePlan("out.json", "/o.json", tolerance=0.5)
    doc = normal(tmp_path, "files.out.json", "json", '{"b": 1, "a": 2}', capture)
    assert (doc.text, doc.sha256, doc.tolerance) == \
        ('{\n  "a": 2,\n  "b": 1\n}\n', sha('{\n  "a": 2,\n  "b": 1\n}\n'), 0.5)
    blob = normal(tmp_path, "files.core", "binary", b"\0\1\2", rules=[Rule(replace=".")])
    assert (blob.text, blob.sha256, blob.raw_sha256, blob.size) == \
        (None, sha(b"\0\1\2"), sha(b"\0\1\2"), 3)
    code = Rulebook([]).normalise(Channel("steps.app.exit_code", "exit_code", 3))
    assert (code.value, code.text, code.sha256, code.raw_sha256) == (3, None, sha("3"), None)


def test_channels_of_a_record_in_order_with_their_kinds(tmp_path: Path) -> None:
    def put(rel: str, data: bytes) -> str:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
        return rel

    cut = b"x" * 8191 + "é".encode()  # a character cut by the 8 KiB sniffing window
    record = {
        "steps": [
            {"name": "build", "status": "ok", "exit_code": 0,
             "stdout_file": put("s/build.out", b"ok\n"), "stderr_file": "s/build.err"},
            {"name": "test", "status": "failed", "exit_code": 2,
             "stdout_file": put("s/test.out", b"\x89PNG\0"),
             "stderr_file": put("s/test.err", b"caf\xe9 au lait\n")},
            {"name": "serve", "status": "timed_out", "exit_code": None,
             "stdout_file": put("s/serve.out", cut), "stderr_file": None},
            {"name": "deploy", "status": "skipped", "exit_code": None,
             "stdout_file": None, "stderr_file": None},
        ],
        "captures": [
            {"name": "out.json", "exists": True, "kind": "file",
             "artifact": put("c/out.json", b"{}")},
            {"name": "rows.txt", "exists": True, "kind": "file",
             "artifact": put("c/rows.txt", b"a,b\n")},
            {"name": "core", "exists": False, "kind": None, "artifact": None},
            {"name": "logs", "exists": True, "kind": "dir", "artifact": "c/logs"},
        ],
    }
    put("c/logs/z.yml", b"a: 1\n")
    put("c/logs/sub/a.TSV", b"a\tb\n")
    put("c/logs/sub/dump", b"\0")
    rows = CapturePlan("rows.txt", "/rows.txt", type="csv")
    got = [(c.name, c.kind, c.value, c.capture) for c in
           from_record(reader.from_dict(record, tmp_path), {"rows.txt": rows})]
    assert got == [
        ("steps.build.exit_code", "exit_code", 0, None),
        ("steps.build.stdout", "text", None, None),
        ("steps.build.stderr", "absent", "(not recorded)", None),
        ("steps.test.exit_code", "exit_code", 2, None),
        ("steps.test.stdout", "binary", None, None),
        ("steps.test.stderr", "binary", None, None),
        ("steps.serve.exit_code", "exit_code", "timed_out", None),
        ("steps.serve.stdout", "text", None, None),
        ("steps.serve.stderr", "absent", "(not recorded)", None),
        ("steps.deploy.exit_code", "exit_code", "skipped", None),
        ("files.out.json", "json", None, None),
        ("files.rows.txt", "csv", None, rows),
        ("files.core", "absent", "(absent)", None),
        ("files.logs/sub/a.TSV", "tsv", None, None),
        ("files.logs/sub/dump", "binary", None, None),
        ("files.logs/z.yml", "yaml", None, None),
    ]
