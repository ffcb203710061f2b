"""Generalisation of the Debian-built knowledge base: binaries built by others than Debian (fixtures/kb_corpus.py).

Every library here is one the hand-written signatures do not name; the expected answers come from each project's own
licence statement (quoted in the tables of fixtures/kb_corpus.py).  Renamed, stripped and statically linked copies are included, in
armeabi-v7a, arm64-v8a and x86_64 builds.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path

import pytest

from fixture_corpus import cache_dir
from licensegate import spdx
from licensegate.cli import main

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "fixtures" / "kb_corpus.py"
COPYLEFT = {"gpl", "agpl", "lgpl", "weak-copyleft", "nonfree"}


@functools.lru_cache(maxsize=1)
def corpus() -> tuple[Path, dict]:
    proc = subprocess.run([sys.executable, str(SCRIPT)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
    if proc.returncode != 0:
        raise RuntimeError(f"fixtures/kb_corpus.py failed with exit code {proc.returncode}:\n{proc.stdout}")
    out = cache_dir() / "kb-corpus" / "out"
    return out, json.loads((out / "manifest.json").read_text())


@functools.cache
def report_for(artifact: str) -> tuple[int, dict]:
    out_dir, _ = corpus()
    out = out_dir.parent / "reports" / f"{artifact}.json"
    out.parent.mkdir(exist_ok=True)
    code = main(["scan", str(out_dir / artifact), "--format", "json", "--output", str(out), "--no-progress"])
    assert code in (0, 1), f"scan of {artifact} exited {code}"
    return code, json.loads(out.read_text())


def outcomes() -> list[tuple[dict, dict]]:
    """(expected, reported component) for every library of the corpus."""
    _, manifest = corpus()
    pairs = []
    for art, comps in manifest["artifacts"].items():
        if art == "kb-gpl-only.apk":
            continue
        got = {c["path"]: c for c in report_for(art)[1]["components"]}
        pairs.extend((e, got[e["path"]]) for e in comps)
    return pairs


def test_the_copyleft_conclusion_comes_from_the_knowledge_base() -> None:
    """No hand-written signature names these projects: the copyleft licence must come from a Debian entry, otherwise
    this corpus would measure the list, not the knowledge base."""
    for e, c in outcomes():
        fam = spdx.family(e["license"])
        if fam not in COPYLEFT:
            continue
        kb = [m for m in c.get("embedded", []) if m["id"].startswith("debian:") and m["confidence"] != "low"]
        licences = [m["license"] for m in kb] + ([c["license"]] if (c.get("identified_as") or "").startswith("debian:") else [])
        assert any(lic and spdx.family(lic) in COPYLEFT for lic in licences), (e["path"], c["license"])


def test_copyleft_family_is_right_for_at_least_95_percent() -> None:
    pairs = [(e, c) for e, c in outcomes() if spdx.family(e["license"]) in COPYLEFT]
    right = [e["path"] for e, c in pairs if c["family"] == spdx.family(e["license"])]
    wrong = [(e["path"], e["license"], c["family"], c["license"]) for e, c in pairs if e["path"] not in right]
    assert len(pairs) >= 20
    assert len(right) >= 0.95 * len(pairs), wrong


def test_no_permissive_library_is_called_copyleft() -> None:
    called = [(e["path"], e["license"], c["license"]) for e, c in outcomes()
              if spdx.family(e["license"]) not in COPYLEFT and c["family"] in COPYLEFT]
    assert not called


def test_identified_copies_carry_evidence_from_the_knowledge_base() -> None:
    for e, c in outcomes():
        if spdx.family(e["license"]) not in COPYLEFT or c["family"] != spdx.family(e["license"]):
            continue
        rules = [ev["rule"] for ev in c["evidence"]] + [ev["rule"] for m in c.get("embedded", []) for ev in m["evidence"]]
        kb = [r for r in rules if r.startswith("debian:")]
        assert any(r.endswith("/summary") for r in kb) and any(r.endswith(("/string", "/symbol")) for r in kb), e["path"]


def test_every_abi_and_every_kind_of_copy_is_covered() -> None:
    pairs = [(e, c) for e, c in outcomes() if spdx.family(e["license"]) in COPYLEFT]
    assert {c["abi"] for _, c in pairs} >= {"armeabi-v7a", "arm64-v8a", "x86_64"}
    assert any(e["renamed"] for e, _ in pairs) and any(e["stripped"] for e, _ in pairs)


@pytest.mark.parametrize("path", ["lib/arm64-v8a/libresample.so", "lib/arm64-v8a/libgraph.so", "lib/arm64-v8a/libaudiofx.so"])
def test_statically_linked_copyleft_sets_the_host_family(path: str) -> None:
    _, report = report_for("kb-pypi-arm64.apk")
    c = {c["path"]: c for c in report["components"]}[path]
    assert c["family"] in COPYLEFT
    assert c["embedded"] or c["identified_as"]


def test_an_app_carrying_only_unlisted_gpl_code_fails_the_gate() -> None:
    code, report = report_for("kb-gpl-only.apk")
    assert code == 1 and report["verdict"] == "fail"
    fams = {c["path"]: c["family"] for c in report["components"]}
    assert fams == {"lib/arm64-v8a/libsolver.so": "gpl", "lib/armeabi-v7a/libdsp.so": "gpl"}
