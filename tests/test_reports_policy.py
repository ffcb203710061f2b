"""The policy a user just wrote is the one used, and findings say what they mean (issue 14), through the CLI.

- policy discovery: `--policy`, else `licensegate.toml` in the current folder, else at the repository root, else
  beside the artifact, else the built-in default; every report names the file it used and the ones it passed over;
- `--notices` does not change the verdict line (the source-offer finding depends on the app and the policy only);
- executables and libraries worded apart; `lgpl-static` names the binary the LGPL code is linked into;
- `waiver-unused` names the nearest shipped path and a `**/` glob that matches it;
- `loaded_by` names the loading class and method.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from licensegate.cli import main
from natives import android_lib, have_clang

needs_clang = pytest.mark.skipif(not have_clang(), reason="clang comes from .ci/run")

# a policy whose effect shows in the report: unidentified native code is no longer a finding
QUIET = 'version = 1\n\n[rules]\nunidentified-native = "off"\n'


def scan(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().out


@pytest.fixture
def repo(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git working tree with the build in build/out/app.apk, the shell in app/ (the current folder)."""
    (tmp_path / ".git").mkdir()
    (tmp_path / "build" / "out").mkdir(parents=True)
    (tmp_path / "app").mkdir()
    shutil.copyfile(corpus / "gpl-player.apk", tmp_path / "build" / "out" / "app.apk")
    monkeypatch.chdir(tmp_path / "app")
    return tmp_path


APK = "../build/out/app.apk"


def _policy_line(out: str) -> str:
    return next(line for line in out.splitlines() if line.startswith("policy: "))


def test_policy_init_then_scan_uses_the_new_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, before = scan(["scan", APK], capsys)
    assert "unidentified-native" in before
    assert main(["policy", "init"]) == 0
    assert (repo / "app" / "licensegate.toml").is_file()
    capsys.readouterr()
    _, out = scan(["scan", APK], capsys)
    assert _policy_line(out) == "policy: licensegate.toml (found in the current folder)"
    report = json.loads(scan(["scan", APK, "--format", "json"], capsys)[1])
    assert report["policy"]["source"] == "licensegate.toml"
    assert report["policy"]["discovery"] == {"file": "licensegate.toml", "place": "the current folder", "not_used": []}


def test_the_starter_policy_changes_what_the_scan_says(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The file `policy init` wrote is read, not just named: a rule set in it changes the findings."""
    (repo / "app" / "licensegate.toml").write_text(QUIET)
    _, out = scan(["scan", APK], capsys)
    assert "unidentified-native" not in out
    assert _policy_line(out) == "policy: licensegate.toml (found in the current folder)"


def test_repository_root_comes_before_beside_the_artifact(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "build" / "out" / "licensegate.toml").write_text(QUIET)
    _, out = scan(["scan", APK], capsys)
    assert _policy_line(out) == "policy: ../build/out/licensegate.toml (found beside the artifact)"
    assert "unidentified-native" not in out
    (repo / "licensegate.toml").write_text("version = 1\n")
    _, out = scan(["scan", APK], capsys)
    assert _policy_line(out) == ("policy: ../licensegate.toml (found at the repository root); "
                                 "not used: ../build/out/licensegate.toml (beside the artifact)")
    assert "unidentified-native" in out  # the root's policy applies, not the one beside the artifact


def test_explicit_policy_wins_and_every_report_names_the_others(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "app" / "licensegate.toml").write_text("version = 1\n")
    (repo / "strict.toml").write_text(QUIET)
    expected = "../strict.toml (given with --policy); not used: licensegate.toml (the current folder)"
    _, out = scan(["scan", APK, "--policy", "../strict.toml"], capsys)
    assert _policy_line(out) == f"policy: {expected}"
    assert "unidentified-native" not in out
    _, summary = scan(["scan", APK, "--policy", "../strict.toml", "--summary"], capsys)
    assert f"policy: {expected}" in summary.splitlines()
    _, md = scan(["scan", APK, "--policy", "../strict.toml", "--format", "markdown"], capsys)
    assert "../strict.toml (given with --policy); not used: licensegate.toml (the current folder)" in md
    _, html = scan(["scan", APK, "--policy", "../strict.toml", "--format", "html"], capsys)
    assert "<tr><th>policy</th><td>../strict.toml (given with --policy); not used: licensegate.toml (the current folder)" in html
    report = json.loads(scan(["scan", APK, "--policy", "../strict.toml", "--format", "json"], capsys)[1])
    assert report["policy"]["discovery"] == {
        "file": "../strict.toml", "place": "--policy",
        "not_used": [{"path": "licensegate.toml", "place": "the current folder"}]}


def test_no_policy_anywhere_says_how_to_write_one(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = scan(["scan", APK, "--summary"], capsys)
    assert "policy: built-in default (no licensegate.toml in the current folder, at the repository root or beside " \
           "the artifact; `licensegate policy init` writes one)" in out.splitlines()
    report = json.loads(scan(["scan", APK, "--format", "json"], capsys)[1])
    assert report["policy"]["source"] == "built-in default"
    assert report["policy"]["discovery"] == {"file": None, "place": None, "not_used": []}


def test_outside_a_repository_the_walk_stops_at_the_current_folder(corpus: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """No `.git` above: only the current folder and the artifact's folder are looked at."""
    (tmp_path / "work" / "deep").mkdir(parents=True)
    (tmp_path / "work" / "licensegate.toml").write_text(QUIET)  # a parent folder, but not a repository root
    monkeypatch.chdir(tmp_path / "work" / "deep")
    _, out = scan(["scan", str(corpus / "gpl-player.apk")], capsys)
    assert _policy_line(out).startswith("policy: built-in default")


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_a_linked_policy_file_is_not_followed(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "elsewhere.toml").write_text(QUIET)
    (repo / "app" / "licensegate.toml").symlink_to(repo / "elsewhere.toml")
    (repo / "licensegate.toml").write_text("version = 1\n")
    _, out = scan(["scan", APK], capsys)
    assert _policy_line(out) == (
        "policy: ../licensegate.toml (found at the repository root); not used: licensegate.toml (the current folder; "
        "a symbolic link, not followed; name it with --policy to use it)")
    assert "unidentified-native" in out
    # named explicitly, the user chose it
    _, out = scan(["scan", APK, "--policy", "licensegate.toml"], capsys)
    assert "unidentified-native" not in out


def test_diff_finds_the_policy_the_same_way(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An old report made under the built-in default, the same build rescanned by `diff` under the policy in the
    current folder: the findings that policy adds (its deny list) are new violations."""
    old = repo / "old.json"
    assert main(["scan", APK, "--format", "json", "--output", str(old)]) == 1
    (repo / "app" / "licensegate.toml").write_text('version = 1\n\n[licenses]\ndeny = ["GPL-2.0-or-later"]\n')
    code, out = scan(["diff", str(old), APK, "--format", "json"], capsys)
    assert code == 1
    assert "license-denied" in out
    (repo / "app" / "licensegate.toml").unlink()
    code, _ = scan(["diff", str(old), APK, "--format", "json"], capsys)
    assert code == 0


@pytest.mark.parametrize("command", ["scan", "diff"])
def test_a_mistyped_policy_path_is_one_line_and_writes_nothing(command: str, repo: Path) -> None:
    """Through the installed command: one line naming the file, exit 2, no traceback, no report or notices written,
    even with a licensegate.toml in the current folder (a mistyped --policy never falls back to it)."""
    (repo / "app" / "licensegate.toml").write_text("version = 1\n")
    exe = Path(sys.executable).with_name("licensegate")
    outputs = ["--output", "out.txt", "--report", "json=r.json", "--notices", "notices"] if command == "scan" else [
        "--output", "out.txt"]
    sides = [APK] if command == "scan" else [APK, APK]
    proc = subprocess.run([str(exe), command, *sides, "--policy", "licensegat.toml", *outputs],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr == "licensegate: error: licensegat.toml: policy file not found\n"
    assert proc.stdout == ""
    assert sorted(p.name for p in (repo / "app").iterdir()) == ["licensegate.toml"]


# ---- --notices leaves the verdict alone (point 2) -------------------------------------------------------------


def test_notices_do_not_change_the_verdict_line(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """player.aab ships LGPL code, so a written offer is owed; the built-in policy names no one to answer it. That is
    a finding of the app and the policy, said the same with or without --notices."""
    aab = str(corpus / "player.aab")
    runs = [scan(["scan", aab, *extra], capsys) for extra in ([], ["--notices", str(tmp_path / "n")])]
    verdicts = [[line for line in out.splitlines() if line.startswith("Verdict: ")] for _, out in runs]
    assert verdicts[0] == verdicts[1] and len(verdicts[0]) == 2  # at the top and at the end
    assert all("source-offer-contact-missing" in out for _, out in runs)
    assert (tmp_path / "n" / "SOURCE_OFFER.txt").is_file()
    codes = [main(["scan", aab, "--fail-on", "warning", "--summary", *extra]) for extra in ([], ["--notices", str(tmp_path / "m")])]
    assert codes == [1, 1]
    capsys.readouterr()


def test_a_complete_source_offer_contact_clears_the_finding(corpus: Path, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text('version = 1\n\n[source_offer]\norganisation = "Example Ltd"\nemail = "oss@example.com"\n')
    _, out = scan(["scan", str(corpus / "player.aab"), "--policy", str(policy)], capsys)
    assert "source-offer-contact-missing" not in out


# ---- waiver-unused names the nearest path (point 4) -----------------------------------------------------------


def test_waiver_unused_names_the_nearest_path_and_the_glob_that_works(corpus: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """The APK-style glob `lib/*/libmp3lame.so` matches nothing in an AAB (`feature1/lib/...`): the warning names the
    path that ships and a `**/` glob; pasting that glob waives the finding."""
    policy = tmp_path / "licensegate.toml"
    policy.write_text('version = 1\n\n[[waiver]]\npath = "lib/*/libmp3lame.so"\nreason = "LAME is shipped as-is"\n')
    _, out = scan(["scan", str(corpus / "player.aab"), "--policy", str(policy), "--format", "json"], capsys)
    unused = [f["message"] for f in json.loads(out)["findings"] if f["rule"] == "waiver-unused"]
    assert len(unused) == 1
    assert "matches no finding (path 'lib/*/libmp3lame.so')" in unused[0]
    assert "The nearest shipped path is feature1/lib/arm64-v8a/libmp3lame.so; path = '**/lib/*/libmp3lame.so' matches it" in unused[0]
    policy.write_text('version = 1\n\n[[waiver]]\npath = "**/lib/*/libmp3lame.so"\nreason = "LAME is shipped as-is"\n')
    _, out = scan(["scan", str(corpus / "player.aab"), "--policy", str(policy), "--format", "json"], capsys)
    findings = json.loads(out)["findings"]
    assert not [f for f in findings if f["rule"] == "waiver-unused"]
    assert [f["waived_by"] for f in findings if f["component"] == "feature1/lib/arm64-v8a/libmp3lame.so"] == [
        "waiver 1 (line 3): LAME is shipped as-is"]


def test_an_android_waiver_in_an_ipa_scan_suggests_the_ipa_glob(corpus: Path, tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """One policy for both platforms: the APK's x264 waiver matches nothing in the IPA, and the hint names the glob
    the IPA report's own waiver snippet gives (not a bare `**/x264` that any file of that name would match)."""
    ipa = str(corpus / "ios-app.ipa")
    policy = tmp_path / "licensegate.toml"
    policy.write_text('version = 1\n\n[[waiver]]\nname = "x264"\npath = "**/lib/*/libx264.so"\nreason = "bought"\n')
    _, out = scan(["scan", ipa, "--policy", str(policy)], capsys)
    glob = "**/Frameworks/x264.framework/x264"
    assert (f"The nearest shipped path is Payload/App.app/Frameworks/x264.framework/x264; path = '{glob}' matches it"
            in " ".join(out.split()))
    assert f'      path = "{glob}"' in out.splitlines()  # the snippet for the same component
    policy.write_text(policy.read_text().replace("**/lib/*/libx264.so", glob))
    code, out = scan(["scan", ipa, "--policy", str(policy), "--format", "json"], capsys)
    findings = json.loads(out)["findings"]
    assert not [f for f in findings if f["rule"] == "waiver-unused"]
    assert {f["rule"] for f in findings if f["waived_by"]} == {"copyleft-gpl", "ios-gpl", "app-links-copyleft"}
    assert code == 0


def test_a_waiver_for_a_library_the_build_no_longer_ships_suggests_no_other_file(
        corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The x264 waiver against a build without x264: the warning says the file is gone, and offers no glob for the
    closest other library (pasting `**/lib/*/libvpx.so` would waive the wrong component)."""
    policy = tmp_path / "licensegate.toml"
    policy.write_text('version = 1\n\n[[waiver]]\npath = "**/lib/*/libx264.so"\nreason = "bought"\n')
    _, out = scan(["scan", str(corpus / "clean-app.apk"), "--policy", str(policy), "--format", "json"], capsys)
    [unused] = [f["message"] for f in json.loads(out)["findings"] if f["rule"] == "waiver-unused"]
    assert unused.endswith("remove it or fix its pattern. No shipped file is named like 'libx264.so': this build may "
                           "no longer ship it (the closest path is lib/arm64-v8a/libvpx.so).")
    policy.write_text(policy.read_text().replace('path =', 'name = "x264"\npath ='))
    _, out = scan(["scan", str(corpus / "clean-app.apk"), "--policy", str(policy)], capsys)
    assert ("No shipped file is named like 'libx264.so' and no component like 'x264': this build may no longer ship "
            "it") in " ".join(out.split())


def test_waiver_whose_path_matches_but_whose_rule_does_not(corpus: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "licensegate.toml"
    policy.write_text('version = 1\n\n[[waiver]]\npath = "**/libmp3lame.so"\nrule = ["copyleft-gpl"]\nreason = "r"\n')
    _, out = scan(["scan", str(corpus / "player.aab"), "--policy", str(policy)], capsys)
    assert ("Its path matches feature1/lib/arm64-v8a/libmp3lame.so, but no finding there that its name and rules "
            "select.") in " ".join(out.split())


# ---- loaded_by names the class and method (point 5) -----------------------------------------------------------


def test_loaded_by_names_the_loading_class_and_method(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = json.loads(scan(["scan", str(corpus / "player.aab"), "--format", "json"], capsys)[1])
    assert report["schema"] == "licensegate.report/3"
    comps = {c["path"]: c for c in report["components"]}
    jni = comps["base/lib/arm64-v8a/libvlcjni.so"]
    sites = [f"{s['dex']}!{s['class']}.{s['method']}" for s in jni["load_sites"]]
    assert sites and jni["loaded_by"] == sorted(set(sites))
    assert all(who.startswith("base/dex/classes.dex!") and "." in who.split("!", 1)[1] for who in jni["loaded_by"])
    assert comps["base/lib/arm64-v8a/libvlc.so"]["loaded_by"] == ["base/lib/arm64-v8a/libvlcjni.so"]  # a native link
    _, text = scan(["scan", str(corpus / "player.aab"), "-v"], capsys)
    assert f"loaded by: {jni['loaded_by'][0]}" in text


def test_a_schema_2_report_still_diffs_cleanly_against_a_new_scan(corpus: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`loaded_by` changed meaning, so the schema moved to /3; a report kept from /2 (DEX files in `loaded_by`) is
    still read by `diff`, and the same build shows no change."""
    aab = str(corpus / "player.aab")
    old = json.loads(scan(["scan", aab, "--format", "json"], capsys)[1])
    old["schema"] = "licensegate.report/2"
    for comp in old["components"]:
        comp["loaded_by"] = sorted({who.split("!", 1)[0] for who in comp["loaded_by"]})
    (tmp_path / "old.json").write_text(json.dumps(old))
    code, out = scan(["diff", str(tmp_path / "old.json"), aab, "--format", "json"], capsys)
    assert code == 0
    changes = json.loads(out)
    assert changes["verdicts"]["old"] == changes["verdicts"]["new"]
    assert [changes[k] for k in ("new_findings", "resolved_findings", "components_added", "components_removed")] == [
        [], [], [], []]


# ---- executables and libraries worded apart (point 3) ---------------------------------------------------------


def _without_dex(src: Path, out: Path) -> Path:
    """The same APK with its DEX files removed: nothing of the app's code links or loads its native binaries."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            if not info.filename.endswith(".dex"):
                zout.writestr(info, zin.read(info))
    return out


def test_a_program_shipped_beside_the_app_is_not_a_whole_app_claim(corpus: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    apk = _without_dex(corpus / "traps.apk", tmp_path / "programs.apk")
    report = json.loads(scan(["scan", str(apk), "--format", "json"], capsys)[1])
    by_comp = {(f["component"], f["rule"]): f for f in report["findings"]}
    for exe in ("lib/arm64-v8a/libbusybox.so", "lib/arm64-v8a/libopenvpn.so"):
        f = by_comp[(exe, "copyleft-program")]
        assert f["severity"] == "warning"
        assert "GPL program shipped beside the app" in f["message"] and "ship its licence and its complete source" in f["message"]
        assert "whole app" not in f["message"]
        assert (exe, "copyleft-gpl") not in by_comp
        comp = next(c for c in report["components"] if c["path"] == exe)
        assert "gpl-whole-work" not in [o["id"] for o in comp["obligations"]]
        assert "source-offer" in [o["id"] for o in comp["obligations"]]
    library = by_comp[("lib/arm64-v8a/libutils.so", "copyleft-gpl")]  # GNU Readline: a library, not a program
    assert "requires the whole app under the GPL" in library["message"]
    _, text = scan(["scan", str(apk)], capsys)
    assert "What to do: Ship the program's licence and its complete source" in text


def test_a_program_app_code_loads_is_worded_as_combined(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = json.loads(scan(["scan", str(corpus / "traps.apk"), "--format", "json"], capsys)[1])
    f = next(f for f in report["findings"] if f["rule"] == "copyleft-gpl" and f["component"] == "lib/arm64-v8a/libbusybox.so")
    assert ("is a GPL program (an executable) that app code loads as a library "
            "(classes.dex (com.example.traps.Shell.<clinit>))") in f["message"]
    assert "requires the whole app under the GPL" in f["message"]
    assert not [x for x in report["findings"] if x["rule"] == "copyleft-program"]


@needs_clang
def test_lgpl_static_names_the_identified_host(tmp_path: Path, capsys: pytest.CaptureFixture[str], corpus: Path) -> None:
    """Opus (BSD, identified by its own strings and exported symbols) with LAME's identity strings inside: LAME is
    LGPL code statically linked into Opus, a third-party library, and the finding says so (it was reported as "an LGPL
    shared library"; "app code" before that)."""
    from fixture_corpus import cache_dir

    extract = cache_dir() / "extract"
    opus = next((extract / "libopus0_arm64").glob("usr/lib/aarch64-linux-gnu/libopus.so.0*"))
    lame = next((extract / "libmp3lame0_arm64").glob("usr/lib/aarch64-linux-gnu/libmp3lame.so.0*"))
    symbols = [line.split()[-1] for line in subprocess.run(["nm", "-D", "--defined-only", str(opus)], capture_output=True,
                                                            text=True, check=True).stdout.splitlines()]
    lame_strings = _strings(lame.read_bytes(), rb"LAME[ -~]{4,60}")[:20]
    opus_strings = [s for s in _strings(opus.read_bytes(), rb"[ -~]{8,60}") if s not in symbols][:60]
    consts = "".join(f'const char *s{i} = "{s}";\n' for i, s in enumerate(opus_strings + lame_strings))
    funcs = "".join(f"void {s}(void) {{}}\n" for s in symbols if re.fullmatch(r"[A-Za-z_]\w*", s))
    libs = tmp_path / "app" / "lib" / "arm64-v8a"
    libs.mkdir(parents=True)
    shutil.copy(android_lib(tmp_path / "libopus.so", consts + funcs, soname="libopus.so"), libs)
    code, out = scan(["scan", str(tmp_path / "app"), "--format", "json"], capsys)
    findings = json.loads(out)["findings"]
    # Opus's own licence is open source: a user can relink by rebuilding it from the source offered, so it is
    # reported with that obligation rather than failed like LGPL code inside the app's own or unknown code
    assert [(f["severity"], f["message"]) for f in findings if f["rule"] in ("lgpl-static", "lgpl-shared")] == [(
        "info", "lib/arm64-v8a/libopus.so: LAME 3.100 (LGPL-2.0-or-later) is LGPL code linked statically into "
        "lib/arm64-v8a/libopus.so (Opus, an identified third-party library), whose own licence (BSD-3-Clause) lets "
        "users rebuild it: ship the source of both, or a written offer, so a user can relink it with a modified copy "
        "(LGPL-2.1 s.6(a), LGPL-3.0 s.4(d)(0)).")]
    assert code == 0


@needs_clang
def test_lgpl_static_inside_the_apps_own_library_fails_naming_it(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The app's own library with LAME and Opus linked in (each named by the version banner copied from Debian's real
    library, neither more evident than the other): nothing names the binary, so it is the app's own code, and LGPL
    code inside it is an error that names it, unlike LGPL code inside an identified open-source library."""
    from fixture_corpus import cache_dir

    extract = cache_dir() / "extract"
    lame = next((extract / "libmp3lame0_arm64").glob("usr/lib/aarch64-linux-gnu/libmp3lame.so.0*")).read_bytes()
    opus = next((extract / "libopus0_arm64").glob("usr/lib/aarch64-linux-gnu/libopus.so.0*")).read_bytes()
    banners = [_strings(lame, rb"LAME %s version %s \(%s\)")[0], _strings(opus, rb"libopus 1\.[0-9.]+")[0]]
    libs = tmp_path / "app" / "lib" / "arm64-v8a"
    libs.mkdir(parents=True)
    source = "".join(f'const char *banner{i} = "{b}";\n' for i, b in enumerate(banners))
    shutil.copy(android_lib(tmp_path / "librecorder.so", source + "int recorder_encode(int n) { return n * 2; }\n",
                            soname="librecorder.so"), libs)
    code, out = scan(["scan", str(tmp_path / "app"), "--format", "json"], capsys)
    assert code == 1
    findings = [(f["severity"], f["message"]) for f in json.loads(out)["findings"] if f["rule"].startswith("lgpl-")]
    assert findings == [(
        "error", "lib/arm64-v8a/librecorder.so: LAME (LGPL-2.0-or-later) is LGPL code linked statically into "
        "lib/arm64-v8a/librecorder.so, a binary nothing identifies (treated as the app's own code); users cannot "
        "replace it, so the LGPL's relinking terms are not met by a shared library.")]
    code, summary = scan(["scan", str(tmp_path / "app"), "--summary"], capsys)
    assert code == 1
    assert summary.splitlines()[-4:-1] == [
        "  - lib/arm64-v8a/librecorder.so: librecorder.so (LGPL-2.0-or-later AND BSD-3-Clause)", "",
        "1 component; findings: 1 error, 1 warning, 0 info."]
    assert "  What to do: Ship the LGPL library as its own shared library (.so / dynamic framework)." in summary


@needs_clang
def test_lgpl_strings_in_a_library_that_exports_its_own_api_are_linked_in(tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """The app's own library with LAME linked in: LAME's identity strings (copied from Debian's real libmp3lame) but
    none of LAME's API among the 40 functions it exports. It is not LAME renamed (that would export lame_init) but
    app code with LAME inside, so the LGPL code is statically combined with the app, an error naming the app's
    library; it was reported as "an LGPL shared library" (info)."""
    from fixture_corpus import cache_dir

    lame = next((cache_dir() / "extract" / "libmp3lame0_arm64").glob("usr/lib/aarch64-linux-gnu/libmp3lame.so.0*"))
    source = "".join(f'const char *lame{i} = "{s}";\n' for i, s in enumerate(_strings(lame.read_bytes(), rb"LAME[ -~]{4,60}")[:20]))
    source += "".join(f"int recorder_step{i}(int n) {{ return n * {i}; }}\n" for i in range(40))
    libs = tmp_path / "app" / "lib" / "arm64-v8a"
    libs.mkdir(parents=True)
    shutil.copy(android_lib(tmp_path / "librecorder.so", source, soname="librecorder.so"), libs)
    code, out = scan(["scan", str(tmp_path / "app"), "--format", "json"], capsys)
    assert code == 1
    report = json.loads(out)
    [comp] = report["components"]
    assert (comp["origin"], [m["name"] for m in comp["embedded"]]) == ("unidentified", ["LAME"])
    [finding] = [f for f in report["findings"] if f["rule"].startswith("lgpl-")]
    assert (finding["rule"], finding["severity"]) == ("lgpl-static", "error")
    assert ("LGPL code linked statically into lib/arm64-v8a/librecorder.so, a binary nothing identifies (treated as "
            "the app's own code)") in finding["message"]


def _strings(data: bytes, pattern: bytes) -> list[str]:
    return sorted({m.group().decode() for m in re.finditer(pattern, data) if b'"' not in m.group() and b"\\" not in m.group()})
