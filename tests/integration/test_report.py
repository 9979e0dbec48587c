"""`repro report` on real runs, read back from what headless Chromium rendered: the
verdict, the diff with its changed words marked, the timeline's SVG, and customer data
that looks like HTML staying text."""

from __future__ import annotations

from pathlib import Path

from browser import Element, rendered, screenshot
from conftest import Project

# The customer's output carries HTML: a script that would retitle the page, an attribute
# break-out with an onerror handler. The greeting (a parameter) is changed to the same.
SCRIPT = '<script>document.title="pwned"</script>'
BREAKOUT = "\"><img src=x onerror=\"document.title='pwned2'\">"
SECRET = "tok-8f3a91c2d4e5"
SCENARIO = """\
    environment: bb
    expect: reproduces
    parameters:
      greeting: hello
    steps:
      - name: ticker
        run: for i in 1 2 3; do echo "tick $i"; sleep 0.1; done; sleep 30
        background: true
      - wait_for: {log: "tick 3", step: ticker, timeout: 20s}
      - name: greet
        run: |
          echo "start"
          i=0; while [ $i -lt 60 ]; do echo "steady line $i"; i=$((i+1)); done
          echo "greeting=$GREETING today"
          echo 'END <script>document.title="pwned"</script>'
          echo '"><img src=x onerror="document.title='"'"'pwned2'"'"'">'
          grep token /etc/app/app.conf
          mkdir -p /tmp/out && echo hi > '/tmp/out/"><img src=x onerror=alert(1)>.txt'
    capture:
      - path: /tmp/out
        name: out
      - path: /etc/app/app.conf
        name: conf
    oracle:
      any:
        - step: greet
          stdout: "greeting=<script>"
"""


def _ours_only(dom: Element) -> None:
    """No element came from customer data, and no script but the page's own ran."""
    assert dom.all("img") == []
    assert len(dom.all("script")) == 1
    html = dom.all("html")[0]
    assert "data-loaded-ms" in html.attrs  # the page's own script did run
    title = dom.all("title")[0].text
    assert "pwned" not in title and title.startswith("REPRODUCED")


def test_a_diverged_run_rendered_in_chromium(project: Project, tmp_path: Path):
    sid = project.scenario("page", SCENARIO)
    recorded = project.repro("baseline", f"scenarios/{sid}")
    assert recorded.returncode == 0, recorded.stderr
    done = project.repro("run", f"scenarios/{sid}", "--report", "-p", f"greeting={SCRIPT}",
                         "-p", f"api_token={SECRET}")
    assert done.returncode == 0, done.stdout + done.stderr
    page_line = [line for line in done.stdout.splitlines() if line.startswith("report: ")]
    assert page_line, done.stdout
    page = project.root / page_line[0].removeprefix("report: ")
    assert page.name == "report.html" and (page.parent / "record.json").is_file()
    text = page.read_text()
    assert SECRET not in text and "http://" not in text.replace("http://www.w3.org", "")
    # `repro report RUN` writes the same page from the record alone.
    single = project.repro("report", page.parent.name, "-o", str(tmp_path / "one.html"))
    assert single.returncode == 0, single.stderr
    assert (tmp_path / "one.html").read_text() == text

    dom = rendered(tmp_path / "one.html")
    screenshot(page, "report-run.png")
    _ours_only(dom)
    assert dom.by_id("verdict").text == "REPRODUCED"
    assert dom.by_id("baseline-verdict").text == "diverged"
    # The parameter is shown as written, as text.
    params = dom.by_id("parameters").text
    assert SCRIPT in params and "***" in params
    # The changed line side by side, the changed words marked on each side.
    channel = next(c for c in dom.all("div", "channel")
                   if c.attrs.get("data-channel") == "steps.greet.stdout")
    rows = [r for r in channel.all("div", "row") if "change" in r.classes]
    assert len(rows) == 2  # the greeting, and the token (masked; empty in the baseline)
    assert rows[1].all("div", "new")[0].text == "token = ***"
    old = rows[0].all("div", "old")[0]
    new = rows[0].all("div", "new")[0]
    assert old.text == "greeting=hello today" and new.text == f"greeting={SCRIPT} today"
    assert [m.text for m in old.all("mark")] == ["hello"]
    assert "".join(m.text for m in new.all("mark")) == SCRIPT
    # The 60 unchanged lines before it are folded, to expand.
    folds = channel.all("details", "fold")
    assert folds and "unchanged line" in folds[0].all("summary")[0].text
    # The step's output and the captured file names stay text.
    outputs = " ".join(p.text for p in dom.all("pre"))
    assert 'END <script>document.title="pwned"</script>' in outputs and BREAKOUT in outputs
    capture = next(c for c in dom.all("div", "capture") if c.attrs.get("data-capture") == "out")
    assert '"><img src=x onerror=alert(1)>.txt' in capture.text
    # The timeline: a bar for the step, the moment the oracle first held.
    svg = dom.by_id("timeline")
    assert svg is not None and svg.tag == "svg"
    lanes = {g.attrs.get("data-entry"): g for g in svg.all("g", "lane")}
    assert lanes["greet"].all("rect", "step")
    assert lanes["ticker"].all("rect", "background")  # stopped by repro at the end
    assert len(lanes["ticker"].all("line", "tick")) == 3  # a tick per output line
    assert any(g.all("rect", "wait") for g in lanes.values())
    assert dom.by_id("oracle-moment") is not None

    # Both runs on one index page, each linking its own page.
    runs = sorted(p.name for p in (project.root / ".repro/runs").iterdir())
    assert len(runs) == 2
    index = project.repro("report", *runs, "-o", str(tmp_path / "index.html"))
    assert index.returncode == 0, index.stderr
    dom = rendered(tmp_path / "index.html")
    links = [a.attrs["href"] for a in dom.all("a")]
    assert len(links) == 2
    assert all((tmp_path / href).resolve().is_file() for href in links)
    assert dom.by_id("totals").text.startswith("2 run(s)")


def test_a_replays_json_as_an_index(project: Project):
    sid = project.scenario("listed", """\
        environment: bb
        expect: fixed
        steps:
          - name: hello
            run: echo '<b>bold</b>'
        oracle:
          any:
            - step: hello
              exit_code: 3
    """)
    done = project.repro("replay", f"scenarios/{sid}", "--json", "-j", "1")
    assert done.returncode == 0, done.stderr
    (project.root / "replay.json").write_text(done.stdout)
    made = project.repro("report", "replay.json")
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == "replay.html"
    dom = rendered(project.root / "replay.html")
    rows = dom.all("tr", "run")
    assert len(rows) == 1 and sid in rows[0].text and "as expected" in rows[0].text
    page = project.root / rows[0].all("a")[0].attrs["href"]
    run = rendered(page)
    assert run.by_id("verdict").text == "NOT REPRODUCED"
    assert run.all("b") == []  # the step's `<b>` is text
    assert "<b>bold</b>" in " ".join(p.text for p in run.all("pre"))


def test_services_and_faults_on_the_timeline(project: Project):
    project.env("web", """\
        image: repro-base/busybox
        services:
          web:
            image: repro-base/busybox
            command: ["sh", "-c", "trap 'exit 0' TERM; sleep 1; mkdir -p /www; echo hi >
                      /www/index.html; httpd -f -p 8080 -h /www & wait"]
            ready: {tcp: 8080, timeout: 20s}
        """)
    sid = project.scenario("svc", """\
        environment: web
        steps:
          - {name: before, run: "wget -qO- http://web:8080/"}
          - fault: {kill: web}
            name: dies
          - {name: gone, run: "timeout 5 wget -qO- http://web:8080/", stop_on_failure: false}
        oracle: {any: [{step: gone, failed: true}]}
        """)
    done = project.repro("run", f"scenarios/{sid}", "--report")
    assert done.returncode == 0, done.stdout + done.stderr
    page = project.root / next(line.removeprefix("report: ") for line in
                               done.stdout.splitlines() if line.startswith("report: "))
    dom = rendered(page)
    screenshot(page, "report-services.png")
    lanes = {g.attrs.get("data-entry"): g for g in dom.by_id("timeline").all("g", "lane")}
    assert list(lanes) == ["web", "before", "dies", "gone"]
    (service,) = lanes["web"].all("rect", "service")
    (step,) = lanes["before"].all("rect", "step")
    # The service was ready before the steps began: its bar ends left of the first step's.
    assert float(service.attrs["x"]) + float(service.attrs["width"]) <= float(step.attrs["x"])
    assert "ready after" in lanes["web"].all("title")[0].text
    assert any("service web" in row.text and "ready after" in row.text
               for row in dom.all("tr"))
    assert lanes["dies"].all("rect", "fault")
    assert "failed" in lanes["gone"].all("rect", "bar")[0].classes
    assert dom.by_id("faults") is not None and "kill web" in dom.by_id("faults").text
