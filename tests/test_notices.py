"""--notices DIR: third-party notices with licence texts, and the written source offer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from licensegate import __version__
from licensegate.cli import main
from licensegate.report.notices import copyright_lines, licence_text

GOLDEN = Path(__file__).parent / "golden"
GPL = {  # every GPL/LGPL component of gpl-player.apk, as the offer must name it
    "FFmpeg libavcodec": "5.1.9-0+deb12u1", "FFmpeg libavformat": "5.1.9-0+deb12u1", "FFmpeg libavutil": "5.1.9-0+deb12u1",
    "FFmpeg libpostproc": "5.1.9-0+deb12u1", "FFmpeg libswresample": "5.1.9-0+deb12u1", "FFmpeg libswscale": None,
    "x264": "164", "x265": "199", "LAME": "3.100", "GNU MP": None,
}
CONTACT = '''\
[source_offer]
organisation = "Example Media Ltd"
address = "1 Example Street, 12345 Example City, Exampleland"
email = "opensource@example.com"
url = "https://example.com/opensource"
years = 5
'''


def notices(corpus: Path, artifact: str, out: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.chdir(corpus)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    return main(["scan", artifact, "--notices", str(out), "--format", "json", "--output", str(out / "report.json"), *extra])


def test_gpl_build_gets_an_offer_naming_every_gpl_component(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert notices(corpus, "gpl-player.apk", tmp_path, monkeypatch) == 1, "the notices are written whatever the verdict"
    offer = (tmp_path / "SOURCE_OFFER.txt").read_text()
    for name, version in GPL.items():
        assert f"{name}, version {version or 'as shipped'}" in offer
    assert "Zstandard" not in offer, "zstd is used under its BSD option"
    for words in ("at least 3 years", "any third party", "no more than our cost of physically performing this distribution",
                  "GPL-2.0 section 3(b)", "GPL-3.0 section 6(b)", "LGPL-2.1 section 6(c)", "scripts used to control"):
        assert words in offer
    assert "TO BE COMPLETED" in offer and offer.startswith("*** DRAFT")
    report = (tmp_path / "report.json").read_text()
    assert '"rule": "source-offer-contact-missing"' in report


def test_offer_uses_the_policy_contact(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(CONTACT)
    out = tmp_path / "out"
    assert notices(corpus, "gpl-player.apk", out, monkeypatch, "--policy", str(policy)) == 1
    offer = (out / "SOURCE_OFFER.txt").read_text()
    assert "TO BE COMPLETED" not in offer and "DRAFT" not in offer
    assert "Example Media Ltd" in offer and "opensource@example.com" in offer and "at least 5 years" in offer
    assert "https://example.com/opensource" in offer
    assert "\"rule\": \"source-offer-contact-missing\"" not in (out / "report.json").read_text()
    path = GOLDEN / "gpl-player.apk.SOURCE_OFFER.txt"
    text = offer.replace(__version__, "<version>")
    if os.environ.get("LICENSEGATE_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert text == path.read_text()


def test_clean_build_gets_notices_and_passes(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert notices(corpus, "clean-app.apk", tmp_path, monkeypatch) == 0
    txt = (tmp_path / "THIRD_PARTY_NOTICES.txt").read_text()
    for name in ("OpenSSL libcrypto", "dav1d", "libjpeg-turbo", "Opus", "libpng", "SQLite", "libvpx", "libwebp", "zlib", "Zstandard"):
        assert f". {name}" in txt, name
    assert "libapp_clean.so" not in txt, "the app's own code is not third-party"
    assert "Copyright (c) 2018-2022 Cosmin Truta" in txt
    assert "Copyright 1995-2022 Jean-loup Gailly and Mark Adler" in txt
    for lid in ("Apache-2.0", "BSD-2-Clause", "BSD-3-Clause", "IJG", "Zlib", "Libpng", "blessing", "GPL-3.0-or-later"):
        assert f"\n{lid}: " in txt, lid
    assert "Redistribution and use in source and binary forms" in txt  # a full BSD text
    assert "GCC-exception-3.1" in txt  # exception named, with its SPDX page
    html = (tmp_path / "THIRD_PARTY_NOTICES.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<h3>SQLite" in html and 'id="Apache-2.0"' in html
    offer = (tmp_path / "SOURCE_OFFER.txt").read_text()
    assert "requires a written source offer" in offer and "TO BE COMPLETED" not in offer
    assert "\"rule\": \"source-offer-contact-missing\"" not in (tmp_path / "report.json").read_text()


def test_models_in_notices_and_offer(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from test_formats import with_models

    with_models(corpus / "gpl-player.apk", tmp_path / "gpl-model.apk")
    out = tmp_path / "n"
    assert notices(tmp_path, "gpl-model.apk", out, monkeypatch) == 1
    txt = (out / "THIRD_PARTY_NOTICES.txt").read_text()
    assert "Relu classifier (LicenseGate fixture) v2 (assets/models/relu.tflite)" in txt and "Author: LicenseGate tests" in txt
    offer = (out / "SOURCE_OFFER.txt").read_text()
    assert 'stance ("training-code"' in offer
    assert "the model as shipped (weights and graph): available at assets/models/relu.tflite (artifact)" in offer
    assert "the code that defines and trains the model, with its build scripts: [TO BE COMPLETED" in offer


def test_templates_can_be_overridden(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "SOURCE_OFFER.txt.j2").write_text("Our offer for {% for e in n.offer %}{{ e.name }};{% endfor %} ask {{ contact.email }}\n")
    out = tmp_path / "out"
    notices(corpus, "gpl-player.apk", out, monkeypatch, "--templates", str(tpl))
    assert (out / "SOURCE_OFFER.txt").read_text().startswith("Our offer for FFmpeg libavcodec;")
    assert "LICENCE TEXTS" in (out / "THIRD_PARTY_NOTICES.txt").read_text(), "other templates stay built-in"


def test_broken_template_is_a_usage_error(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    tpl = tmp_path / "tpl"
    tpl.mkdir()
    (tpl / "SOURCE_OFFER.txt.j2").write_text("{{ no_such_thing.x }}\n")
    assert notices(corpus, "clean-app.apk", tmp_path / "out", monkeypatch, "--templates", str(tpl)) == 2
    assert "SOURCE_OFFER.txt.j2" in capsys.readouterr().err


def test_copyright_lines() -> None:
    assert copyright_lines(["x265 (build %d) - %s:%s - H.265/HEVC codec - Copyright 2013-2018 (c) Multicoreware, Inc - http://x265.org"]) \
        == ["Copyright 2013-2018 (c) Multicoreware, Inc"]
    assert copyright_lines(["Copyright (C) 2002-2024 OpenVPN Inc <sales@openvpn.net>"]) == ["Copyright (C) 2002-2024 OpenVPN Inc <sales@openvpn.net>"]
    assert copyright_lines(["Keep the copyright notices"]) == []


def test_vendored_licence_texts() -> None:
    gpl = licence_text("GPL-2.0-or-later")
    assert gpl.text and "GNU GENERAL PUBLIC LICENSE" in gpl.text and "Version 2" in gpl.text
    missing = licence_text("Sleepycat")
    assert missing.text is None and missing.url == "https://spdx.org/licenses/Sleepycat.html"
