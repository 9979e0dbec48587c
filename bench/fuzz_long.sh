#!/usr/bin/env bash
# The loaders' fuzzing at length: 5,000 inputs per property instead of CI's 150
# (tests/unit/fuzz/conftest.py). About 10-20 minutes on 2 cores; a failure prints the
# smallest input that breaks the property. Run it after changing a loader.
set -euo pipefail
cd "$(dirname "$0")/.."
HYPOTHESIS_PROFILE=long exec python -m pytest tests/unit/fuzz -n "${JOBS:-2}" -p no:cacheprovider "$@"
