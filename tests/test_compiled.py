"""The compiled caches' shared pieces: a data file's digest remembered against its stamp, the GC paused on load."""

from __future__ import annotations

import functools
import gc
import hashlib
import os
import time
from pathlib import Path

import pytest

from licensegate import knowledge, signatures
from licensegate.compiled import STALE_AFTER_DAYS, gc_paused, prune_stale, remembered_digest


def _digest_counting(path: Path, calls: list[int]) -> str:
    calls.append(1)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_digest_is_computed_again_only_when_the_file_changes(tmp_path: Path) -> None:
    data, cache = tmp_path / "kb.json.xz", tmp_path / "cache"
    data.write_bytes(b"first")
    calls: list[int] = []

    def digest() -> str:
        return remembered_digest([data], cache, "kb", lambda: _digest_counting(data, calls))

    assert digest() == hashlib.sha256(b"first").hexdigest() and len(calls) == 1
    assert digest() == hashlib.sha256(b"first").hexdigest() and len(calls) == 1  # remembered
    data.write_bytes(b"other")  # same size, new content
    os.utime(data, ns=(data.stat().st_atime_ns, data.stat().st_mtime_ns + 1))
    assert digest() == hashlib.sha256(b"other").hexdigest() and len(calls) == 2
    replaced = tmp_path / "new.xz"
    replaced.write_bytes(b"third")
    replaced.replace(data)  # a reinstall: another file at the same path
    assert digest() == hashlib.sha256(b"third").hexdigest() and len(calls) == 3


def test_a_damaged_record_or_no_cache_computes(tmp_path: Path) -> None:
    data, cache = tmp_path / "kb.json.xz", tmp_path / "cache"
    data.write_bytes(b"bytes")
    want = hashlib.sha256(b"bytes").hexdigest()
    calls: list[int] = []
    assert remembered_digest([data], cache, "kb", lambda: _digest_counting(data, calls)) == want
    (record,) = cache.iterdir()
    for damaged in (b"", b"\xff\xfe", record.read_bytes()[:10], record.read_bytes().replace(b"\n", b" ")):
        record.write_bytes(damaged)
        assert remembered_digest([data], cache, "kb", lambda: _digest_counting(data, calls)) == want
    assert len(calls) == 5
    assert remembered_digest([data], None, "kb", lambda: _digest_counting(data, calls)) == want and len(calls) == 6
    assert remembered_digest([tmp_path / "gone"], cache, "kb", lambda: "raised by the caller") == "raised by the caller"


def test_the_packaged_databases_keep_their_content_digests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled files are found by the digest of the data files, remembered or not."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("LICENSEGATE_NO_CACHE", raising=False)
    # fresh per-process caches for this test only: the process's own loaded databases (which other tests hold
    # and compare by identity) come back untouched when monkeypatch restores these
    monkeypatch.setattr(knowledge, "_data_digest", functools.cache(knowledge._data_digest.__wrapped__))
    monkeypatch.setattr(signatures, "_default_db", functools.cache(signatures._default_db.__wrapped__))
    want = hashlib.sha256(knowledge._read_data(knowledge.DATA_FILE)).hexdigest()
    signatures_digest = signatures._default_db().fingerprint
    for _ in range(2):  # computed, then remembered
        knowledge._data_digest.cache_clear()
        signatures._default_db.cache_clear()
        assert knowledge._data_digest(knowledge.DATA_FILE) == want
        assert signatures._default_db().fingerprint == signatures_digest
    assert len(list((tmp_path / "licensegate").glob("*.digest"))) == 2


def _age(path: Path, days: float) -> None:
    then = time.time() - days * 86400
    os.utime(path, (then, then), follow_symlinks=False)


def test_compiled_files_nobody_uses_are_removed_after_a_new_one_is_written(tmp_path: Path) -> None:
    """Every upgrade wrote a new ~57 MB knowledge base beside the old ones; those unread for the stale period go,
    those another installation still reads stay, and nothing but the family's regular files is touched."""
    written = tmp_path / "native-kb-new-13-little.idx"
    written.write_bytes(b"new")
    old, recent, other = (tmp_path / n for n in ("native-kb-old-12-little.idx", "native-kb-used-12-little.idx",
                                                  "signatures-old.pickle"))
    for f in (old, recent, other):
        f.write_bytes(b"x")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    target = outside / "keep.idx"
    target.write_bytes(b"x")
    link = tmp_path / "native-kb-link-12-little.idx"
    link.symlink_to(target)
    folder = tmp_path / "native-kb-folder.idx"
    folder.mkdir()
    for f in (old, other, target, link, folder):
        _age(f, STALE_AFTER_DAYS + 1)
    _age(recent, STALE_AFTER_DAYS - 1)
    _age(written, STALE_AFTER_DAYS + 1)  # the file just written is never removed, whatever its times say

    assert prune_stale(written, "native-kb-", ".idx") == 1
    assert not old.exists()
    assert written.exists() and recent.exists() and other.exists() and folder.is_dir()
    assert link.is_symlink() and target.exists()
    assert prune_stale(tmp_path / "missing" / "x.idx", "native-kb-", ".idx") == 0  # no folder: nothing, no error


def test_compiling_the_signature_database_removes_a_stale_compiled_one(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("LICENSEGATE_NO_CACHE", raising=False)
    monkeypatch.setattr(signatures, "_default_db", functools.cache(signatures._default_db.__wrapped__))
    cache = tmp_path / "licensegate"
    cache.mkdir()
    stale, fresh = cache / "signatures-0123456789abcdef01234567.pickle", cache / "signatures-other-install.pickle"
    stale.write_bytes(b"an earlier release's database")
    fresh.write_bytes(b"another installation's database, read yesterday")
    _age(stale, STALE_AFTER_DAYS + 30)
    _age(fresh, 1)
    db = signatures._default_db()
    assert (cache / f"signatures-{db.fingerprint}.pickle").is_file()
    assert not stale.exists() and fresh.exists()


def test_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # left as it was
    finally:
        gc.enable()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError
    assert gc.isenabled()
