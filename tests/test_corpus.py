"""The fixture corpus (real Debian binaries packed into APK/AAB/IPA/AAR layouts) against its expected answers.

Expected answers live in fixtures/expected/*.json and were written from each package's Debian copyright file
(fixtures/README.md); they are never generated from LicenseGate's output.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

import jsonschema
import pytest

from fixture_corpus import EXPECTED_DIR, corpus_dir, expected
from licensegate.cli import main

ARTIFACTS = sorted(p.name[: -len(".json")] for p in EXPECTED_DIR.glob("*.json"))
COPYLEFT = {"gpl", "agpl", "lgpl", "nonfree"}
SCHEMA = json.loads((Path(__file__).parent.parent / "src/licensegate/report/schema.json").read_text())


@cache
def report_for(artifact: str) -> tuple[int, dict]:
    out = corpus_dir().parent / "reports" / f"{artifact}.json"
    out.parent.mkdir(exist_ok=True)
    code = main(["scan", str(corpus_dir() / artifact), "--format", "json", "--output", str(out)])
    assert code in (0, 1), f"scan of {artifact} exited {code}"
    return code, json.loads(out.read_text())


def components(report: dict) -> dict[str, dict]:
    return {c["path"]: c for c in report["components"]}


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_report_is_valid_against_schema(artifact: str) -> None:
    _, report = report_for(artifact)
    jsonschema.validate(report, SCHEMA)


def test_schema_names_the_version_it_validates() -> None:
    """A consumer resolving the schema by its `$id` gets the one for the reports LicenseGate writes."""
    from licensegate.report import SCHEMA_ID

    version = SCHEMA_ID.rsplit("/", 1)[1]
    assert SCHEMA["properties"]["schema"]["const"] == SCHEMA_ID
    assert SCHEMA["$id"] == f"https://licensegate.github.io/schema/report-{version}.json"
    assert SCHEMA["title"] == f"LicenseGate report ({SCHEMA_ID})"


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_artifact_identity_and_verdict(artifact: str) -> None:
    exp = expected(artifact)
    code, report = report_for(artifact)
    art = report["artifact"]
    if exp["type"] == "directory":  # an unpacked build is classified by its layout, like the archive it came from
        assert (corpus_dir() / artifact).is_dir() and art["type"] == "apk"
    else:
        assert art["type"] == exp["type"]
    for key in ("app_id", "version", "version_code"):
        if exp.get(key) is not None:
            assert str(art[key]) == str(exp[key]), key
    assert report["verdict"] == exp["verdict"]
    assert code == (1 if exp["verdict"] == "fail" else 0)
    failing = {f["component"] for f in report["findings"] if f["severity"] == "error"}
    for reason in exp.get("verdict_reasons", []):
        assert any(reason == c or c.rstrip("/").replace("/", ".").endswith(reason) for c in failing if c), (reason, sorted(failing))


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_every_expected_component_has_the_right_family_and_licence(artifact: str) -> None:
    exp = expected(artifact)
    _, report = report_for(artifact)
    comps = components(report)
    wrong = []
    for e in exp["components"]:
        c = comps.get(e["path"])
        if c is None:
            wrong.append((e["path"], "missing"))
            continue
        if c["family"] != e["family"]:
            wrong.append((e["path"], f"family {c['family']} != {e['family']} ({c['license']})"))
        if e.get("project") and not _same_project(e["project"], c):
            wrong.append((e["path"], f"project {c['project']} != {e['project']}"))
        if e.get("license") and e["family"] in COPYLEFT and e["license"] not in (c["license"] or ""):
            wrong.append((e["path"], f"licence {c['license']} != {e['license']}"))
        for ev in c["evidence"]:
            assert ev["member"] == c["path"]
    assert not wrong, wrong


_GENERIC_WORDS = {"gnu", "the", "library", "project", "lib"}


def _same_project(expected_project: str, comp: dict) -> bool:
    """Project names are spelt differently by different sources (GMP / GNU MP): compare distinctive words."""
    words = set(re.findall(r"[a-z0-9+]+", expected_project.lower())) - _GENERIC_WORDS
    names = [comp["identified_as"], comp["name"], comp["project"]] + [x for m in comp["embedded"] for x in (m["id"], m["name"], m["project"])]
    hay = " ".join(n.lower() for n in names if n)
    return any(w in hay for w in words)


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_nothing_permissive_is_called_copyleft(artifact: str) -> None:
    exp = expected(artifact)
    _, report = report_for(artifact)
    comps = components(report)
    called = [(p, comps[p]["family"], comps[p]["license"]) for p in exp.get("not_copyleft", []) if p in comps and comps[p]["family"] in COPYLEFT]
    assert not called
    missing = [p for p in exp.get("not_copyleft", []) if p not in comps]
    assert not missing


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_app_owned_code_is_not_named_after_a_library(artifact: str) -> None:
    exp = expected(artifact)
    _, report = report_for(artifact)
    comps = components(report)
    named = [(p, comps[p]["name"]) for p in exp.get("app_owned", []) if comps[p]["origin"] != "unidentified"]
    assert not named


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_every_expected_link_is_reported(artifact: str) -> None:
    exp = expected(artifact)
    _, report = report_for(artifact)
    comps = components(report)
    graph = dict(exp.get("link_graph", {}))
    for e in exp["components"]:
        graph.setdefault(e["path"], e.get("links", []))
    missing = [(src, dst) for src, dsts in graph.items() for dst in dsts if dst not in comps.get(src, {}).get("links", [])]
    assert not missing


@pytest.mark.parametrize("artifact", ARTIFACTS)
def test_load_sites(artifact: str) -> None:
    exp = expected(artifact)
    _, report = report_for(artifact)
    sites = {(s["class"], s["method"], s["argument"]) for s in report["load_sites"]}
    for s in exp.get("load_sites", []):
        assert (s["class"], s["method"], s.get("argument")) in sites, s
    comps = components(report)
    for e in exp["components"]:
        for who in e.get("loaded_by", []):
            c = comps[e["path"]]
            by_site = {f"{s['class']}.{s['method']}" for s in c["load_sites"]}
            assert who in c["loaded_by"] or who in by_site, (e["path"], who, c["loaded_by"], sorted(by_site))


def test_gpl_chain_from_app_code_is_named() -> None:
    _, report = report_for("gpl-player.apk")
    chains = {f["component"]: f for f in report["findings"] if f["rule"] == "app-links-copyleft"}
    assert len(chains) == sum(1 for f in report["findings"] if f["rule"] == "app-links-copyleft")  # one per target
    avcodec = chains["lib/arm64-v8a/libavcodec.so"]["chain"]
    # Java entry point -> the app's own library -> the GPL library
    assert "NativeBridge" in avcodec[0] and avcodec[1:] == ["lib/arm64-v8a/libapp.so", "lib/arm64-v8a/libavcodec.so"]
    x264 = chains["lib/arm64-v8a/libx264.so"]
    assert x264["chain"][-2:] == ["lib/arm64-v8a/libavcodec.so", "lib/arm64-v8a/libx264.so"]
    assert "X264Encoder" in x264["message"]  # the direct load is listed as another path


def test_clean_build_passes_with_attribution() -> None:
    code, report = report_for("clean-app.apk")
    assert code == 0 and report["verdict"] == "pass"
    permissive = [c for c in report["components"] if c["family"] == "permissive"]
    assert permissive and all(any(o["id"] == "notice" for o in c["obligations"]) for c in permissive)
