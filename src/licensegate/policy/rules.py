"""The rule catalogue: every rule id a finding can carry, with its default severity and texts.

The data is `licensegate/data/rules.toml` (provenance there), read once; this module only gives it types.
"""

from __future__ import annotations

import functools

from .. import _toml
from .._dataclasses import dataclass
from .._files import package_file
from ..model import Severity

SEVERITIES: tuple[str, ...] = ("error", "warning", "info", "off")  # what a policy may set; "off" drops a finding


@dataclass(frozen=True)
class Rule:
    """One rule of the catalogue."""

    id: str  # stable id, e.g. "copyleft-gpl"
    severity: Severity  # default, for a proprietary app
    description: str  # one line
    rationale: str  # why the rule exists (licence sections)
    remediation: str  # what to do about a finding


@functools.cache
def catalogue() -> dict[str, Rule]:
    """Every rule, in the catalogue's order."""
    text = package_file("data/rules.toml").read_text(encoding="utf-8")
    out: dict[str, Rule] = {}
    for rid, entry in _toml.loads(text)["rule"].items():
        if entry["severity"] not in SEVERITIES[:3]:
            raise ValueError(f"data/rules.toml: rule {rid!r} has default severity {entry['severity']!r}")
        out[rid] = Rule(rid, entry["severity"], entry["description"], entry["rationale"], entry["remediation"])
    return out


def rule(rule_id: str) -> Rule | None:
    return catalogue().get(rule_id)


RULES = catalogue()
DEFAULT_RULES: dict[str, str] = {r.id: r.severity for r in RULES.values()}  # rule id -> default severity
RULE_DESCRIPTIONS: dict[str, str] = {r.id: r.description for r in RULES.values()}
