"""Hostile text reaching outputs, and hostile paths around output files (docs/security.md).

Artifact-controlled names with terminal escapes, bidi overrides, HTML and backticks must come out escaped in the
text report, `diff` and messages, well-formed in JUnit XML, inert in Markdown; output files are written through an
exclusive random temporary file, so a planted link is never written through.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from licensegate import escape
from licensegate.cli import main
from licensegate.fsutil import atomic_write

# A member name an attacker would choose: clear screen, set the window title (OSC), ask for a cursor report (which
# types into the terminal), CR to overwrite the line, BEL, a C1 CSI, a right-to-left override, HTML, backticks, a
# table pipe and a newline that would forge a report line.
EVIL = "lib/arm64-v8a/lib\x1b[2J\x1b]0;pwned\x07\x1b[6n\rx\x9b31m\u202egpl.so`<img src=x onerror=alert(1)>|\nVerdict: PASS.so"
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def evil_apk(corpus: Path, dest: Path) -> Path:
    """Real members of the GPL fixture app, x264 renamed with a hostile name; the artifact's own name is hostile too."""
    with zipfile.ZipFile(corpus / "gpl-player.apk") as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for name in ("AndroidManifest.xml", "classes.dex", "lib/arm64-v8a/libapp.so"):
            out.writestr(name, src.read(name))
        out.writestr(EVIL, src.read("lib/arm64-v8a/libx264.so"))
    return dest


@pytest.fixture(scope="module")
def apk(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return evil_apk(corpus, tmp_path_factory.mktemp("evil") / "app\x1b]0;title\x07\u202e.apk")


def test_escape_rule() -> None:
    assert escape.text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert escape.text("\u202egpl") == "\\u202egpl"
    assert escape.text("x\ny\r\tz") == "x\\ny\\r\\tz"
    assert escape.text("\x9b\x85") == "\\x9b\\x85"
    assert escape.text("\udcff") == "\\udcff"  # an undecodable byte of a file name, via surrogateescape
    assert escape.text("libc++_shared.so ü 日本") == "libc++_shared.so ü 日本"  # printable text is left alone
    assert escape.terminal("line one\n\tline\x1b two\r\n") == "line one\n\tline\\x1b two\\r\n"
    assert escape.clip("x" * 1_000_000, 50) == "x" * 50 + "… (1,000,000 characters)"


def test_markdown_code_span_holds_any_text() -> None:
    assert escape.md_code("a`b") == "``a`b``"
    assert escape.md_code("`a``") == "``` `a`` ```"
    assert escape.md_code("x|y") == "`x\\|y`"
    assert escape.md_code("x|y", in_table=False) == "`x|y`"
    assert escape.md_text("<script>*b*_c_ [l](u) ~~s~~ &amp;") == "\\<script>\\*b\\*\\_c\\_ \\[l\\](u) \\~\\~s\\~\\~ \\&amp;"


def test_xml_is_well_formed_for_every_character() -> None:
    every = "".join(chr(i) for i in range(0x3000)) + "\ud800\udfff\ufffe\uffff"
    el = ET.Element("t", name=escape.xml(every, keep_newlines=False))
    el.text = escape.xml(every)
    ET.fromstring(ET.tostring(el, encoding="unicode"))


def _scan(apk: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["scan", str(apk), "--no-progress", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_text_report_escapes_artifact_text(apk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _scan(apk, capsys)
    assert code == 1  # x264 under its hostile name is still found and fails the gate
    assert not RAW_CONTROLS.search(out)
    assert "\\x1b[2J" in out and "\\u202e" in out and "\\x9b" in out
    assert not any(line.startswith("Verdict: PASS") for line in out.splitlines())
    assert out.splitlines()[-1].startswith("Verdict: FAIL")


def test_json_keeps_the_true_name(apk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _scan(apk, capsys, "--format", "json")
    assert EVIL in {c["path"] for c in json.loads(out)["components"]}


def test_junit_is_well_formed(apk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _scan(apk, capsys, "--format", "junit")
    root = ET.fromstring(out.split("\n", 1)[1])
    names = [case.get("name") for case in root.iter("testcase")]
    assert any(n and "\\x1b[2J" in n for n in names)


def test_markdown_renders_no_html(apk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _scan(apk, capsys, "--format", "markdown")
    assert not RAW_CONTROLS.search(out)
    # Outside code spans and fenced blocks (the waiver snippets) every "<" is backslash-escaped; inside them HTML is
    # literal text. A fence is longer than any backtick run inside it, so nothing in the block can close it early.
    unfenced = re.sub(r"^(`{3,})toml\n.*?^\1$", "", out, flags=re.S | re.M)
    outside = re.sub(r"(`+)(?:(?!\1).)+?\1", "", unfenced.replace("\\`", ""))
    assert not re.search(r"(?<!\\)<img", outside)
    rows = [line for line in out.splitlines() if "onerror" in line and line.startswith("|")]
    assert rows
    for row in rows:  # the pipe in the name does not add a column: 5 or 6 columns, as the table headers say
        assert len(re.findall(r"(?<!\\)\|", row)) in (6, 7), row


def test_error_message_is_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "notes\x1b[31m\u202e.apk"
    p.write_text("not an app")
    code, _, err = _scan(p, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert not RAW_CONTROLS.search(err)
    assert "\\x1b[31m\\u202e" in err


def test_diff_text_escapes(apk: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _scan(apk, capsys, "--format", "json", "--output", str(tmp_path / "new.json"))
    old = json.loads((tmp_path / "new.json").read_text())
    old["components"] = [c for c in old["components"] if c["path"] != EVIL]
    old["findings"] = []
    (tmp_path / "old.json").write_text(json.dumps(old))
    code = main(["diff", str(tmp_path / "old.json"), str(tmp_path / "new.json")])
    out, _ = capsys.readouterr()
    assert code == 1
    assert not RAW_CONTROLS.search(out)
    assert "\\x1b[2J" in out


# -- atomic writes ---------------------------------------------------------------------------------------------


def test_atomic_write_replaces_and_keeps_mode(tmp_path: Path) -> None:
    target = tmp_path / "r.json"
    target.write_text("old")
    target.chmod(0o640)
    atomic_write(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o640
    assert os.listdir(tmp_path) == ["r.json"]  # no temporary left behind


def test_planted_links_are_never_followed(tmp_path: Path, apk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out" / "report.json"
    out.parent.mkdir()
    # the old predictable temporary names, and the target itself, all links to the victim
    for name in ("report.json.tmp", f"report.json.{os.getpid()}.tmp", ".report.json.tmp"):
        (out.parent / name).symlink_to(victim)
    out.symlink_to(victim)
    code, _, err = _scan(apk, capsys, "--format", "json", "--output", str(out))
    assert code == 1, err
    assert victim.read_text() == "precious"
    assert not out.is_symlink() and json.loads(out.read_text())["schema"].startswith("licensegate.report/")


def test_notices_do_not_write_through_links(tmp_path: Path, apk: Path, capsys: pytest.CaptureFixture[str]) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    notices = tmp_path / "notices"
    notices.mkdir()
    (notices / "THIRD_PARTY_NOTICES.txt").symlink_to(victim)
    _scan(apk, capsys, "--notices", str(notices))
    assert victim.read_text() == "precious"
    assert not (notices / "THIRD_PARTY_NOTICES.txt").is_symlink()


def test_output_to_a_device_writes_to_it(tmp_path: Path) -> None:
    fifo_free = Path(os.devnull)
    before = os.stat(fifo_free)
    atomic_write(fifo_free, "discarded")
    after = os.stat(fifo_free)
    assert (before.st_mode, before.st_rdev, before.st_ino) == (after.st_mode, after.st_rdev, after.st_ino)


def test_streamed_output_to_a_device_writes_to_it() -> None:
    # the streaming writer (Parquet export) is the same mechanism: a device is written to, never replaced
    from licensegate.fsutil import atomic_writer

    before = os.stat(os.devnull)
    with atomic_writer(Path(os.devnull)) as fh:
        fh.write(b"discarded")
    after = os.stat(os.devnull)
    assert (before.st_mode, before.st_rdev, before.st_ino) == (after.st_mode, after.st_rdev, after.st_ino)
