"""What the human-facing reports (text, Markdown, HTML) show, worked out once so they agree.

- one classification per component (`role`): the licence family the policy concluded, or "app" for native code
  nobody identified (treated as the app's own code); tables, the graph and the text report all use it;
- one row per shipped thing (`Shown`): a Java library spread over several DEX files is one row with all its members;
- evidence deduplicated (the same string at two offsets is one line with both offsets) and printable;
- failing findings grouped by component (`Action`), each with what to do (the rule catalogue's remediation), the
  component's obligations once, and a ready-to-paste `[[waiver]]` whose path glob works in APK, AAB and IPA layouts.
"""

from __future__ import annotations

import datetime

from .. import escape
from .._dataclasses import dataclass, field
from ..model import Component, Evidence, Finding, Obligation
from ..policy.waivers import REASON_PLACEHOLDER, glob_escape, waiver_glob
from . import Report

FAMILY_ORDER = {"nonfree": 0, "agpl": 1, "gpl": 2, "lgpl": 3, "weak-copyleft": 4, "unknown": 5, "app": 6, "permissive": 7}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
WAIVER_DAYS = 90  # a suggested waiver expires a quarter after the report: waivers are meant to be revisited


def role(c: Component) -> str:
    """The one classification every report uses: the concluded licence family, or "app" for unidentified native
    code without a licence (the policy treats it as the app's own code)."""
    if c.origin == "unidentified" and c.family == "unknown" and c.format in ("elf", "macho", "ar"):
        return "app"
    return c.family


def role_label(c: Component) -> str:
    if role(c) == "app":
        return "app code (unidentified)"
    return c.license or "licence unknown"


def printable(value: object, limit: int = 160) -> str:
    """Artifact text made safe to show (licensegate.escape: controls, bidi and invisible characters escaped), cut to
    `limit` characters."""
    out = escape.text("" if value is None else value)
    return out if len(out) <= limit else out[: limit - 1] + "…"


def chosen_licence(c: Component) -> str | None:
    """The licence a distributor may choose under an OR expression (the id only), None when there is no choice."""
    if not c.license_choice or " OR " not in (c.license or ""):
        return None
    return c.license_choice.split(" (", 1)[0].strip() or None


@dataclass(frozen=True)
class EvidenceLine:
    kind: str
    text: str  # printable
    offsets: tuple[int, ...]
    rule: str

    def where(self) -> str:
        if not self.offsets:
            return self.kind
        shown = ", ".join(f"@0x{o:x}" for o in self.offsets[:3])
        more = f", +{len(self.offsets) - 3} more" if len(self.offsets) > 3 else ""
        return f"{self.kind} {shown}{more}"


def evidence(items: list[Evidence]) -> list[EvidenceLine]:
    """Evidence with the same kind and text merged (its offsets kept together), in first-seen order."""
    merged: dict[tuple[str, str], list[Evidence]] = {}
    for e in items:
        merged.setdefault((e.kind, e.text), []).append(e)
    out = []
    for (kind, text), group in merged.items():
        offsets = tuple(sorted({e.offset for e in group if e.offset is not None}))
        out.append(EvidenceLine(kind, printable(text), offsets, group[0].rule))
    return out


@dataclass
class Shown:
    """One row of a report: a component, or one Java library found in several DEX files."""

    members: list[Component]

    @property
    def first(self) -> Component:
        return self.members[0]

    @property
    def paths(self) -> list[str]:
        return [m.path for m in self.members]

    @property
    def label(self) -> str:
        """The member path, or for a Java library in several DEX files its package folder and the DEX files."""
        if len(self.members) == 1:
            return self.first.path or "(the artifact itself)"
        containers = [p.split("!/", 1)[0] for p in self.paths]
        inner = self.first.path.split("!/", 1)[-1]
        return f"{inner} in {', '.join(containers)}"

    @property
    def evidence(self) -> list[EvidenceLine]:
        return evidence([e for m in self.members for e in m.evidence])

    @property
    def links(self) -> list[str]:
        return sorted({t for m in self.members for t in m.links})

    @property
    def loaded_by(self) -> list[str]:
        return sorted({t for m in self.members for t in m.loaded_by})


def _group_key(c: Component) -> tuple[str, ...]:
    if c.kind == "java-library":
        inner = c.path.split("!/", 1)[-1]
        return ("java", c.identified_as or c.name, inner, c.license or "")
    return ("path", c.path)


def shown(components: list[Component]) -> list[Shown]:
    """Rows in report order (most restrictive family first, then path); Java libraries grouped across DEX files."""
    groups: dict[tuple[str, ...], Shown] = {}
    for c in sorted(components, key=lambda c: c.path):
        groups.setdefault(_group_key(c), Shown([])).members.append(c)
    return sorted(groups.values(), key=lambda s: (FAMILY_ORDER.get(role(s.first), 9), s.first.path))


# ---- what to do -----------------------------------------------------------------------------------------------


def what_to_do(rule_id: str) -> str:
    """The rule catalogue's remediation for a rule ("" for a rule without one)."""
    from ..policy import rule

    found = rule(rule_id)
    return found.remediation if found else ""


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def waiver_snippet(row: Component, rules: list[str], generated: str) -> list[str]:
    """A `[[waiver]]` table that accepts exactly these rules' findings for this component (in every ABI)."""
    try:
        day = datetime.date.fromisoformat(generated[:10])
    except ValueError:
        day = datetime.datetime.now(datetime.timezone.utc).date()
    expires = day + datetime.timedelta(days=WAIVER_DAYS)
    rule_list = ", ".join(_toml_string(r) for r in rules)
    return [
        "[[waiver]]",
        f"name = {_toml_string(printable(glob_escape(row.name), 200))}",
        f"path = {_toml_string(printable(waiver_glob(row.path), 300))}",
        f"rule = [{rule_list}]",
        f'reason = "{REASON_PLACEHOLDER} why shipping this is acceptable (a commercial licence, a contract number, legal review)"',
        f"expires = {expires.isoformat()}",
    ]


def waivable(f: Finding) -> bool:
    """Findings about a component can be waived; findings about the policy itself (waivers, the offer) cannot."""
    return f.component is not None and f.rule not in ("waiver-expired", "waiver-unused", "source-offer-contact-missing")


@dataclass
class Action:
    """The failing findings of one component (the same library in every ABI counts as one), or one policy-level
    finding, with what to do about them."""

    component: Component | None
    findings: list[Finding]
    paths: list[str] = field(default_factory=list)  # the component in each ABI it ships in
    obligations: list[Obligation] = field(default_factory=list)

    @property
    def rules(self) -> list[str]:
        return list(dict.fromkeys(f.rule for f in self.findings))

    def steps(self) -> list[tuple[str, str]]:
        """(rule, what to do) for each rule with a remediation."""
        return [(r, what_to_do(r)) for r in self.rules if what_to_do(r)]

    def snippet(self, generated: str) -> list[str]:
        if self.component is None or not all(waivable(f) for f in self.findings):
            return []
        return waiver_snippet(self.component, self.rules, generated)


def _action_key(c: Component | None, path: str) -> tuple[str, str]:
    return (c.name, waiver_glob(c.path)) if c is not None else ("", path)


def actions(report: Report, findings: list[Finding]) -> list[Action]:
    """Findings grouped by component (one group for a library shipped in several ABIs), most severe first, then
    in report order; each group lists its obligations once."""
    groups: dict[tuple[str, str], Action] = {}
    policy_level: list[Action] = []
    for f in sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.component or "")):
        if f.component is None:
            policy_level.append(Action(None, [f]))
            continue
        comp = report.component(f.component)
        act = groups.get(_action_key(comp, f.component))
        if act is None:
            act = groups[_action_key(comp, f.component)] = Action(comp, [])
        act.findings.append(f)
        if f.component not in act.paths:
            act.paths.append(f.component)
        for o in f.obligations:
            if o not in act.obligations:
                act.obligations.append(o)

    def order(a: Action) -> tuple[int, int, str]:
        sev = min(SEVERITY_ORDER.get(f.severity, 3) for f in a.findings)
        fam = FAMILY_ORDER.get(role(a.component), 9) if a.component else 9
        return sev, fam, a.paths[0] if a.paths else ""

    return sorted(groups.values(), key=order) + policy_level


def message_for(f: Finding) -> str:
    """The finding's message without the leading "<component path>: " a grouped report already shows."""
    msg = f.message
    if f.component and msg.startswith(f.component + ": "):
        msg = msg[len(f.component) + 2:]
    return printable(msg, 2000)


def counts(report: Report) -> dict[str, int]:
    out = {"error": 0, "warning": 0, "info": 0, "waived": 0}
    for f in report.findings:
        out["waived" if f.waived_by else f.severity] = out.get("waived" if f.waived_by else f.severity, 0) + 1
    return out


def verdict_line(report: Report) -> str:
    n = counts(report)
    parts = [f"{n['error']} error(s)", f"{n['warning']} warning(s)"]
    if n["waived"]:
        parts.append(f"{n['waived']} waived")
    return f"Verdict: {report.verdict.upper()} ({', '.join(parts)})"
