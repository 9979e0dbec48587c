"""`repro init`: a new project that validates and runs at once, its files commented."""

from __future__ import annotations

from pathlib import Path

from repro.config.yaml_source import display_path
from repro.errors import ConfigError

ENVIRONMENT = """\
# An environment: one installation of your product, described once and reused by every
# scenario (customer case) that names it (`environment: example`).
#
# Check it with `repro validate`; see what a scenario resolves it to with
# `repro plan scenarios/EXAMPLE-1` (neither needs Docker).

description: an example product on repro's offline busybox base

# Where the sandbox image comes from. repro-base/busybox is made offline by repro from
# the host's busybox (no registry needed). Your product will rather be built:
#   image:
#     build:
#       context: example/image          # a folder with a Dockerfile, next to this file
#       args: {VERSION: "{{ version }}"}
# with `FROM repro-base/debian:bookworm` in the Dockerfile (`repro base --help`).
image: repro-base/busybox

# What a customer can configure. A bare value is the default; the long form adds a
# description, `choices`, or `secret: true` (masked in plans, records and reports).
# Scenarios set them from the customer's files or inline; `-p KEY=VALUE` wins over both.
parameters:
  max_upload_kb:
    default: 1024
    description: the largest upload the product accepts, in KiB

# Environment variables of every step; values are Jinja2 templates over the parameters.
env:
  APP_CONF: /etc/app/app.conf

# Config files written into the sandbox before the steps run, rendered from the
# parameters (`content:` inline, or `template:` a file next to this one).
files:
  - path: /etc/app/app.conf
    content: |
      max_upload_kb = {{ max_upload_kb }}

# No network out of the sandbox (the default, spelled out).
network:
  egress: false
"""

SCENARIO = """\
# A scenario: one customer's case, replayed in a fresh sandbox of an environment.
# `repro run scenarios/EXAMPLE-1` runs the steps below and asks the oracle whether the
# customer's error showed; `repro baseline scenarios/EXAMPLE-1` then keeps what it did
# as approved behaviour, to compare later runs with.
#
# The ticket, as the customer wrote it: "Our uploads fail with HTTP 413; the file is
# attached (customer/upload.txt), our upload limit is set to 1 KiB."

title: Uploads over the customer's limit fail with HTTP 413
ticket: EXAMPLE-1

# The environment, by name: environments/example.yaml.
environment: example

# `reproduces`: the oracle must fire; `fixed`: it must not. `repro run` exits 0 when the
# outcome is as expected.
expect: reproduces

# The customer's settings (they win over the environment's defaults). A customer's
# settings export can be read as is with `parameters_from: [customer/settings.ini]`.
parameters:
  max_upload_kb: 1

# The customer's files, copied into the sandbox (the originals are never modified).
data:
  - from: customer/upload.txt
    to: /srv/upload.txt

# The customer's steps, in order, each a shell command; a failing step skips the rest.
steps:
  - name: config
    run: cat "$APP_CONF"
  - name: upload
    run: |
      limit=$(sed -n 's/^max_upload_kb = //p' "$APP_CONF")
      size=$(( $(wc -c < /srv/upload.txt) / 1024 ))
      if [ "$size" -gt "$limit" ]; then
        echo "HTTP 413: upload of $size KiB over the limit of $limit KiB" >&2
        exit 1
      fi
      echo "HTTP 200: stored $size KiB"

# Files copied out of the sandbox after the steps, into the run record.
capture:
  - path: /etc/app/app.conf
    name: config

# The oracle: what means "the customer's error showed" (`any`: one condition is enough).
oracle:
  any:
    - step: upload
      stderr: "HTTP 413"
"""

UPLOAD = "".join(f"line {n:03} of the customer's upload, as attached to the ticket\n"
                 for n in range(1, 41))  # 2.5 KiB: over the customer's 1 KiB limit

GITIGNORE = """\
# Run records hold customer data: keep them out of version control.
.repro/
"""

FILES = {
    "environments/example.yaml": ENVIRONMENT,
    "scenarios/EXAMPLE-1/scenario.yaml": SCENARIO,
    "scenarios/EXAMPLE-1/customer/upload.txt": UPLOAD,
}


def create(folder: Path, force: bool) -> list[Path]:
    """Write the starter files into `folder`; refuse (before writing anything) when one
    exists, unless `force`. An existing .gitignore gains the .repro/ line it lacks."""
    targets = [folder / name for name in FILES]
    if not force:
        taken = [path for path in targets if path.exists()]
        if taken:
            more = f" (and {len(taken) - 1} more)" if len(taken) > 1 else ""
            raise ConfigError(f"{display_path(taken[0])} exists{more}: `repro init` does not "
                              "overwrite files; pick an empty folder, or pass --force")
    for path, text in zip(targets, FILES.values(), strict=True):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        except OSError as exc:
            raise ConfigError(f"{display_path(path)}: cannot write it ({exc.strerror})") \
                from None
    ignore = folder / ".gitignore"
    present = ignore.read_text() if ignore.is_file() else ""
    if ".repro/" not in present.split():
        ignore.write_text(present + ("\n" if present and not present.endswith("\n") else "")
                          + GITIGNORE)
        targets.append(ignore)
    return targets
