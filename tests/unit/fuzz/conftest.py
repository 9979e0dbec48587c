"""Hypothesis profiles for the loaders' fuzzing: `ci` (the default) keeps the suite fast,
`long` tries many more inputs: `HYPOTHESIS_PROFILE=long python -m pytest tests/unit/fuzz`
(bench/fuzz_long.sh). Both give every example a deadline: a loader that hangs fails."""

from __future__ import annotations

import os
from datetime import timedelta

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": timedelta(seconds=2), "database": None,
           "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=150, **_COMMON)
settings.register_profile("long", max_examples=5_000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
