"""Scenario names: AWM-1K files mix display names ("E-commerce 33") and normalized ids ("e_commerce_33")."""

import re

_NON_ID_RUN = re.compile(r"[^a-z0-9_]+")


def normalize_scenario_name(name: str) -> str:
    """Map a display or normalized scenario name to its bundle id (lowercase, other runs -> `_`)."""
    return _NON_ID_RUN.sub("_", name.strip().lower()).strip("_")
