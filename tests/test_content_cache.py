"""--cache: a second scan of unchanged binaries reuses their analysis and reports the same thing."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

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
