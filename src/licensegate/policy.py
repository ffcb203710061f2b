"""Policy: turn components into findings with severities and obligations.

Without a policy file the built-in default applies (docs/policy.md): the app is proprietary; GPL and AGPL code fail;
nonfree code fails; LGPL code in its own shared library passes with notice and source-offer obligations, LGPL code
statically combined with other code fails; permissive code passes with attribution obligations.
"""

from __future__ import annotations

import datetime
import fnmatch
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from .errors import UsageError
from .model import Component, Finding, LoadSite, Obligation

if TYPE_CHECKING:
    from .ml import Declared, ModelFile

from . import _toml

Severity = Literal["error", "warning", "info"]
SEVERITIES = ("error", "warning", "info", "off")

# Rule ids and their default severities (the app is proprietary).
DEFAULT_RULES: dict[str, str] = {
    "copyleft-gpl": "error",
    "copyleft-agpl": "error",
    "nonfree": "error",
    "lgpl-static": "error",
    "lgpl-shared": "info",
    "weak-copyleft": "info",
    "app-links-copyleft": "error",
    "unidentified-native-code": "info",
    "member-problem": "warning",
    "model-stance-unmet": "error",
    "model-license-undeclared": "warning",
    "model-metadata-conflict": "warning",
    "model-use-restricted": "warning",
    "model-gpl3-conflict": "error",
    "ios-gpl": "error",
    "license-denied": "error",
    "license-not-allowed": "error",
    "waiver-expired": "error",
    "waiver-unused": "warning",
    "source-offer-contact-missing": "warning",
}

RULE_DESCRIPTIONS: dict[str, str] = {
    "copyleft-gpl": "GPL-licensed code is shipped in the app",
    "copyleft-agpl": "AGPL-licensed code is shipped in the app",
    "nonfree": "Code marked not redistributable (nonfree) is shipped in the app",
    "lgpl-static": "LGPL code is statically combined with other code",
    "lgpl-shared": "LGPL code is shipped as its own shared library",
    "weak-copyleft": "File-level copyleft code (MPL, EPL, CDDL) is shipped",
    "app-links-copyleft": "The app's own code links or loads copyleft code",
    "unidentified-native-code": "Native code whose origin and licence could not be identified",
    "member-problem": "An archive member could not be analysed or looks tampered with",
    "model-stance-unmet": "A model lacks what the chosen stance requires as its corresponding source",
    "model-license-undeclared": "A model ships with no licence, embedded or declared",
    "model-metadata-conflict": "A model's declared facts contradict its embedded metadata",
    "model-use-restricted": "A model is under a use-restricted licence whose terms must be passed on",
    "model-gpl3-conflict": "A use-restricted model licence conflicts with GPL-3.0 terms covering the app",
    "ios-gpl": "GPL-family code is shipped in an iOS app (IPA) meant for the App Store",
    "license-denied": "A component is under a licence the policy denies",
    "license-not-allowed": "A component is under a licence outside the policy's allow list",
    "waiver-expired": "A policy waiver has passed its expiry date",
    "waiver-unused": "A policy waiver matches no finding",
    "source-offer-contact-missing": "The written source offer has no contact: the policy lacks [source_offer] details",
}


@dataclass
class Waiver:
    """Accepts the findings of matching components, for a stated reason, until an optional expiry date."""

    reason: str
    name: str | None = None  # component name, glob, case-insensitive ("FFmpeg *")
    path: str | None = None  # component path glob ("lib/*/libx264.so")
    sha256: str | None = None
    rules: list[str] = field(default_factory=list)  # empty: every rule
    expires: datetime.date | None = None
    line: int | None = None  # where it is declared in the policy file

    def label(self, index: int) -> str:
        at = f" (line {self.line})" if self.line else ""
        return f"waiver {index + 1}{at}: {self.reason}"

    def matches(self, finding: Finding, comp: Component | None) -> bool:
        if self.rules and finding.rule not in self.rules:
            return False
        return _selects(self.name, self.path, self.sha256, comp, finding.component)

    def to_json(self) -> dict[str, object]:
        return {"reason": self.reason, "name": self.name, "path": self.path, "sha256": self.sha256, "rules": self.rules,
                "expires": self.expires.isoformat() if self.expires else None, "line": self.line}


@dataclass
class Override:
    """Sets the severity of one rule, for every component or the matching ones."""

    rule: str
    severity: str
    name: str | None = None
    path: str | None = None
    sha256: str | None = None
    reason: str | None = None
    line: int | None = None

    def to_json(self) -> dict[str, object]:
        return {"rule": self.rule, "severity": self.severity, "name": self.name, "path": self.path,
                "sha256": self.sha256, "reason": self.reason, "line": self.line}


@dataclass
class SourceOfferContact:
    """Who answers the written source offer (GPL-2.0 s.3(b), GPL-3.0 s.6(b), LGPL-2.1 s.6(c))."""

    organisation: str | None = None
    address: str | None = None  # postal address
    email: str | None = None
    url: str | None = None  # where the source is published, or a request form
    years: int = 3  # validity of the offer; the licences ask for at least three

    @property
    def complete(self) -> bool:
        return bool(self.organisation and (self.address or self.email))

    def to_json(self) -> dict[str, object]:
        return {"organisation": self.organisation, "address": self.address, "email": self.email, "url": self.url,
                "years": self.years}


@dataclass
class Policy:
    source: str = "built-in default"
    app_license: str | None = None  # None: proprietary
    rules: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_RULES))
    model_stance: str = "training-code"  # docs/models.md explains the three stances and this default
    model_declarations: list[Declared] = field(default_factory=list)
    allow: list[str] = field(default_factory=list)  # SPDX ids; empty: no allow list
    deny: list[str] = field(default_factory=list)
    waivers: list[Waiver] = field(default_factory=list)
    overrides: list[Override] = field(default_factory=list)
    source_offer: SourceOfferContact = field(default_factory=SourceOfferContact)

    @property
    def app_is_gpl_covered(self) -> bool:
        if self.app_license is None:
            return False
        from . import spdx

        return spdx.family(self.app_license) in ("gpl", "agpl")

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "source": self.source, "app_license": self.app_license, "rules": self.rules,
            "models": {"source": self.model_stance, "declared": [d.match for d in self.model_declarations]}}
        if self.allow or self.deny:
            out["licenses"] = {"allow": self.allow, "deny": self.deny}
        if self.waivers:
            out["waivers"] = [w.to_json() for w in self.waivers]
        if self.overrides:
            out["overrides"] = [o.to_json() for o in self.overrides]
        out["source_offer"] = self.source_offer.to_json()
        return out


_KNOWN_TOP = {"version", "app", "rules", "models", "licenses", "waiver", "override", "source_offer"}
_WAIVER_KEYS = {"reason", "name", "path", "sha256", "rule", "expires"}
_OVERRIDE_KEYS = {"rule", "severity", "name", "path", "sha256", "reason"}
_OFFER_KEYS = {"organisation", "address", "email", "url", "years"}
_SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")


class _Lines:
    """Line numbers of TOML keys by a simple scan of the text: tomllib reports none for values that parse."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+(?:\s*\.\s*[A-Za-z0-9_-]+)*)\s*=")

    def __init__(self, text: str) -> None:
        self.keys: dict[tuple[str, int, str], int] = {}
        self.tables: dict[tuple[str, int], int] = {}
        counts: dict[str, int] = {}
        table, index = "", 0
        for n, line in enumerate(text.splitlines(), 1):
            m = self._HEADER.match(line)
            if m:
                table = m.group(2).replace(" ", "").replace('"', "")
                if m.group(1) == "[[":
                    index = counts.get(table, -1) + 1
                    counts[table] = index
                else:
                    index = 0
                self.tables.setdefault((table, index), n)
                continue
            k = self._KEY.match(line)
            if k:
                key = k.group(1).replace(" ", "").strip("\"'")
                full_table, full_key = table, key
                if "." in key:  # dotted key: the last part is the key, the rest extends the table
                    head, _, full_key = key.rpartition(".")
                    full_table = f"{table}.{head}" if table else head
                self.keys.setdefault((full_table, index if full_table == table else 0, full_key), n)

    def of(self, table: str, key: str | None = None, index: int = 0) -> int | None:
        if key is not None and (table, index, key) in self.keys:
            return self.keys[(table, index, key)]
        return self.tables.get((table, index))


class _Reader:
    """Reads one policy file, collecting every error with its line number."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = _Lines(text)
        self.errors: list[str] = []

    def error(self, message: str, table: str = "", key: str | None = None, index: int = 0) -> None:
        line = self.lines.of(table, key, index) if (table or key) else None
        self.errors.append(f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}")

    def spdx_id(self, value: object, what: str, table: str, key: str, index: int = 0) -> str | None:
        from . import spdx

        if not isinstance(value, str) or not spdx.is_valid(value):
            self.error(f"{what} {value!r} is not a valid SPDX expression", table, key, index)
            return None
        return spdx.normalize(value)

    def date(self, value: object, what: str, table: str, key: str, index: int) -> datetime.date | None:
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        if isinstance(value, str):
            try:
                return datetime.date.fromisoformat(value)
            except ValueError:
                pass
        self.error(f"{what} {value!r} is not a date; write it as YYYY-MM-DD", table, key, index)
        return None


def load(path: Path | None) -> Policy:
    """The policy in `path`, or the built-in default when None. Bad files raise UsageError (exit 2).

    The error names the file and the line of each problem (`licensegate.toml:12: ...`), one per line.
    """
    if path is None:
        return Policy()
    try:
        text = path.read_text(encoding="utf-8")
        raw = _toml.loads(text)
    except FileNotFoundError:
        raise UsageError(f"{path}: policy file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read policy file ({exc})") from None
    except _toml.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML ({exc})") from None
    r = _Reader(path, text)
    policy = Policy(source=str(path))
    for key in sorted(set(raw) - _KNOWN_TOP):
        r.error(f"unknown key {key!r}; known: {', '.join(sorted(_KNOWN_TOP))}", key if isinstance(raw[key], dict) else "", key)
    if raw.get("version", 1) != 1:
        r.error(f"policy version {raw.get('version')!r} is not supported (this LicenseGate reads version 1)", "", "version")
    app = raw.get("app", {})
    if not isinstance(app, dict):
        r.error("[app] must be a table", "", "app")
    else:
        for key in sorted(set(app) - {"license"}):
            r.error(f"unknown key {key!r} in [app]; [app] accepts only 'license'", "app", key)
        if "license" in app:
            policy.app_license = r.spdx_id(app["license"], "app.license", "app", "license")
    rules = raw.get("rules", {})
    if not isinstance(rules, dict):
        r.error("[rules] must be a table of rule = severity", "", "rules")
    else:
        for rule, sev in rules.items():
            if rule not in DEFAULT_RULES:
                r.error(f"unknown rule {rule!r}; known: {', '.join(DEFAULT_RULES)}", "rules", rule)
            elif sev not in SEVERITIES:
                r.error(f"rule {rule!r} has severity {sev!r}; use one of {', '.join(SEVERITIES)}", "rules", rule)
            else:
                policy.rules[rule] = sev
    _load_licenses(raw.get("licenses", {}), policy, r)
    _load_waivers(raw.get("waiver", []), policy, r)
    _load_overrides(raw.get("override", []), policy, r)
    _load_source_offer(raw.get("source_offer", {}), policy, r)
    try:
        _load_models(raw.get("models", {}), policy, path)
    except UsageError as exc:
        message = str(exc).removeprefix(f"{path}: ")
        m = re.search(r"models\.declare\[(\d+)\]", message)
        if m:
            r.error(message.removeprefix(f"models.declare[{m.group(1)}]: "), "models.declare", None, int(m.group(1)))
        else:
            r.error(message, "models", "source")
    if r.errors:
        raise UsageError("\n".join(r.errors))
    return policy


def _load_licenses(table: object, policy: Policy, r: _Reader) -> None:
    if not isinstance(table, dict):
        r.error("[licenses] must be a table with allow = [...] and deny = [...]", "", "licenses")
        return
    for key in sorted(set(table) - {"allow", "deny"}):
        r.error(f"unknown key {key!r} in [licenses]; known: allow, deny", "licenses", key)
    for key in ("allow", "deny"):
        values = table.get(key, [])
        if not isinstance(values, list):
            r.error(f"licenses.{key} must be an array of SPDX ids", "licenses", key)
            continue
        for v in values:
            norm = r.spdx_id(v, f"licenses.{key} entry", "licenses", key)
            if norm is not None:
                getattr(policy, key).append(norm)
    both = set(policy.allow) & set(policy.deny)
    if both:
        r.error(f"licence(s) both allowed and denied: {', '.join(sorted(both))}", "licenses", "deny")


def _selectors(entry: dict[str, object], table: str, i: int, r: _Reader) -> tuple[str | None, str | None, str | None]:
    out: list[str | None] = []
    for key in ("name", "path", "sha256"):
        v = entry.get(key)
        if v is not None and not isinstance(v, str):
            r.error(f"{table}[{i}].{key} must be a string", table, key, i)
            v = None
        out.append(v)
    if out[2] is not None and not _SHA256.match(out[2]):
        r.error(f"{table}[{i}].sha256 must be 64 hex digits", table, "sha256", i)
    if not any(out):
        r.error(f"{table}[{i}] matches nothing: give name, path or sha256", table, None, i)
    return out[0], out[1], (out[2] or "").lower() or None


def _load_waivers(entries: object, policy: Policy, r: _Reader) -> None:
    if not isinstance(entries, list):
        r.error("waivers are an array of tables: write [[waiver]]", "", "waiver")
        return
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            r.error(f"waiver[{i}] must be a table", "waiver", None, i)
            continue
        for key in sorted(set(entry) - _WAIVER_KEYS):
            r.error(f"unknown key {key!r} in [[waiver]]; known: {', '.join(sorted(_WAIVER_KEYS))}", "waiver", key, i)
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            r.error("every [[waiver]] needs a reason = \"why this is acceptable\"", "waiver", "reason", i)
            reason = ""
        name, path, sha = _selectors(entry, "waiver", i, r)
        rules = entry.get("rule", [])
        if isinstance(rules, str):
            rules = [rules]
        if not isinstance(rules, list) or any(x not in DEFAULT_RULES for x in rules):
            r.error(f"waiver[{i}].rule must be a rule id or a list of them; known: {', '.join(DEFAULT_RULES)}", "waiver", "rule", i)
            rules = []
        expires = r.date(entry["expires"], f"waiver[{i}].expires", "waiver", "expires", i) if "expires" in entry else None
        policy.waivers.append(Waiver(reason.strip(), name, path, sha, list(rules), expires, r.lines.of("waiver", None, i)))


def _load_overrides(entries: object, policy: Policy, r: _Reader) -> None:
    if not isinstance(entries, list):
        r.error("severity overrides are an array of tables: write [[override]]", "", "override")
        return
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            r.error(f"override[{i}] must be a table", "override", None, i)
            continue
        for key in sorted(set(entry) - _OVERRIDE_KEYS):
            r.error(f"unknown key {key!r} in [[override]]; known: {', '.join(sorted(_OVERRIDE_KEYS))}", "override", key, i)
        rule, sev = entry.get("rule"), entry.get("severity")
        if rule not in DEFAULT_RULES:
            r.error(f"override[{i}].rule {rule!r} is not a rule; known: {', '.join(DEFAULT_RULES)}", "override", "rule", i)
        if sev not in SEVERITIES:
            r.error(f"override[{i}].severity {sev!r}; use one of {', '.join(SEVERITIES)}", "override", "severity", i)
        name, path, sha = _selectors(entry, "override", i, r)
        reason = entry.get("reason")
        policy.overrides.append(Override(str(rule), str(sev), name, path, sha, reason if isinstance(reason, str) else None,
                                         r.lines.of("override", None, i)))


def _load_source_offer(table: object, policy: Policy, r: _Reader) -> None:
    if not isinstance(table, dict):
        r.error("[source_offer] must be a table", "", "source_offer")
        return
    for key in sorted(set(table) - _OFFER_KEYS):
        r.error(f"unknown key {key!r} in [source_offer]; known: {', '.join(sorted(_OFFER_KEYS))}", "source_offer", key)
    offer = policy.source_offer
    for key in ("organisation", "address", "email", "url"):
        v = table.get(key)
        if v is None:
            continue
        if not isinstance(v, str) or not v.strip():
            r.error(f"source_offer.{key} must be a non-empty string", "source_offer", key)
            continue
        setattr(offer, key, v.strip())
    if offer.email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", offer.email):
        r.error(f"source_offer.email {offer.email!r} is not an e-mail address", "source_offer", "email")
    if offer.url is not None and not re.match(r"^https?://", offer.url):
        r.error(f"source_offer.url {offer.url!r} must start with https:// or http://", "source_offer", "url")
    years = table.get("years", 3)
    if not isinstance(years, int) or isinstance(years, bool) or years < 3:
        r.error(f"source_offer.years {years!r}: a written offer must be valid for at least 3 years "
                "(GPL-2.0 s.3(b), GPL-3.0 s.6(b))", "source_offer", "years")
    else:
        offer.years = years


def _selects(name: str | None, path: str | None, sha256: str | None, comp: Component | None, finding_path: str | None) -> bool:
    """True when every selector given matches (name and path are case-insensitive globs)."""
    if name is not None and (comp is None or not fnmatch.fnmatchcase(comp.name.lower(), name.lower())):
        return False
    target = comp.path if comp is not None else finding_path
    if path is not None and (target is None or not fnmatch.fnmatchcase(target.lower(), path.lower())):
        return False
    if sha256 is not None and (comp is None or (comp.sha256 or "").lower() != sha256):
        return False
    return name is not None or path is not None or sha256 is not None


def _load_models(table: object, policy: Policy, path: Path) -> None:
    from .ml import Declared
    from .ml.provenance import STANCES

    if not isinstance(table, dict):
        raise UsageError(f"{path}: [models] must be a table")
    unknown = set(table) - {"source", "declare"}
    if unknown:
        raise UsageError(f"{path}: unknown key(s) in [models]: {', '.join(sorted(unknown))}; known: declare, source")
    stance = table.get("source", policy.model_stance)
    if stance not in STANCES:
        raise UsageError(f"{path}: models.source must be one of {', '.join(STANCES)}; got {stance!r}")
    policy.model_stance = stance
    declared = table.get("declare", [])
    if not isinstance(declared, list):
        raise UsageError(f"{path}: models.declare must be an array of tables ([[models.declare]])")
    for i, entry in enumerate(declared):
        if not isinstance(entry, dict):
            raise UsageError(f"{path}: models.declare[{i}] must be a table")
        policy.model_declarations.append(Declared.from_mapping(entry, source=f"{path}: models.declare[{i}]"))


@functools.lru_cache(maxsize=1)
def _obligations_by_family() -> dict[str, list[tuple[str, str]]]:
    text = resources.files("licensegate").joinpath("data/obligations.toml").read_text(encoding="utf-8")
    data = _toml.loads(text)
    return {fam: [(o["id"], o["text"]) for o in entry["obligations"]] for fam, entry in data["family"].items()}


def obligations_for(family: str, license: str | None) -> list[Obligation]:
    return [Obligation(oid, text, license) for oid, text in _obligations_by_family().get(family, [])]


# ---------------------------------------------------------------------------------------------------------------


def evaluate(
    components: list[Component],
    problems: list,
    load_sites: list[LoadSite],
    policy: Policy,
    platform: str,
    models: dict[str, ModelFile] | None = None,
    today: datetime.date | None = None,
) -> list[Finding]:
    """Findings for every component that the policy has something to say about, plus chains from app code.

    Severity overrides and waivers apply last; `today` (default: the UTC date) decides which waivers have expired.
    """
    findings: list[Finding] = []
    gpl_app = policy.app_is_gpl_covered

    def add(rule: str, comp: Component | None, message: str, obligations: list[Obligation], chain: list[str] | None = None, floor: str | None = None) -> None:
        sev = policy.rules.get(rule, "info")
        if sev == "off":
            return
        if floor == "info" and sev == "error":
            sev = "info"
        findings.append(Finding(rule, sev, comp.path if comp else None, message, obligations, chain or []))  # type: ignore[arg-type]

    from . import spdx

    for comp in components:
        comp.obligations = obligations_for(comp.family, comp.license)
        for part in comp.embedded:
            fam = spdx.family(part.license) if part.license else "unknown"
            for ob in obligations_for(fam, part.license):
                if ob not in comp.obligations:
                    comp.obligations.append(ob)
        fam = comp.family
        static = _statically_combined(comp)
        where = f" ({comp.license}" + (f", version {comp.version}" if comp.version else "") + ")"
        if fam == "nonfree":
            add("nonfree", comp, f"{comp.path}: {comp.name}{where} is marked not redistributable; this build must not be distributed.", comp.obligations)
        elif fam == "agpl":
            add("copyleft-agpl", comp, f"{comp.path}: {comp.name}{where} is AGPL code; distributing it requires the whole app under the AGPL and its source offered.", comp.obligations, floor="info" if gpl_app else None)
        elif fam == "gpl":
            add("copyleft-gpl", comp, f"{comp.path}: {comp.name}{where} is GPL code; distributing it requires the whole app under the GPL and its complete source offered.", comp.obligations, floor="info" if gpl_app else None)
        elif fam == "lgpl":
            if static:
                add("lgpl-static", comp, f"{comp.path}: {comp.name}{where} is LGPL code {static}; users cannot replace it, so the LGPL's relinking terms are not met by a shared library.", comp.obligations)
            else:
                add("lgpl-shared", comp, f"{comp.path}: {comp.name}{where} is an LGPL shared library: ship its notice and a source offer, and keep it replaceable.", comp.obligations)
        elif fam == "weak-copyleft":
            add("weak-copyleft", comp, f"{comp.path}: {comp.name}{where} is under a file-level copyleft licence: offer the source of its files.", comp.obligations)
        elif fam == "unknown" and comp.format in ("elf", "macho", "ar"):
            add("unidentified-native-code", comp, f"{comp.path}: native code not identified by any signature; treated as the app's own code.", [])
        if platform == "ios" and fam in ("gpl", "agpl"):
            add("ios-gpl", comp, f"{comp.path}: {comp.name}{where} is {fam.upper()} code in an iOS app: App Store terms add "
                "usage restrictions that the GPL forbids (GPL-2.0 s.6, GPL-3.0 s.10); the FSF holds them incompatible and "
                "VLC was withdrawn from the App Store over this in 2011.", comp.obligations)
        if comp.license and (policy.allow or policy.deny):
            _allow_deny(comp, policy, add)

    reach = copyleft_reach(components)
    findings.extend(_chains(components, reach, policy))
    if models:
        # GPL code the app's own code links or loads makes the app GPL-covered; a GPL program merely shipped beside
        # it (an aggregate) does not.
        linked = [c for c in components if c.path in reach and c.family in ("gpl", "agpl")]
        linked += [c for c in components if c.origin == "unidentified" and c.family in ("gpl", "agpl") and c not in linked]
        findings.extend(_model_findings(components, models, policy, linked))
    for prob in problems:
        sev = policy.rules.get("member-problem", "warning")
        if sev != "off":
            findings.append(Finding("member-problem", sev, prob.path, f"{prob.path}: {prob.problem}: {prob.detail}"))  # type: ignore[arg-type]
    findings = apply_overrides(findings, components, policy)
    findings.extend(apply_waivers(findings, components, policy, today))
    return findings


def _allow_deny(comp: Component, policy: Policy, add: Callable[..., None]) -> None:
    """`license-denied` when no choice under OR avoids a denied id; `license-not-allowed` when none stays in the list."""
    from . import spdx

    try:
        expr = spdx.parse(comp.license or "", strict=False)
    except spdx.SpdxError:
        return
    deny, allow = set(policy.deny), set(policy.allow)

    def names(lic: spdx.LicenseId | spdx.With) -> set[str]:
        if isinstance(lic, spdx.With):
            return {str(lic), lic.licence.id, str(lic.licence)}
        return {lic.id, str(lic)}

    def avoids(e: spdx.Expression) -> bool:
        if isinstance(e, (spdx.LicenseId, spdx.With)):
            return not (names(e) & deny)
        return any(avoids(a) for a in e.args) if isinstance(e, spdx.Or) else all(avoids(a) for a in e.args)

    def allowed(e: spdx.Expression) -> bool:
        if isinstance(e, (spdx.LicenseId, spdx.With)):
            return bool(names(e) & allow)
        return any(allowed(a) for a in e.args) if isinstance(e, spdx.Or) else all(allowed(a) for a in e.args)

    if deny and not avoids(expr):
        add("license-denied", comp, f"{comp.path}: {comp.name} is under {comp.license}, which the policy denies "
            f"([licenses] deny = {', '.join(policy.deny)}).", comp.obligations)
    elif allow and not allowed(expr):
        add("license-not-allowed", comp, f"{comp.path}: {comp.name} is under {comp.license}, which is not in the policy's "
            "allow list ([licenses] allow).", comp.obligations)


def apply_overrides(findings: list[Finding], components: list[Component], policy: Policy) -> list[Finding]:
    """Findings with the severities [[override]] sets; an override to "off" drops the finding."""
    if not policy.overrides:
        return findings
    by_path = {c.path: c for c in components}
    out = []
    for f in findings:
        comp = by_path.get(f.component or "")
        sev: str = f.severity
        for o in policy.overrides:
            if o.rule == f.rule and (not (o.name or o.path or o.sha256) or _selects(o.name, o.path, o.sha256, comp, f.component)):
                sev = o.severity
        if sev != "off":
            f.severity = sev  # type: ignore[assignment]
            out.append(f)
    return out


_POLICY_RULES = ("waiver-expired", "waiver-unused", "source-offer-contact-missing")


def apply_waivers(findings: list[Finding], components: list[Component], policy: Policy,
                  today: datetime.date | None = None) -> list[Finding]:
    """Mark findings covered by a current waiver; return the findings about the waivers themselves.

    An expired waiver waives nothing and is itself a failure (`waiver-expired`); a current waiver that matches no
    finding is reported (`waiver-unused`) so stale waivers get cleaned up.
    """
    if not policy.waivers:
        return []
    today = today or datetime.datetime.now(datetime.timezone.utc).date()
    by_path = {c.path: c for c in components}
    out: list[Finding] = []
    for i, w in enumerate(policy.waivers):
        label = w.label(i)
        hits = [f for f in findings if f.rule not in _POLICY_RULES and w.matches(f, by_path.get(f.component or ""))]
        if w.expires is not None and w.expires < today:
            sev = policy.rules.get("waiver-expired", "error")
            if sev != "off":
                covers = f" it would cover {len(hits)} finding(s)" if hits else " it matches nothing"
                out.append(Finding("waiver-expired", sev, None,  # type: ignore[arg-type]
                                   f"{policy.source}: {label} expired on {w.expires.isoformat()};{covers}. "
                                   "Renew it with a new date or fix the build."))
            continue
        for f in hits:
            if f.waived_by is None:
                f.waived_by = label + (f" (until {w.expires.isoformat()})" if w.expires else "")
        if not hits:
            sev = policy.rules.get("waiver-unused", "warning")
            if sev != "off":
                what = ", ".join(f"{k} {v!r}" for k, v in (("name", w.name), ("path", w.path), ("sha256", w.sha256)) if v)
                out.append(Finding("waiver-unused", sev, None,  # type: ignore[arg-type]
                                   f"{policy.source}: {label} matches no finding ({what}); remove it or fix its pattern."))
    return out


def source_offer_findings(components: list[Component], policy: Policy) -> list[Finding]:
    """`source-offer-contact-missing` when a written offer is due and the policy names no one to answer it."""
    from . import spdx

    due = [c for c in components if c.family in ("gpl", "agpl", "lgpl")
           or any(m.license and spdx.family(m.license) in ("gpl", "agpl", "lgpl") for m in c.embedded)]
    if not due or policy.source_offer.complete:
        return []
    sev = policy.rules.get("source-offer-contact-missing", "warning")
    if sev == "off":
        return []
    return [Finding("source-offer-contact-missing", sev, None,  # type: ignore[arg-type]
                    f"{policy.source}: {len(due)} component(s) need a written source offer but the policy has no complete "
                    "[source_offer] (organisation plus address or email); SOURCE_OFFER.txt carries placeholders marked "
                    "TO BE COMPLETED.")]


def _model_findings(components: list[Component], models: dict[str, ModelFile], policy: Policy, gpl_code: list[Component]) -> list[Finding]:
    """Provenance, classification and the stance's requirements for every model; findings for what is missing."""
    from . import spdx
    from .ml import (
        classify_debian_ml_policy,
        classify_mof,
        find_declared,
        metadata_conflicts,
        model_use_restrictions,
        stance_requirements,
    )

    gpl_covered = policy.app_is_gpl_covered or bool(gpl_code)
    gpl3 = any("GPL-3.0" in (lic or "") or "-or-later" in (lic or "") for lic in [policy.app_license] + [c.license for c in gpl_code] if lic and "GPL" in lic)
    why_covered = (f"the app is declared {policy.app_license}" if policy.app_is_gpl_covered
                   else f"the app's code links or loads GPL code ({', '.join(c.path for c in gpl_code[:3])})" if gpl_code else "")
    out: list[Finding] = []

    def add(rule: str, comp: Component, message: str, severity: str | None = None) -> None:
        sev = severity or policy.rules.get(rule, "info")
        if sev != "off":
            out.append(Finding(rule, sev, comp.path, message))  # type: ignore[arg-type]

    for comp in components:
        mf = models.get(comp.path)
        if mf is None:
            continue
        dec = find_declared(policy.model_declarations, comp.path, comp.sha256)
        if dec is not None and dec.licence_spdx and comp.license != dec.licence_spdx:
            comp.details["embedded_license"] = comp.license
            comp.license = dec.licence_spdx
            comp.origin = "declared"
            comp.family = spdx.family(comp.license) if spdx.is_valid(comp.license) else "unknown"
        comp.obligations = obligations_for(comp.family, comp.license)
        reqs = stance_requirements(policy.model_stance, mf, dec, gpl_covered)  # type: ignore[arg-type]
        conflicts = metadata_conflicts(mf, dec)
        restrictions = model_use_restrictions(mf, dec)
        comp.details["provenance"] = {
            "declared": None if dec is None else {
                "source": dec.source, "match": dec.match, "license": dec.licence, "upstream": dec.upstream,
                "training_code": dec.training_code, "model_card": dec.model_card,
                "training_data": None if dec.training_data is None else {
                    "description": dec.training_data.description, "location": dec.training_data.location,
                    "license": dec.training_data.licence},
            },
            "stance": policy.model_stance,
            "app_gpl_covered": gpl_covered,
            "debian_ml_policy": classify_debian_ml_policy(mf, dec).to_json(),
            "model_openness_framework": classify_mof(mf, dec).to_json(),
            "requirements": [r.to_json() for r in reqs],
            "conflicts": [c.to_json() for c in conflicts],
            "use_restrictions": [r.to_json() for r in restrictions],
        }
        for r in reqs:
            if r.present:
                continue
            if r.severity == "violation":
                add("model-stance-unmet", comp, f"{comp.path}: {r.what} is missing; the policy's stance ({policy.model_stance}) "
                    f"counts it as the model's corresponding source and {why_covered}.")
            elif r.key == "licence":
                add("model-license-undeclared", comp, f"{comp.path}: the model carries no licence and none is declared in the policy ([[models.declare]]).")
            else:
                add("model-stance-unmet", comp, f"{comp.path}: {r.what} is not declared (needed only if the app becomes GPL-covered).", "info")
        for c in conflicts:
            add("model-metadata-conflict", comp, f"{comp.path}: declared {c.field} {c.declared!r} ({c.declared_source}) contradicts the embedded {c.embedded!r}.")
        for u in restrictions:
            add("model-use-restricted", comp, f"{comp.path}: {u.licence} restricts use ({'; '.join(u.restrictions[:3])}); pass the restrictions on and ship its notice: {u.notice}")
            if u.gpl3_conflict and gpl3:
                add("model-gpl3-conflict", comp, f"{comp.path}: {u.licence} adds use restrictions, which GPL-3.0 s.7 and s.10 forbid in a work covered by it ({why_covered}).")
    return out


def _statically_combined(comp: Component) -> str | None:
    """Why an LGPL component counts as statically combined, or None when it is its own shared library."""
    if comp.kind in ("static-archive", "object"):
        return "in a static archive that gets linked into other code"
    from . import spdx

    if comp.origin != "identified" and any(m.license and spdx.family(m.license) == "lgpl" for m in comp.embedded):
        return "linked statically into app code"
    if comp.kind == "executable" and comp.format == "macho" and comp.details.get("bundle_executable"):
        return "linked into the app's main executable"
    return None


def copyleft_reach(components: list[Component]) -> dict[str, list[list[str]]]:
    """Copyleft components that app-owned code (DEX call sites, unidentified native code) links or loads, each with
    the chains that reach it."""
    by_path = {c.path: c for c in components}
    found: dict[tuple[str, str], list[str]] = {}

    def walk(origin: str, start: Component, chain: list[str]) -> None:
        seen = {start.path}
        queue = [(start, chain)]
        while queue:
            comp, path = queue.pop(0)
            if comp.family in _CHAIN_FAMILIES and len(path) > 1:
                found.setdefault((origin, comp.path), path)
            for nxt in comp.links:
                target = by_path.get(nxt)
                if target is not None and nxt not in seen:
                    seen.add(nxt)
                    queue.append((target, path + [nxt]))

    for comp in components:
        if comp.format in ("elf", "macho") and comp.origin == "unidentified":
            walk(comp.path, comp, [comp.path])
    for comp in components:
        for site in comp.load_sites:
            origin = f"{site.member} ({site.class_name}.{site.method})"
            walk(origin, comp, [origin, comp.path])

    by_target: dict[str, list[list[str]]] = {}
    for (_origin, target), chain in found.items():
        by_target.setdefault(target, []).append(chain)
    return by_target


def _chains(components: list[Component], reach: dict[str, list[list[str]]], policy: Policy) -> list[Finding]:
    """One finding per copyleft component app code reaches. A chain that is the tail of a longer one
    (libapp.so -> libavcodec.so inside classes.dex (Player.<clinit>) -> libapp.so -> libavcodec.so) adds nothing;
    the longest chain comes first."""
    by_path = {c.path: c for c in components}
    out = []
    for target, chains in reach.items():
        comp = by_path[target]
        sev = policy.rules.get("app-links-copyleft", "error")
        if policy.app_is_gpl_covered and comp.family != "nonfree" and sev == "error":
            sev = "info"
        if sev == "off":
            continue
        maximal = [c for c in chains if not any(len(o) > len(c) and o[-len(c):] == c for o in chains)]
        maximal.sort(key=lambda c: (-len(c), c))
        chain, others = maximal[0], maximal[1:]
        also = ""
        if others:
            shown = "; ".join(" -> ".join(o) for o in others[:3])
            also = f"; also reached by {len(others)} other path(s): {shown}" + ("; …" if len(others) > 3 else "")
        out.append(Finding(
            "app-links-copyleft", sev, target,  # type: ignore[arg-type]
            f"App code reaches {comp.family.upper()} code {target} ({comp.license}): " + " -> ".join(chain) + also,
            comp.obligations, chain,
        ))
    return out


_CHAIN_FAMILIES = ("gpl", "agpl", "nonfree")


def verdict(findings: list[Finding], fail_on: str = "error") -> Literal["pass", "fail"]:
    if fail_on == "never":
        return "pass"
    failing = {"error"} if fail_on == "error" else {"error", "warning"}
    return "fail" if any(f.severity in failing and not f.waived_by for f in findings) else "pass"
