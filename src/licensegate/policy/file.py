"""The policy file: the `Policy` it describes, and reading it with every error named by its line."""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _toml
from .._dataclasses import dataclass, field
from ..errors import UsageError
from ..fsutil import open_regular
from .rules import DEFAULT_RULES, SEVERITIES
from .waivers import REASON_PLACEHOLDER, Override, Waiver

if TYPE_CHECKING:
    from ..ml import Declared


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
    """A licence policy: the built-in default, or a licensegate.toml as `load` read it."""

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
        from .. import spdx

        return spdx.family(self.app_license) in ("gpl", "agpl")

    def severity(self, rule: str, default: str = "info") -> str:
        """The severity the policy gives `rule` ("off" when findings of it are dropped)."""
        return self.rules.get(rule, default)

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


def beside(artifact: Path) -> Path | None:
    """The policy file the CLI uses when none is given: `licensegate.toml` in the artifact's folder, if there is one."""
    candidate = artifact.resolve().parent / "licensegate.toml"
    return candidate if candidate.is_file() else None


_KNOWN_TOP = {"version", "app", "rules", "models", "licenses", "waiver", "override", "source_offer"}
_WAIVER_KEYS = {"reason", "name", "path", "sha256", "rule", "expires"}
_OVERRIDE_KEYS = {"rule", "severity", "name", "path", "sha256", "reason"}
_OFFER_KEYS = {"organisation", "address", "email", "url", "years"}
@functools.cache
def _sha256() -> re.Pattern[str]:
    return re.compile(r"^[0-9a-fA-F]{64}$")  # compiled on first use: only a waiver naming a sha256 needs it
_MAX_POLICY_BYTES = 1024**2  # real policies are a few KiB; the TOML parser takes seconds per 10 MB
_MAX_NESTING = 32  # arrays and inline tables inside each other; the parser recurses once per level


def _show(value: object, limit: int = 60) -> str:
    """A value as the policy wrote it, for a message: cut short (a 50 MB value is not repeated) and escaped."""
    from ..escape import text as escape_text

    shown = repr(value) if not isinstance(value, (list, dict)) or len(value) < 1000 else f"<{type(value).__name__} of {len(value)}>"
    if len(shown) > limit:
        shown = f"{shown[:limit]}… ({len(shown):,} characters)"
    return escape_text(shown)


def _show_text(message: str) -> str:
    from ..escape import clip

    return clip(message, 300)


def _nesting_problem(text: str) -> str | None:
    """Where arrays or inline tables nest deeper than _MAX_NESTING, by one pass over the text (strings and
    comments skipped), before the parser recurses into them: `a = [[[[...` 100,000 deep is a one-line error."""
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        c = text[i]
        if c == "#" or c in "\"'":
            end = _comment_end(text, i) if c == "#" else _string_end(text, i)
            if end is None:
                return None  # an unterminated string: the parser says where
            line += text.count("\n", i, end)
            i = end
            continue
        if c == "\n":
            line += 1
        elif c in "[{":
            depth += 1
            if depth > _MAX_NESTING:
                return f"line {line}: arrays or tables nested deeper than {_MAX_NESTING} levels"
        elif c in "]}":
            depth = max(depth - 1, 0)
        i += 1
    return None


def _comment_end(text: str, i: int) -> int:
    """Where the comment starting at text[i] ends: at its line end (which the caller still counts)."""
    j = text.find("\n", i)
    return len(text) if j < 0 else j


def _string_end(text: str, i: int) -> int | None:
    """Just past the string (basic or literal, one-line or multi-line) starting at text[i]; None if unterminated."""
    quote = text[i]
    delim = quote * 3 if text.startswith(quote * 3, i) else quote
    j = i + len(delim)
    while True:
        k = text.find(delim, j)
        if k < 0:
            return None
        if quote == "'" or _unescaped(text, j, k):
            return k + len(delim)
        j = k + 1


def _unescaped(text: str, start: int, k: int) -> bool:
    """True when the quote at text[k] is not escaped: an even number of backslashes (after `start`) before it."""
    back = k
    while back > start and text[back - 1] == "\\":
        back -= 1
    return (k - back) % 2 == 0


@functools.cache
def _key_pattern() -> re.Pattern[str]:
    """A TOML key and its `=` at a line's start; compiled on first use: only a policy file is read for its lines."""
    return re.compile(r"[ \t]*(\"[^\"]*\"|'[^']*'|[A-Za-z0-9_-]+(?:[ \t]*\.[ \t]*[A-Za-z0-9_-]+)*)[ \t]*=")


class _Lines:
    """Line numbers of TOML keys by a simple scan of the text: tomllib/tomli report none for values that parse.

    Linear in the text: headers are cut by hand (a regex with three space-eating groups backtracked cubically on a
    line of `[` and thousands of spaces), and lines inside multi-line strings are skipped, not read as keys."""

    def __init__(self, text: str) -> None:
        self.keys: dict[tuple[str, int, str], int] = {}
        self.tables: dict[tuple[str, int], int] = {}
        self._counts: dict[str, int] = {}
        table, index = "", 0
        in_string: str | None = None  # the delimiter of the multi-line string the scan is inside
        key = _key_pattern()
        for n, line in enumerate(text.splitlines(), 1):
            if in_string is not None:
                in_string = None if in_string in line else in_string
                continue
            header = _header(line)
            if header is not None:
                table, index = self._table(header, n)
                continue
            k = key.match(line)
            if k:
                in_string = self._key(k, line, table, index, n)

    def _table(self, header: tuple[bool, str], n: int) -> tuple[str, int]:
        """Record a `[table]` or `[[table]]` header: the table and the index of this array entry."""
        double, table = header
        index = self._counts.get(table, -1) + 1 if double else 0
        if double:
            self._counts[table] = index
        self.tables.setdefault((table, index), n)
        return table, index

    def _key(self, k: re.Match[str], line: str, table: str, index: int, n: int) -> str | None:
        """Record a key; the delimiter of a multi-line string its value opens, else None."""
        key = k.group(1).replace(" ", "").strip("\"'")
        full_table, full_key = table, key
        if "." in key:  # dotted key: the last part is the key, the rest extends the table
            head, _, full_key = key.rpartition(".")
            full_table = f"{table}.{head}" if table else head
        self.keys.setdefault((full_table, index if full_table == table else 0, full_key), n)
        value = line[k.end() :].lstrip()
        return next((d for d in ('"""', "'''") if value.startswith(d) and d not in value[3:]), None)

    def of(self, table: str, key: str | None = None, index: int = 0) -> int | None:
        if key is not None and (table, index, key) in self.keys:
            return self.keys[(table, index, key)]
        return self.tables.get((table, index))


def _header(line: str) -> tuple[bool, str] | None:
    """(is an array of tables, table name) when `line` is a `[table]` or `[[table]]` header, else None."""
    s = line.lstrip()
    if not s.startswith("["):
        return None
    double = s.startswith("[[")
    body = s[2:] if double else s[1:]
    close = body.find("]")
    if close < 0:
        return None
    name = body[:close].strip()
    rest = body[close + 1 :]
    if double:
        if not rest.startswith("]"):
            return None
        rest = rest[1:]
    rest = rest.strip()
    if not name or (rest and not rest.startswith("#")):
        return None
    return double, name.replace(" ", "").replace('"', "")


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
        from .. import spdx

        if not isinstance(value, str) or len(value) > 2000 or not spdx.is_valid(value):
            self.error(f"{what} {_show(value)} is not a valid SPDX expression", table, key, index)
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
        self.error(f"{what} {_show(value)} is not a date; write it as YYYY-MM-DD", table, key, index)
        return None


def load(path: Path | None) -> Policy:
    """The policy in `path`, or the built-in default when None. Bad files raise UsageError (exit 2).

    The error names the file and the line of each problem (`licensegate.toml:12: ...`), one per line.
    """
    if path is None:
        return Policy()
    text, raw = _read_toml(path)
    r = _Reader(path, text)
    policy = Policy(source=str(path))
    _check_top_level(raw, r)
    _load_app(raw.get("app", {}), policy, r)
    _load_rules(raw.get("rules", {}), policy, r)
    _load_licenses(raw.get("licenses", {}), policy, r)
    _load_waivers(raw.get("waiver", []), policy, r)
    _load_overrides(raw.get("override", []), policy, r)
    _load_source_offer(raw.get("source_offer", {}), policy, r)
    _load_models_by_line(raw.get("models", {}), policy, path, r)
    if r.errors:
        raise UsageError("\n".join(r.errors))
    return policy


def _read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The policy file's text and its parsed TOML; every way reading it fails is a one-line UsageError."""
    try:
        with open_regular(path) as fh:  # a FIFO given as the policy would block the read forever
            data = fh.read(_MAX_POLICY_BYTES + 1)
        if len(data) > _MAX_POLICY_BYTES:
            raise UsageError(f"{path}: policy file larger than {_MAX_POLICY_BYTES // 1024**2} MiB; a policy is a few kilobytes of TOML")
        text = data.decode("utf-8")
        nesting = _nesting_problem(text)
        if nesting is not None:
            raise UsageError(f"{path}: invalid TOML ({nesting})")
        return text, _toml.loads(text)
    except FileNotFoundError:
        raise UsageError(f"{path}: policy file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read policy file ({exc})") from None
    except _toml.TOMLDecodeError as exc:
        raise UsageError(f"{path}: invalid TOML ({_show_text(str(exc))})") from None
    except RecursionError:
        raise UsageError(f"{path}: invalid TOML (nested too deep)") from None


def _check_top_level(raw: dict[str, Any], r: _Reader) -> None:
    for key in sorted(set(raw) - _KNOWN_TOP):
        r.error(f"unknown key {_show(key)}; known: {', '.join(sorted(_KNOWN_TOP))}", key if isinstance(raw[key], dict) else "", key)
    version = raw.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version != 1:
        r.error(f"policy version {_show(version)} is not supported (this LicenseGate reads version 1, an integer)", "", "version")


def _load_app(app: object, policy: Policy, r: _Reader) -> None:
    if not isinstance(app, dict):
        r.error("[app] must be a table", "", "app")
        return
    for key in sorted(set(app) - {"license"}):
        r.error(f"unknown key {_show(key)} in [app]; [app] accepts only 'license'", "app", key)
    if "license" in app:
        policy.app_license = r.spdx_id(app["license"], "app.license", "app", "license")


def _load_rules(rules: object, policy: Policy, r: _Reader) -> None:
    if not isinstance(rules, dict):
        r.error("[rules] must be a table of rule = severity", "", "rules")
        return
    for rule, sev in rules.items():
        if rule not in DEFAULT_RULES:
            r.error(f"unknown rule {_show(rule)}; known: {', '.join(DEFAULT_RULES)}", "rules", rule)
        elif sev not in SEVERITIES:
            r.error(f"rule {_show(rule)} has severity {_show(sev)}; use one of {', '.join(SEVERITIES)}", "rules", rule)
        else:
            policy.rules[rule] = sev


def _load_models_by_line(table: object, policy: Policy, path: Path, r: _Reader) -> None:
    """[models], its errors reported at their line like the rest of the file's."""
    try:
        _load_models(table, policy, path)
    except UsageError as exc:
        message = str(exc).removeprefix(f"{path}: ")
        m = re.search(r"models\.declare\[(\d+)\]", message)
        if m:
            r.error(message.removeprefix(f"models.declare[{m.group(1)}]: "), "models.declare", None, int(m.group(1)))
        else:
            r.error(message, "models", "source")


def _load_licenses(table: object, policy: Policy, r: _Reader) -> None:
    if not isinstance(table, dict):
        r.error("[licenses] must be a table with allow = [...] and deny = [...]", "", "licenses")
        return
    for key in sorted(set(table) - {"allow", "deny"}):
        r.error(f"unknown key {_show(key)} in [licenses]; known: allow, deny", "licenses", key)
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
    if out[2] is not None and not _sha256().match(out[2]):
        r.error(f"{table}[{i}].sha256 must be 64 hex digits", table, "sha256", i)
    if not any(out):
        r.error(f"{table}[{i}] matches nothing: give name, path or sha256", table, None, i)
    return out[0], out[1], (out[2] or "").lower() or None


def _array_of_tables(entries: object, table: str, what: str, keys: set[str], r: _Reader) -> Iterator[tuple[int, dict[str, Any]]]:
    """The entries of a `[[table]]` array that are tables, each with its index; what is not is reported."""
    if not isinstance(entries, list):
        r.error(f"{what} are an array of tables: write [[{table}]]", "", table)
        return
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            r.error(f"{table}[{i}] must be a table", table, None, i)
            continue
        for key in sorted(set(entry) - keys):
            r.error(f"unknown key {_show(key)} in [[{table}]]; known: {', '.join(sorted(keys))}", table, key, i)
        yield i, entry


def _load_waivers(entries: object, policy: Policy, r: _Reader) -> None:
    for i, entry in _array_of_tables(entries, "waiver", "waivers", _WAIVER_KEYS, r):
        reason = _waiver_reason(entry, i, r)
        name, path, sha = _selectors(entry, "waiver", i, r)
        rules = _waiver_rules(entry, i, r)
        expires = r.date(entry["expires"], f"waiver[{i}].expires", "waiver", "expires", i) if "expires" in entry else None
        policy.waivers.append(Waiver(reason, name, path, sha, rules, expires, r.lines.of("waiver", None, i)))


def _waiver_reason(entry: dict[str, Any], i: int, r: _Reader) -> str:
    reason = entry.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        r.error("every [[waiver]] needs a reason = \"why this is acceptable\"", "waiver", "reason", i)
        return ""
    if reason.lstrip().startswith(REASON_PLACEHOLDER):
        r.error(f"waiver[{i}].reason is still the report's placeholder ({_show(REASON_PLACEHOLDER)}): replace it with "
                "why this is acceptable", "waiver", "reason", i)
    return reason.strip()


def _waiver_rules(entry: dict[str, Any], i: int, r: _Reader) -> list[str]:
    rules = entry.get("rule", [])
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list) or any(not isinstance(x, str) or x not in DEFAULT_RULES for x in rules):
        r.error(f"waiver[{i}].rule must be a rule id or a list of them; known: {', '.join(DEFAULT_RULES)}", "waiver", "rule", i)
        return []
    return list(rules)


def _load_overrides(entries: object, policy: Policy, r: _Reader) -> None:
    for i, entry in _array_of_tables(entries, "override", "severity overrides", _OVERRIDE_KEYS, r):
        rule, sev = entry.get("rule"), entry.get("severity")
        if not isinstance(rule, str) or rule not in DEFAULT_RULES:
            r.error(f"override[{i}].rule {_show(rule)} is not a rule; known: {', '.join(DEFAULT_RULES)}", "override", "rule", i)
        if not isinstance(sev, str) or sev not in SEVERITIES:
            r.error(f"override[{i}].severity {_show(sev)}; use one of {', '.join(SEVERITIES)}", "override", "severity", i)
        name, path, sha = _selectors(entry, "override", i, r)
        reason = entry.get("reason")
        if reason is not None and not isinstance(reason, str):
            r.error(f"override[{i}].reason must be a string", "override", "reason", i)
        policy.overrides.append(Override(str(rule), str(sev), name, path, sha, reason if isinstance(reason, str) else None,
                                         r.lines.of("override", None, i)))


def _load_source_offer(table: object, policy: Policy, r: _Reader) -> None:
    if not isinstance(table, dict):
        r.error("[source_offer] must be a table", "", "source_offer")
        return
    for key in sorted(set(table) - _OFFER_KEYS):
        r.error(f"unknown key {_show(key)} in [source_offer]; known: {', '.join(sorted(_OFFER_KEYS))}", "source_offer", key)
    _offer_contact(table, policy.source_offer, r)
    _offer_years(table, policy.source_offer, r)


def _offer_contact(table: dict[str, Any], offer: SourceOfferContact, r: _Reader) -> None:
    """organisation, address, email and url: non-empty strings; the e-mail an address, the URL http(s)."""
    for key in ("organisation", "address", "email", "url"):
        v = table.get(key)
        if v is None:
            continue
        if not isinstance(v, str) or not v.strip():
            r.error(f"source_offer.{key} must be a non-empty string", "source_offer", key)
            continue
        setattr(offer, key, v.strip())
    if offer.email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", offer.email):
        r.error(f"source_offer.email {_show(offer.email)} is not an e-mail address", "source_offer", "email")
    if offer.url is not None and not re.match(r"^https?://", offer.url):
        r.error(f"source_offer.url {_show(offer.url)} must start with https:// or http://", "source_offer", "url")


def _offer_years(table: dict[str, Any], offer: SourceOfferContact, r: _Reader) -> None:
    years = table.get("years", 3)
    if not isinstance(years, int) or isinstance(years, bool) or years < 3:
        r.error(f"source_offer.years {_show(years)}: a written offer must be valid for at least 3 years "
                "(GPL-2.0 s.3(b), GPL-3.0 s.6(b))", "source_offer", "years")
    else:
        offer.years = years


def _load_models(table: object, policy: Policy, path: Path) -> None:
    from ..ml import Declared
    from ..ml.provenance import STANCES

    if not isinstance(table, dict):
        raise UsageError(f"{path}: [models] must be a table")
    unknown = set(table) - {"source", "declare"}
    if unknown:
        raise UsageError(f"{path}: unknown key(s) in [models]: {', '.join(sorted(unknown))}; known: declare, source")
    stance = table.get("source", policy.model_stance)
    if stance not in STANCES:
        raise UsageError(f"{path}: models.source must be one of {', '.join(STANCES)}; got {_show(stance)}")
    policy.model_stance = stance
    declared = table.get("declare", [])
    if not isinstance(declared, list):
        raise UsageError(f"{path}: models.declare must be an array of tables ([[models.declare]])")
    for i, entry in enumerate(declared):
        if not isinstance(entry, dict):
            raise UsageError(f"{path}: models.declare[{i}] must be a table")
        policy.model_declarations.append(Declared.from_mapping(entry, source=f"{path}: models.declare[{i}]"))
