"""Which policy file `licensegate scan` (and `diff`) uses when the user does not say, and the ones it passed over.

The order is the one a user expects after `licensegate policy init` (docs/policy.md): `--policy FILE`, else
`licensegate.toml` in the current folder, else at the repository root (the nearest folder at or above the current
one holding `.git`), else beside the artifact, else the built-in default. A `licensegate.toml` that is a symbolic
link is never followed (the user can still name it with `--policy`): it is reported as found but not used.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from .._dataclasses import dataclass, field

POLICY_FILE = "licensegate.toml"

CURRENT_FOLDER = "the current folder"
REPOSITORY_ROOT = "the repository root"
BESIDE_ARTIFACT = "beside the artifact"
GIVEN = "--policy"


@dataclass(frozen=True)
class PolicyFile:
    """A policy file in one of the places discovery looks, as the user would type its path."""

    path: str
    place: str  # CURRENT_FOLDER, REPOSITORY_ROOT, BESIDE_ARTIFACT or GIVEN
    skipped_because: str | None = None  # why a found file was not used even though nothing came before it

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"path": self.path, "place": self.place}
        if self.skipped_because:
            out["skipped_because"] = self.skipped_because
        return out


@dataclass
class PolicyChoice:
    """The policy file used (None: the built-in default) and the other ones found but not used."""

    used: PolicyFile | None
    not_used: list[PolicyFile] = field(default_factory=list)

    @property
    def path(self) -> Path | None:
        return Path(self.used.path) if self.used is not None else None

    def describe(self) -> str:
        """One line for a report: `licensegate.toml (found in the current folder); not used: ...`."""
        if self.used is None:
            said = (f"built-in default (no {POLICY_FILE} in the current folder, at the repository root or beside the "
                    "artifact; `licensegate policy init` writes one)")
        elif self.used.place == GIVEN:
            said = f"{self.used.path} (given with --policy)"
        else:
            said = f"{self.used.path} (found {_in(self.used.place)})"
        if self.not_used:
            said += "; not used: " + ", ".join(_passed_over(f) for f in self.not_used)
        return said

    def to_json(self) -> dict[str, object]:
        return {"file": self.used.path if self.used else None, "place": self.used.place if self.used else None,
                "not_used": [f.to_json() for f in self.not_used]}


def _in(place: str) -> str:
    return place if place == BESIDE_ARTIFACT else f"in {place}" if place == CURRENT_FOLDER else f"at {place}"


def _passed_over(f: PolicyFile) -> str:
    return f"{f.path} ({f.place}{'; ' + f.skipped_because if f.skipped_because else ''})"


def repository_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` holding `.git` (a folder, or a file in a worktree or submodule).
    `.git` is looked at with lstat and never followed or opened."""
    for folder in (start, *start.parents):
        if os.path.lexists(folder / ".git"):
            return folder
    return None


def _candidate(folder: Path, place: str) -> PolicyFile | None:
    """`licensegate.toml` in `folder` if there is one: a regular file, or a link noted as not followed."""
    path = folder / POLICY_FILE
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISLNK(mode):
        return PolicyFile(_shown(path), place, "a symbolic link, not followed; name it with --policy to use it")
    if not stat.S_ISREG(mode):
        return None
    return PolicyFile(_shown(path), place)


def _shown(path: Path) -> str:
    """A path as a user would type it: relative to the current folder when that is shorter, else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return rel if len(rel) <= len(str(path)) else str(path)


def _places(artifact: Path, cwd: Path) -> list[tuple[Path, str]]:
    places = [(cwd, CURRENT_FOLDER)]
    root = repository_root(cwd)
    if root is not None:
        places.append((root, REPOSITORY_ROOT))
    # the artifact's folder as given: abspath, not resolve, so a linked artifact is not followed to its target
    places.append((Path(os.path.abspath(artifact)).parent, BESIDE_ARTIFACT))
    return places


def discover(artifact: Path, given: Path | None = None, cwd: Path | None = None) -> PolicyChoice:
    """The policy file for scanning `artifact`: `given` (--policy) if set, else the first regular `licensegate.toml`
    of the current folder, the repository root and the artifact's folder; the others found are `not_used`."""
    found = _found(_places(artifact, Path(os.path.abspath(cwd or Path.cwd()))))
    if given is not None:
        given_key = os.path.normcase(os.path.abspath(given))
        rest = [f for f in found if os.path.normcase(os.path.abspath(f.path)) != given_key]
        return PolicyChoice(PolicyFile(str(given), GIVEN), rest)
    chosen = next((f for f in found if f.skipped_because is None), None)
    return PolicyChoice(chosen, [f for f in found if f is not chosen])


def _found(places: list[tuple[Path, str]]) -> list[PolicyFile]:
    """The licensegate.toml of each place, in order; a folder met twice (the current one is the root) counts once."""
    found: list[PolicyFile] = []
    seen: set[str] = set()
    for folder, place in places:
        key = os.path.normcase(str(folder))
        candidate = None if key in seen else _candidate(folder, place)
        seen.add(key)
        if candidate is not None:
            found.append(candidate)
    return found
