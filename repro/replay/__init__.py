"""`repro replay`: many scenarios as regression cases, several at a time (docs/replay.md).

`select` picks the scenarios (paths, -k, tags, changed files), `shards` splits them for a
CI matrix, `jobs` runs them through `repro.pipeline` on a shared backend, `flaky` says what
varied across repeated runs. The layer sits between the command line and the pipeline.
"""
