"""--cache: a second scan of unchanged binaries reuses their analysis and reports the same thing."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from licensegate.scan import Scanner


def comparable(components: list) -> list[dict]:
    return sorted((asdict(c) for c in components), key=lambda c: c["path"])


def test_cache_hits_give_identical_components(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = Scanner(corpus / "gpl-player.apk", cache_dir=cache)
    cold = first.run()
    assert first.cache is not None and first.cache.hits == 0 and first.cache.misses > 10
    second = Scanner(corpus / "gpl-player.apk", cache_dir=cache)
    warm = second.run()
    assert second.cache is not None and second.cache.misses == 0 and second.cache.hits == first.cache.misses
    assert comparable(warm.components) == comparable(cold.components)


def test_damaged_cache_entry_is_recomputed(corpus: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    Scanner(corpus / "traps.apk", cache_dir=cache).run()
    entries = list(cache.rglob("*.json"))
    assert entries
    for e in entries:
        e.write_text("{not json")
    again = Scanner(corpus / "traps.apk", cache_dir=cache)
    result = again.run()
    assert again.cache is not None and again.cache.hits == 0
    assert any(c.family == "gpl" for c in result.components)
    assert all(json.loads(e.read_text()) for e in entries)  # rewritten


def test_a_rebuilt_knowledge_base_or_changed_code_never_reuses_cached_analyses(
        corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from licensegate import cache as cache_mod
    from licensegate import knowledge

    cache = tmp_path / "cache"
    first = Scanner(corpus / "gpl-player.apk", cache_dir=cache)
    first.run()
    assert first.cache is not None and first.cache.misses > 10
    real = knowledge.fingerprint()
    monkeypatch.setattr(knowledge, "fingerprint", lambda: real[::-1])  # a rebuilt native knowledge base
    rebuilt = Scanner(corpus / "gpl-player.apk", cache_dir=cache)
    rebuilt.run()
    assert rebuilt.cache is not None and rebuilt.cache.hits == 0 and rebuilt.cache.misses == first.cache.misses
    monkeypatch.setattr(knowledge, "fingerprint", lambda: real)
    code = cache_mod.code_fingerprint()
    monkeypatch.setattr(cache_mod, "code_fingerprint", lambda: code[::-1])  # a matcher edited in a development install
    edited = Scanner(corpus / "gpl-player.apk", cache_dir=cache)
    edited.run()
    assert edited.cache is not None and edited.cache.hits == 0
    monkeypatch.setattr(cache_mod, "code_fingerprint", lambda: code)
    again = Scanner(corpus / "gpl-player.apk", cache_dir=cache)
    again.run()
    assert again.cache is not None and again.cache.misses == 0  # the original key still finds its entries


def test_the_code_digest_changes_with_any_file_of_the_package(tmp_path: Path) -> None:
    from licensegate.cache import source_digest

    pkg = tmp_path / "pkg"
    (pkg / "data" / "big").mkdir(parents=True)
    (pkg / "__pycache__").mkdir()
    (pkg / "a.py").write_text("X = 1\n")
    (pkg / "data" / "kb.tsv").write_text("com.example\tMIT\n")
    (pkg / "data" / "big" / "kb.xz").write_bytes(b"\0")
    before = source_digest(tmp_path, ("pkg/data/big",))
    (pkg / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"compiled")  # bytecode, not a source
    (pkg / "data" / "big" / "kb.xz").write_bytes(b"\1")  # a folder fingerprinted apart
    assert source_digest(tmp_path, ("pkg/data/big",)) == before
    (pkg / "data" / "kb.tsv").write_text("com.example\tGPL-2.0-only\n")  # data an analysis reads
    rebuilt = source_digest(tmp_path, ("pkg/data/big",))
    assert rebuilt != before
    (pkg / "a.py").write_text("X = 2\n")
    edited = source_digest(tmp_path, ("pkg/data/big",))
    assert edited not in (before, rebuilt)
    (pkg / "b.py").write_text("")
    assert source_digest(tmp_path, ("pkg/data/big",)) not in (before, rebuilt, edited)
