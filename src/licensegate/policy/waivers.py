"""Waivers and severity overrides: how a policy file accepts or re-grades findings."""

from __future__ import annotations

import datetime
import fnmatch
import posixpath
import re

from .._dataclasses import dataclass, field
from ..model import Component, Finding

REASON_PLACEHOLDER = "FILL IN:"  # starts the reason of a report's waiver snippet; a policy refuses it unedited


@dataclass
class Waiver:
    """Accepts the findings of matching components, for a stated reason, until an optional expiry date."""

    reason: str
    name: str | None = None  # component name, glob, case-insensitive ("FFmpeg *")
    path: str | None = None  # component path glob ("**/lib/*/libx264.so"; `**/` may match no folder)
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
        return selects(self.name, self.path, self.sha256, comp, finding.component)

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and self.expires < today

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


def path_matches(pattern: str, path: str) -> bool:
    """A case-insensitive glob where `*` also crosses folders and `**/` matches no folder as well as any, so
    `**/lib/*/libx264.so` fits an APK (`lib/...`), an AAB module (`base/lib/...`) and nested archives alike."""
    pattern, path = pattern.lower(), path.lower()
    if fnmatch.fnmatchcase(path, pattern):
        return True
    # each `**/` may also stand for nothing: try the pattern with it removed (at the start or after a slash)
    for m in re.finditer(r"(?:^|/)\*\*/", pattern):
        start = m.start() + (1 if pattern[m.start()] == "/" else 0)
        if path_matches(pattern[:start] + pattern[start + 3:], path):
            return True
    return False


def selects(name: str | None, path: str | None, sha256: str | None, comp: Component | None, finding_path: str | None) -> bool:
    """True when every selector given matches (name and path are case-insensitive globs); False when none is given."""
    target = comp.path if comp is not None else finding_path
    checks = (name is None or _name_selects(name, comp), path is None or _path_selects(path, target),
              sha256 is None or _sha256_selects(sha256, comp))
    return (name, path, sha256) != (None, None, None) and all(checks)


def _name_selects(glob: str, comp: Component | None) -> bool:
    return comp is not None and fnmatch.fnmatchcase(comp.name.lower(), glob.lower())


def _path_selects(glob: str, target: str | None) -> bool:
    return target is not None and path_matches(glob, target)


def _sha256_selects(digest: str, comp: Component | None) -> bool:
    return comp is not None and (comp.sha256 or "").lower() == digest


def unmatched_path_hint(waiver: Waiver, components: list[Component]) -> str:
    """For a waiver that waived nothing, why its `path` glob did not help: the path of the same component nearest to
    it (a file of the same name, or a component the waiver's `name` selects) and a `**/` glob that matches that path
    in APK, AAB and IPA layouts alike; "" when it has no path."""
    pattern = waiver.path
    if not pattern:
        return ""
    paths = sorted({c.path for c in components})
    return _matched_hint(pattern, paths) or _nearest_hint(waiver, pattern, components, paths)


def _matched_hint(pattern: str, paths: list[str]) -> str:
    matched = [p for p in paths if path_matches(pattern, p)]
    if not matched:
        return ""
    more = f" and {len(matched) - 1} more" if len(matched) > 1 else ""
    return f" Its path matches {matched[0]}{more}, but no finding there that its name and rules select."


def _nearest_hint(waiver: Waiver, pattern: str, components: list[Component], paths: list[str]) -> str:
    """The nearest path of the same thing (a file of the pattern's file name, or a component the waiver's name
    selects) and a glob for it; else that nothing like it ships."""
    same = sorted({c.path for c in components if _same_name(posixpath.basename(pattern), c.path)
                   or (waiver.name is not None and _name_selects(waiver.name, c))})
    nearest = nearest_path(pattern, same or paths)
    if nearest is None:
        return ""
    if not same:
        return _gone_hint(waiver, pattern, nearest)
    return (f" The nearest shipped path is {nearest}; path = {suggested_glob(pattern, nearest)!r} matches it "
            "(`**/` matches any folders or none, so one glob fits lib/ in an APK, base/lib/ in an AAB and nested "
            "archives).")


def _gone_hint(waiver: Waiver, pattern: str, nearest: str) -> str:
    """Nothing like the waived component ships: a glob for another library would waive the wrong one, so say so."""
    also = f" and no component like {waiver.name!r}" if waiver.name else ""
    return (f" No shipped file is named like {posixpath.basename(pattern)!r}{also}: this build may no longer ship it "
            f"(the closest path is {nearest}).")


def nearest_path(pattern: str, paths: list[str]) -> str | None:
    """The path most like a glob that matched none: same file name first (`lib*.so` against the last part), then the
    closest spelling of the glob's literal text."""
    if not paths:
        return None
    import difflib  # only when a waiver matched nothing

    literal = pattern.lower().replace("**/", "").replace("*", "").replace("?", "")
    same_name = [p for p in paths if _same_name(posixpath.basename(pattern), p)] or paths

    def likeness(p: str) -> tuple[float, int, str]:
        return (-difflib.SequenceMatcher(None, literal, p.lower()).ratio(), len(p), p)

    return min(same_name, key=likeness)


def _same_name(name_glob: str, path: str) -> bool:
    return fnmatch.fnmatchcase(posixpath.basename(path.lower()), name_glob.lower())


def suggested_glob(pattern: str, path: str) -> str:
    """A glob that matches `path` and keeps to the user's pattern where it can: `**/` before it, else the glob a
    report's waiver snippet gives that component (`**/lib/*/name` for a native library in any ABI and module,
    `**/Frameworks/x.framework/x` in an IPA)."""
    widened = f"**/{pattern.lstrip('/')}"
    return widened if not pattern.startswith("**/") and path_matches(widened, path) else waiver_glob(path)


def waiver_glob(path: str) -> str:
    """A path glob for one component that matches it in an APK, an AAB module and an IPA or .app folder alike.

    `lib/arm64-v8a/libx264.so` and `base/lib/x86_64/libx264.so` -> `**/lib/*/libx264.so`;
    `Payload/App.app/Frameworks/x264.framework/x264` -> `**/Frameworks/x264.framework/x264`;
    `classes2.dex!/androidx/` -> `**/androidx/`; an AAR's `jni/<abi>/` keeps `jni`; anything else: `**/` + its path
    inside the app (`**/` matches no folder too, so the glob also fits the APK's root).
    """
    m = re.match(r"^(?:[^/!]+/)?(lib|jni)/[^/]+/(.+)$", path)
    if m and "!/" not in path:
        return f"**/{m.group(1)}/*/{glob_escape(m.group(2))}"
    m = re.match(r"^(?:Payload/)?[^/]+\.app/(.+)$", path)
    if m:
        return f"**/{glob_escape(m.group(1))}"
    if "!/" in path and re.match(r"^(?:[^!]*/)?classes\d*\.dex$", path.split("!/", 1)[0]):
        return f"**/{glob_escape(path.split('!/', 1)[1])}"
    m = re.match(r"^[^/!]+/((?:assets|res|root|dex|lib)/.+)$", path)  # an AAB module folder
    return f"**/{glob_escape(m.group(1) if m else path)}"


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


def today_utc() -> datetime.date:
    return datetime.datetime.now(datetime.timezone.utc).date()


def expired_waivers(waivers: list[Waiver], today: datetime.date | None = None) -> list[tuple[int, Waiver]]:
    """(index, waiver) for every waiver whose expiry date has passed (default: today in UTC)."""
    today = today or today_utc()
    return [(i, w) for i, w in enumerate(waivers) if w.expired(today)]
