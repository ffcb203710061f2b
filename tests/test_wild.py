"""The "wild" corpus: real third-party mobile/ARM binaries (npm AARs, PyPI aarch64 wheels, extra Debian arm64
packages, vendor iOS fat frameworks in an IPA and a vendor xcframework) laid out by fixtures/wild.py, scanned with
the real CLI, against fixtures/expected-wild/*.json.

The expected answers come from each project's own licence files (fixtures/wild/README.md), never from LicenseGate's
output.  A failed download or build FAILS these tests with the script's output; nothing is skipped.
"""

from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from fixture_corpus import cache_dir
from licensegate.cli import main

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "fixtures" / "wild.py"
EXPECTED_DIR = REPO / "fixtures" / "expected-wild"
ARTIFACTS = sorted(p.name[: -len(".json")] for p in EXPECTED_DIR.glob("*.json"))
COPYLEFT = {"gpl", "agpl", "lgpl", "weak-copyleft", "nonfree"}
_GENERIC = {"gnu", "the", "library", "project", "lib", "libraries", "client"}


class WildCorpusError(RuntimeError):
    """fixtures/wild.py failed."""


@functools.lru_cache(maxsize=1)
def wild_dir() -> Path:
    proc = subprocess.run([sys.executable, str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise WildCorpusError(f"fixtures/wild.py failed with exit code {proc.returncode}:\n{proc.stdout}")
    out = cache_dir() / "wild" / "out"
    manifest = json.loads((out / "manifest.json").read_text())
    missing = [a["name"] for a in manifest["artifacts"] if not (out / a["name"]).is_file()]
    if missing:
        raise WildCorpusError(f"wild corpus in {out} lacks {', '.join(missing)}:\n{proc.stdout}")
    if manifest.get("expected_drift"):
        raise WildCorpusError(f"fixtures/expected-wild differs from the tables in fixtures/wild.py for {manifest['expected_drift']}")
    return out


def expected(artifact: str) -> dict:
    return json.loads((EXPECTED_DIR / f"{artifact}.json").read_text())


@functools.cache
def report_for(artifact: str) -> tuple[int, dict]:
    out = wild_dir().parent / "reports" / f"{artifact}.json"
    out.parent.mkdir(exist_ok=True)
    code = main(["scan", str(wild_dir() / artifact), "--format", "json", "--output", str(out), "--no-progress"])
    assert code in (0, 1), f"scan of {artifact} exited {code}"
    return code, json.loads(out.read_text())


def components(report: dict) -> dict[str, dict]:
    return {c["path"]: c for c in report["components"]}


def named(expected_project: str, comp: dict) -> bool:
    """The project is named by the component or one of its embedded parts (distinctive words, >= 3 characters)."""
    words = {w for w in re.findall(r"[a-z0-9+]+", expected_project.lower()) if len(w) >= 3} - _GENERIC
    names = [comp.get("identified_as"), comp.get("name"), comp.get("project")]
    names += [x for m in comp.get("embedded", []) if m.get("confidence") != "low" for x in (m["id"], m["name"], m["project"])]
    hay = " ".join(n.lower() for n in names if n)
    return any(w in hay for w in words)


def test_expected_files_cover_every_artifact() -> None:
    manifest = json.loads((wild_dir() / "manifest.json").read_text())
    assert sorted(a["name"] for a in manifest["artifacts"]) == ARTIFACTS


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_every_member_is_reported(artifact: str) -> None:
    _, report = report_for(artifact)
    comps = components(report)
    assert [p for p in expected(artifact)["members"] if p not in comps] == []


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_copyleft_components_have_the_right_family(artifact: str) -> None:
    _, report = report_for(artifact)
    comps = components(report)
    wrong = []
    for e in expected(artifact)["components"]:
        if e["family"] not in COPYLEFT:
            continue
        c = comps.get(e["path"])
        if c is None:
            wrong.append((e["path"], "missing"))
        elif c["family"] != e["family"]:
            wrong.append((e["path"], f"family {c['family']} ({c['license']}) != {e['family']} ({e['license']})"))
        elif not named(e["project"], c):
            wrong.append((e["path"], f"named {c['identified_as']} / {c['project']}, expected {e['project']}"))
        else:
            ids = re.findall(r"(?:A|L)?GPL-[\d.]+-(?:only|or-later)|MPL-2\.0", e["license"])
            lacking = [i for i in ids if i not in (c["license"] or "")]
            if lacking:
                wrong.append((e["path"], f"licence {c['license']} lacks {lacking}"))
    assert not wrong, wrong


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_nothing_permissive_is_called_copyleft(artifact: str) -> None:
    _, report = report_for(artifact)
    comps = components(report)
    called = [(p, comps[p]["family"], comps[p]["license"]) for p in expected(artifact)["not_copyleft"] if comps[p]["family"] in COPYLEFT]
    assert not called


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_every_permissive_library_is_named(artifact: str) -> None:
    exp = expected(artifact)
    allowed = {u["path"] for u in exp.get("allowed_unknown", [])}
    _, report = report_for(artifact)
    comps = components(report)
    blind = []
    for e in exp["components"]:
        if e["family"] in COPYLEFT or e["path"] in allowed:
            continue
        c = comps[e["path"]]
        if c["family"] != e["family"] or not named(e["project"], c):
            blind.append((e["path"], e["project"], c["origin"], c["identified_as"], c["family"]))
    assert not blind, blind


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_verdict(artifact: str) -> None:
    code, report = report_for(artifact)
    exp = expected(artifact)
    assert report["verdict"] == exp["verdict"]
    assert code == (1 if exp["verdict"] == "fail" else 0)


def _with(key: str) -> list[str]:
    return [a for a in ARTIFACTS if expected(a).get(key)]


def named_itself(expected_project: str, comp: dict) -> bool:
    """Like named(), but only the component's own identity counts (its primary library), not embedded parts; an
    unidentified component's name is only its file name, so it never counts."""
    if not comp.get("identified_as"):
        return False
    return named(expected_project, {k: comp.get(k) for k in ("identified_as", "name", "project")})


@pytest.mark.parametrize("artifact", _with("primary_named"))
def test_primary_identity(artifact: str) -> None:
    exp = expected(artifact)
    _, report = report_for(artifact)
    comps = components(report)
    projects = {e["path"]: e["project"] for e in exp["components"]}
    wrong = [(p, projects[p], comps[p]["identified_as"], comps[p]["name"]) for p in exp["primary_named"]
             if not named_itself(projects[p], comps[p])]
    assert not wrong, wrong


@pytest.mark.parametrize("artifact", _with("layout"))
def test_layout(artifact: str) -> None:
    _, report = report_for(artifact)
    assert report["artifact"]["type"] == expected(artifact)["layout"]


@pytest.mark.parametrize("artifact", _with("links"))
def test_macho_rpath_links_resolve(artifact: str) -> None:
    """The clang-built main executable links the real frameworks via @rpath + LC_RPATH @executable_path/Frameworks."""
    _, report = report_for(artifact)
    comps = components(report)
    for src, dsts in expected(artifact)["links"].items():
        assert sorted(comps[src]["links"]) == sorted(dsts), (src, comps[src]["links"], comps[src]["unresolved_links"])
        assert not [u for u in comps[src]["unresolved_links"] if u.startswith("@")], comps[src]["unresolved_links"]
        for dst in dsts:
            assert src in comps[dst]["loaded_by"], (dst, comps[dst]["loaded_by"])


_ARCH = {"i386": "x86"}  # LicenseGate names 32-bit Intel as Android does


@pytest.mark.parametrize("artifact", _with("slices"))
def test_fat_slices(artifact: str) -> None:
    _, report = report_for(artifact)
    comps = components(report)
    for path, archs in expected(artifact)["slices"].items():
        got = comps[path].get("details", {}).get("slices") or [comps[path]["abi"]]
        assert sorted(got) == sorted(_ARCH.get(a, a) for a in archs), (path, got)


@pytest.mark.parametrize("artifact", _with("app_owned"))
def test_app_owned_code_is_not_attributed(artifact: str) -> None:
    _, report = report_for(artifact)
    comps = components(report)
    for p in expected(artifact)["app_owned"]:
        assert comps[p]["identified_as"] is None and comps[p]["embedded"] == [], (p, comps[p]["identified_as"])


def test_allowed_unknowns_are_justified() -> None:
    for artifact in ARTIFACTS:
        for u in expected(artifact).get("allowed_unknown", []):
            assert len(u["reason"]) > 20, (artifact, u)
