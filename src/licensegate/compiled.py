"""What the compiled caches of the packaged data (the signature database, the native knowledge base) share.

Each is compiled once into the user cache under a name holding the digest of its data files. Two costs of every
scan are cut here (measured on a scan of a tiny APK, the fixed cost of every scan):

- the digest: reading and hashing the data files each run (the knowledge base's 8.4 MB: 16-18 ms; the signature
  files: ~10 ms) is done once and remembered beside the compiled file against the files' stamps (path, size,
  modification time in ns, inode, device), the check CPython makes before it trusts a ``.pyc``; a stat per file
  then costs microseconds. A reinstall, an edit or a replaced file changes the stamp and the digest is recomputed.
- unpickling: the cyclic garbage collector paused while the signature database is turned into thousands of objects
  (its passes over them find nothing to free). The knowledge base no longer unpickles anything at load: its entries
  decode one by one on first use and its tables are read in place (knowledge.py).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .fsutil import atomic_write


def remembered_digest(files: Sequence[Path], cache_dir: Path | None, name: str, compute: Callable[[], str]) -> str:
    """`compute()` (a digest of the contents of `files`), or the digest recorded in `cache_dir` for the files as
    they are now.

    The record is named after `name` and the files' paths, so that two installations sharing a cache keep one each.
    `cache_dir` None (no cache) always computes. A file that cannot be stat'ed computes too, so that `compute`
    raises the caller's own error for it. An unreadable or unwritable record is only slower.
    """
    if cache_dir is None:
        return compute()
    try:
        # stat'ed before compute(): a file changed while it is read gets a new stamp, so it is read again next time
        stamps = json.dumps([_stamp(f) for f in files])
    except OSError:
        return compute()
    where = hashlib.sha256("\0".join(map(str, files)).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    record = cache_dir / f"{name}-{where}.digest"
    try:
        saved_stamps, saved_digest = record.read_text("utf-8").split("\n")[:2]
        if saved_stamps == stamps and saved_digest:
            return saved_digest
    except (OSError, UnicodeDecodeError, ValueError):
        pass
    digest = compute()
    try:
        atomic_write(record, f"{stamps}\n{digest}\n", durable=False)
    except OSError:
        pass
    return digest


# A compiled file another installation may still use is kept until nothing has read it for this long.
STALE_AFTER_DAYS = 14


def prune_stale(written: Path, prefix: str, suffix: str) -> int:
    """Remove the compiled files of other data versions and formats beside `written` (`prefix*suffix` in its folder)
    that nobody has read or written for STALE_AFTER_DAYS; the number removed.

    Called only after a new compiled file was written (a new release, a new format): each knowledge base is ~57 MB,
    and without this every upgrade left the old one in the cache for good. A file used by another installation
    sharing the cache (another venv, another CI job) keeps being read, and its access time (Linux's default
    `relatime` updates it at least daily) keeps it; on a `noatime` mount such a file can go, and is then only
    compiled again. Only regular files are removed (a symbolic link is neither followed nor removed); every error
    leaves the file where it is.
    """
    cutoff = time.time() - STALE_AFTER_DAYS * 86400
    removed = 0
    try:
        entries = list(os.scandir(written.parent))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if name == written.name or not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            if not entry.is_file(follow_symlinks=False) or max(st.st_atime, st.st_mtime) >= cutoff:
                continue
            os.unlink(entry.path)
            removed += 1
        except OSError:
            continue
    return removed


def _stamp(path: Path) -> list[object]:
    st = os.stat(path)
    return [str(path), st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev]


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (as it was before, after it): loading a compiled cache only
    allocates, and every collection the allocations trigger would traverse all of it for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
