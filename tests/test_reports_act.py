"""Reports a person acts on (issue 14), through the CLI: findings first with what to do and a waiver to paste, a
short `--summary`, evidence and obligations once, Java libraries once across DEX files, one classification for
tables and graph, and an HTML page that sorts and filters.

`multidex.apk` is the fixture gpl-player.apk plus two more DEX files (AndroidX, OkHttp, Kotlin, Gson spread over
them; a class that loads a library) and an unidentified library whose only licence evidence is an LGPL text.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest

from licensegate.cli import main
from natives import android_lib, have_clang

CHROMIUM = Path("/usr/bin/chromium")
needs_tools = pytest.mark.skipif(shutil.which("smali") is None or not have_clang(), reason="smali and clang come from .ci/run")


def _smali(cls: str, body: str = "") -> str:
    return f".class public L{cls.replace('.', '/')};\n.super Ljava/lang/Object;\n{body}\n"


_LOADER = """
.method static constructor <clinit>()V
    .registers 1
    const-string v0, "lgplthing"
    invoke-static {v0}, Ljava/lang/System;->loadLibrary(Ljava/lang/String;)V
    return-void
.end method
"""

DEX = {
    "classes2.dex": {"androidx.core.app.NotificationCompat": "", "androidx.appcompat.app.AppCompatActivity": "",
                     "okhttp3.OkHttpClient": "", "kotlin.Unit": "", "com.example.player.Native": _LOADER},
    "classes3.dex": {"androidx.lifecycle.ViewModel": "", "androidx.core.view.ViewCompat": "", "com.google.gson.Gson": ""},
}


def _dex(work: Path, classes: dict[str, str]) -> bytes:
    src = work / "smali"
    shutil.rmtree(src, ignore_errors=True)
    for cls, body in classes.items():
        f = src / (cls.replace(".", "/") + ".smali")
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(_smali(cls, body))
    out = work / "out.dex"
    subprocess.run(["smali", "assemble", "--api", "24", "-o", str(out), str(src)], check=True, capture_output=True, timeout=300)
    return out.read_bytes()


@pytest.fixture(scope="module")
def multidex(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("smali") is None or not have_clang():
        pytest.skip("smali and clang come from .ci/run")
    work = tmp_path_factory.mktemp("multidex")
    apk = work / "multidex.apk"
    shutil.copyfile(corpus / "gpl-player.apk", apk)
    lib = android_lib(work / "liblgplthing.so", 'const char *s = "This library is free software; see '
                      'https://www.gnu.org/licenses/old-licenses/lgpl-2.1.html";\nint f(void) { return 0; }\n')
    with zipfile.ZipFile(apk, "a") as zf:
        for name, classes in DEX.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), _dex(work, classes))
        zf.write(lib, "lib/arm64-v8a/liblgplthing.so")
    return apk


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    return code, capsys.readouterr().out


# ---- the text report ------------------------------------------------------------------------------------------


def test_text_report_leads_with_what_to_fix(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["scan", str(corpus / "gpl-player.apk")], capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines.index("Verdict: FAIL (18 error(s), 4 warning(s))") < 10
    assert out.index("What to fix (18 failing finding(s), 8 component(s))") < out.index("Components (")
    # every failing finding sits in a group that says what to do and offers a waiver
    groups = out.split("What to fix", 1)[1].split("Other findings", 1)[0].split("\n\n")
    failing = [g for g in groups if "ERROR" in g]
    assert sum(g.count("    ERROR") for g in failing) == 18
    for g in failing:
        for rule in set(re.findall(r"ERROR +([a-z-]+)", g)):
            assert f"What to do ({rule}): " in g, g
        assert "[[waiver]]" in g and "reason = " in g and re.search(r"expires = \d{4}-\d\d-\d\d", g)
    # obligations once per component, never once per finding
    assert out.count("Obligations: gpl-whole-work, source-offer, notice") == 8


def test_evidence_is_deduplicated_and_printable(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(["scan", str(corpus / "gpl-player.apk"), "--verbose"], capsys)
    x264 = out.split("[          GPL] lib/arm64-v8a/libx264.so", 1)[1].split("  [", 1)[0]
    strings = re.findall(r"evidence \(([^)]*)\): (.*)", x264)
    texts = [t for _, t in strings]
    assert len(texts) == len(set(texts)), "the same evidence text is shown once"
    assert any("@0x11d923, @0x11d94f" in where for where, _ in strings)
    assert all(ch.isprintable() for line in out.splitlines() for ch in line)


def test_evidence_is_the_text_not_the_binary_bytes_around_it(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Debian's armhf zlib keeps its copyright banner right after compressed tables, with no NUL between: the
    evidence is the banner, not 150 escaped bytes of table before it."""
    _, out = run(["scan", str(corpus / "player.aab"), "--verbose"], capsys)
    evidence = [line.strip() for line in out.splitlines() if line.lstrip().startswith("evidence (")]
    assert "evidence (identity-string @0xe2f0):  deflate 1.2.13 Copyright 1995-2022 Jean-loup Gailly and Mark Adler" \
        in evidence
    assert not [line for line in evidence if "\\x" in line]


def test_no_or_choice_noise_and_no_empty_paths(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(["scan", str(corpus / "gpl-player.apk")], capsys)
    assert "no choice" not in out and "distributor's choice" not in out
    assert "used under BSD-3-Clause" in out
    assert not re.search(r"^  \[ *[A-Z-]+\] *$", out, re.M), "a component line without a path"


def test_summary_beside_reports_in_files(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--summary` is what the terminal shows: printed when every format goes to a file, refused (one line, exit 2,
    nothing written) when a non-text format would go to stdout."""
    report = tmp_path / "r.json"
    code, out = run(["scan", str(corpus / "gpl-player.apk"), "--format", "json", "--output", str(report), "--summary"],
                    capsys)
    assert code == 1 and "Verdict: FAIL (18 error(s), 4 warning(s))" in out.splitlines() and len(out.splitlines()) <= 40
    assert json.loads(report.read_text())["verdict"] == "fail"
    report.unlink()
    assert main(["scan", str(corpus / "gpl-player.apk"), "--format", "json", "--summary", "--report", f"json={report}"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        "licensegate: error: --summary is a short text report, but --format json goes to stdout; give it an --output "
        "(or use --report FMT=FILE) to print the summary beside it\n")
    assert not report.exists()


def test_summary_is_short(corpus: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(["scan", str(corpus / "gpl-player.apk"), "--summary"], capsys)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) <= 40, len(lines)
    assert "Verdict: FAIL (18 error(s), 4 warning(s))" in lines
    assert "ERROR copyleft-gpl (9)" in lines and "ERROR app-links-copyleft (9)" in lines
    assert sum(1 for line in lines if line.startswith("  What to do: ")) == 2
    assert "16 components; findings: 18 error, 4 warning, 2 info." in lines
    code, out = run(["scan", str(corpus / "clean-app.apk"), "--summary"], capsys)
    assert code == 0 and "Verdict: PASS" in out and len(out.splitlines()) <= 12


def test_the_readme_sample_is_what_the_cli_prints(corpus: Path, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """README.md's sample report: the `--summary` block verbatim and the x264 entry of the full report, but for the
    scan time and the waiver's expiry (90 days after the scan)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = readme.split("## A sample report", 1)[1].split("```\n")[1::2]

    def steady(text: str) -> str:
        text = re.sub(r"scanned in [0-9.]+ s", "scanned in T s", text)
        return re.sub(r"expires = \d{4}-\d\d-\d\d", "expires = D", text)

    monkeypatch.chdir(corpus)  # no licensegate.toml there, nor a repository: the built-in default
    _, summary = run(["scan", "gpl-player.apk", "--summary"], capsys)
    assert steady(blocks[0]) == steady(summary)
    _, full = run(["scan", "gpl-player.apk"], capsys)
    assert steady(blocks[1]) in steady(full)


# ---- waiver snippets ------------------------------------------------------------------------------------------


def _snippet(report: str, header: str) -> str:
    block = report.split(header, 1)[1].split("\n\n", 1)[0]
    lines = block.split("To accept it instead, add to the policy file:\n", 1)[1].splitlines()
    return "\n".join(line[6:] for line in lines)


def test_pasted_snippet_waives_exactly_that_finding(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(["scan", str(corpus / "gpl-player.apk")], capsys)
    snippet = _snippet(out, "  lib/arm64-v8a/libx264.so, lib/armeabi-v7a/libx264.so: x264 164")
    assert 'path = "**/lib/*/libx264.so"' in snippet and 'name = "x264"' in snippet
    policy = tmp_path / "licensegate.toml"
    policy.write_text("version = 1\n\n" + snippet.replace("FILL IN: ", "") + "\n")
    assert main(["policy", "check", str(policy)]) == 0
    capsys.readouterr()
    _, out = run(["scan", str(corpus / "gpl-player.apk"), "--policy", str(policy), "--format", "json"], capsys)
    report = json.loads(out)
    waived = sorted((f["rule"], f["component"]) for f in report["findings"] if f["waived_by"])
    assert waived == [(r, f"lib/{abi}/libx264.so") for r in ("app-links-copyleft", "copyleft-gpl")
                      for abi in ("arm64-v8a", "armeabi-v7a")]
    assert not [f for f in report["findings"] if f["rule"] == "waiver-unused"]


def test_markdown_says_what_to_do_and_its_waivers_paste(corpus: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The Markdown report (a CI job summary): every failing component says what to do for each of its rules and
    carries a TOML block that, pasted with a reason, waives its findings."""
    md = tmp_path / "r.md"
    assert main(["scan", str(corpus / "gpl-player.apk"), "--report", f"markdown={md}", "--summary"]) == 1
    capsys.readouterr()
    groups = md.read_text().split("### What to fix", 1)[1].split("\n### ", 1)[0].split("\n#### ")[1:]
    assert len(groups) == 8
    for g in groups:
        for rule in set(re.findall(r"^- \*\*error\*\* `([a-z-]+)`", g, re.M)):
            assert f"- **What to do** (`{rule}`): " in g, g
    x265 = next(g for g in groups if g.startswith("`lib/arm64-v8a/libx265.so`"))
    snippet = x265.split("```toml\n", 1)[1].split("```", 1)[0]
    policy = tmp_path / "licensegate.toml"
    policy.write_text("version = 1\n\n" + snippet.replace("FILL IN: ", ""))
    _, out = run(["scan", str(corpus / "gpl-player.apk"), "--policy", str(policy), "--format", "json"], capsys)
    assert sorted(f["rule"] for f in json.loads(out)["findings"] if f["waived_by"]) == ["app-links-copyleft",
                                                                                       "copyleft-gpl"]


def test_a_snippet_pasted_without_its_reason_is_refused(corpus: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """The placeholder reason is not a reason: `policy check` and `scan` stop with one line naming it, exit 2, so an
    unedited paste never waives anything."""
    _, out = run(["scan", str(corpus / "gpl-player.apk")], capsys)
    policy = tmp_path / "licensegate.toml"
    policy.write_text("version = 1\n\n" + _snippet(out, "  lib/arm64-v8a/libx265.so: x265 199") + "\n")
    expected = (f"licensegate: error: {policy}:7: waiver[0].reason is still the report's placeholder ('FILL IN:'): "
                "replace it with why this is acceptable\n")
    for argv in (["policy", "check", str(policy)], ["scan", str(corpus / "gpl-player.apk"), "--policy", str(policy)]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert (captured.out, captured.err) == ("", expected)


@pytest.mark.parametrize(("path", "glob"), [
    ("lib/arm64-v8a/libx264.so", "**/lib/*/libx264.so"),
    ("base/lib/x86_64/libx264.so", "**/lib/*/libx264.so"),
    ("Payload/App.app/Frameworks/x264.framework/x264", "**/Frameworks/x264.framework/x264"),
    ("classes2.dex!/androidx/", "**/androidx/"),
    ("assets/bundle.zip!/lib/libfoo.so", "**/assets/bundle.zip!/lib/libfoo.so"),
    ("jni/arm64-v8a/libx.so", "**/jni/*/libx.so"),
    ("lib/arm64-v8a/lib[x]*.so", "**/lib/*/lib[[]x][*].so"),
])
def test_waiver_glob_fits_every_layout(path: str, glob: str) -> None:
    from licensegate.policy.waivers import path_matches, waiver_glob

    assert waiver_glob(path) == glob
    assert path_matches(glob, path)


# ---- Java libraries across DEX files, one classification --------------------------------------------------------


@needs_tools
def test_java_library_once_across_dex_files(multidex: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(["scan", str(multidex)], capsys)
    rows = [line for line in out.splitlines() if line.startswith("  [") and "androidx/" in line]
    # one component for AndroidX however many DEX files hold it (the Java inventory merges them)
    assert len(rows) == 1 and rows[0].startswith("  [   PERMISSIVE] "), rows
    _, md = run(["scan", str(multidex), "--format", "markdown"], capsys)
    assert md.count("| AndroidX (Jetpack) |") == 1


@needs_tools
def test_one_classification_for_tables_and_graph(multidex: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from licensegate.report.html import path_html

    _, out = run(["scan", str(multidex), "--format", "html"], capsys)
    node = re.search(r'<g class="node family-([a-z-]+)" data-path="lib/arm64-v8a/liblgplthing.so"><title>[^<]*: ([^<]*)</title>', out)
    assert node and node.groups() == ("lgpl", "LGPL-2.1-or-later"), node and node.groups()
    table = out.split('id="components-table"', 1)[1]
    row = table.split(f"<code>{path_html('lib/arm64-v8a/liblgplthing.so')}</code>", 1)[1].split("</tr>", 1)[0]
    assert 'data-sort="lgpl"' in row
    assert re.search(r'class="node family-app" data-path="lib/arm64-v8a/libapp.so"', out)
    # unconnected permissive Java libraries are one collapsed node, not one node per DEX file and library
    assert 'data-path="(not linked)"' in out and not re.search(r'data-path="classes\d?\.dex!/', out)


# ---- HTML -------------------------------------------------------------------------------------------------------


def _dom(page: Path, fragment: str = "") -> str:
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--dump-dom", page.as_uri() + fragment], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium comes from .ci/run")
def test_html_sorts_filters_and_says_what_to_do(corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "r.html"
    assert main(["scan", str(corpus / "gpl-player.apk"), "--report", f"html={page}", "--no-progress"]) == 1
    text = page.read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", text), "one self-contained file"
    assert text.count("What to do") >= 18 and text.count("[[waiver]]") == 8
    dom = _dom(page)
    assert dom.count('class="sortable" tabindex="0"') >= 12  # the script ran: every header of both tables sorts
    assert '<span class="lic">GPL-2.0-or-later</span>' in dom
    filtered = _dom(page, "#q=x265")
    body = filtered.split('id="findings-table"', 1)[1].split("</table>", 1)[0]
    shown = [row for row in re.findall(r"<tr class=\"finding[^>]*>", body) if "hidden" not in row]
    assert len(shown) == 2, shown  # copyleft-gpl and app-links-copyleft for libx265
    assert "2 of 24 shown" in filtered
