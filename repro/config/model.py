"""The typed, frozen records an environment and a scenario file validate into, by concern:
`environment` (image, parameters, config files, security, limits, services, clock), `steps`
(parameter exports, data, steps, captures), `rules` (normalisation), `oracle` and
`scenario`. This module names them all, so the later stages import one place."""

from __future__ import annotations

from repro.config.checks import Issues
from repro.config.environment import (
    DROPPED_CAPABILITIES,
    KNOWN_CAPABILITIES,
    Build,
    Clock,
    ConfigFile,
    Environment,
    Image,
    Limits,
    Network,
    Parameter,
    Security,
    Service,
)
from repro.config.oracle import Condition, Oracle, leaf_conditions
from repro.config.rules import MASKS, Rule
from repro.config.scenario import (
    Scenario,
    capture_names,
    command_steps,
    fault_entries,
    step_names,
    wait_entries,
)
from repro.config.services import Ready
from repro.config.steps import ENTRY_KINDS, Capture, DataLoad, ParameterFile, Step

__all__ = [
    "DROPPED_CAPABILITIES", "ENTRY_KINDS", "KNOWN_CAPABILITIES", "MASKS", "Build", "Capture",
    "Clock", "Condition", "ConfigFile", "DataLoad", "Environment", "Image", "Issues", "Limits",
    "Network", "Oracle", "Parameter", "ParameterFile", "Ready", "Rule", "Scenario", "Security",
    "Service", "Step", "capture_names", "command_steps", "fault_entries", "leaf_conditions",
    "step_names", "wait_entries",
]
