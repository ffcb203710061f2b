"""The policy stage: a policy file, the rule catalogue, waivers, the model stance, and `evaluate`.

- `discovery`: which policy file the CLI uses without --policy, and the ones it found but did not use;
- `file`: the `Policy` a policy file describes and `load`, which names every error by its line;
- `rules`: the rule catalogue (data/rules.toml): ids, default severities, descriptions, what to do;
- `waivers`: waivers and severity overrides;
- `stance`: what the chosen model stance requires of each shipped model (`ModelAssessment`);
- `evaluate`: `evaluate(scan_result, policy) -> Verdict`, pure: findings, obligations, concluded licences.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import Finding
from .discovery import PolicyChoice, PolicyFile, discover
from .evaluate import (
    Conclusion,
    Outcome,
    Verdict,
    apply_overrides,
    apply_waivers,
    copyleft_reach,
    evaluate,
    obligations_for,
    outcome,
    source_offer_findings,
)
from .file import Policy, SourceOfferContact, beside, load
from .rules import DEFAULT_RULES, RULE_DESCRIPTIONS, RULES, SEVERITIES, Rule, Severity, catalogue, rule
from .waivers import Override, Waiver, expired_waivers

if TYPE_CHECKING:
    from .stance import ModelAssessment


def __getattr__(name: str) -> object:
    # The model stance (and the ml package under it: ~15 ms of imports) loads only when asked for.
    if name == "ModelAssessment":
        from .stance import ModelAssessment

        return ModelAssessment
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "DEFAULT_RULES",
    "RULES",
    "RULE_DESCRIPTIONS",
    "SEVERITIES",
    "Conclusion",
    "Finding",
    "ModelAssessment",
    "Outcome",
    "Override",
    "Policy",
    "PolicyChoice",
    "PolicyFile",
    "Rule",
    "Severity",
    "SourceOfferContact",
    "Verdict",
    "Waiver",
    "apply_overrides",
    "apply_waivers",
    "beside",
    "catalogue",
    "rule",
    "copyleft_reach",
    "discover",
    "evaluate",
    "expired_waivers",
    "load",
    "obligations_for",
    "outcome",
    "source_offer_findings",
]
