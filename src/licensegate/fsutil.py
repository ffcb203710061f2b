"""One atomic file write for every file LicenseGate produces (reports, notices, policy templates, caches).

The text goes to a temporary file created exclusively (`O_CREAT | O_EXCL | O_NOFOLLOW`, a random name) in the
target's folder and is renamed over the target. A link planted at a predictable temporary name (`report.json.tmp`)
therefore never makes LicenseGate write through it: the name is unpredictable, and if it exists anyway, creation
fails instead of opening it. `rename` replaces a link at the target itself rather than following it. Readers never
see half a file, and an interrupted write leaves the previous file as it was.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_ATTEMPTS = 16


def atomic_write(target: Path, data: str | bytes, *, durable: bool = True, make_parents: bool = True) -> None:
    """Write `data` (str as UTF-8) to `target` atomically; OSError when the folder is unwritable.

    `durable` flushes the bytes to disk before the rename (reports, notices); caches skip it. An existing regular
    file's permission bits are kept; a new file gets 0666 less the umask, as `open` would give it.
    """
    payload = data.encode("utf-8", "backslashreplace") if isinstance(data, str) else data
    with atomic_writer(target, durable=durable, make_parents=make_parents) as fh:
        fh.write(payload)


@contextlib.contextmanager
def atomic_writer(target: Path, *, durable: bool = False, make_parents: bool = True) -> Iterator[BinaryIO]:
    """`with atomic_writer(path) as fh:` for writers that stream (Parquet, large exports), and the one mechanism under
    `atomic_write`: the exclusive random temporary file, renamed over `target` when the block ends without an
    exception, removed otherwise."""
    if _is_special(target):
        # `--output /dev/null`, `/dev/stdout`, a FIFO the user set up: written to, never replaced by a file
        # (renaming over a device node would take it away from every other program on the machine).
        with open(target, "wb") as special:
            yield special
        return
    folder = target.parent
    if make_parents:
        folder.mkdir(parents=True, exist_ok=True)
    mode = 0o666
    try:
        st = os.lstat(target)
        if stat.S_ISREG(st.st_mode):
            mode = stat.S_IMODE(st.st_mode)
    except OSError:
        pass
    fd, tmp = _create_exclusive(folder, target.name, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        if mode != 0o666:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _is_special(target: Path) -> bool:
    try:
        st = os.stat(target)
    except OSError:
        return False
    return not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode)


def _create_exclusive(folder: Path, name: str, mode: int) -> tuple[int, Path]:
    for _ in range(_ATTEMPTS):
        tmp = folder / f".{name[:100]}.{secrets.token_hex(8)}.tmp"
        try:
            return os.open(tmp, _FLAGS, 0o666 if mode == 0o666 else 0o600), tmp
        except FileExistsError:
            continue  # something is at that name (a planted link even): never open it, pick another
    raise FileExistsError(f"cannot create a temporary file in {folder}")


class NotARegularFile(OSError):
    """A FIFO, device, socket (or folder) where a file was expected: refused without reading from it."""


_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder"), (stat.S_ISLNK, "a symbolic link"))


def kind_of(mode: int) -> str:
    """What a file-system entry is, in words ("a FIFO (named pipe)", "a socket"...)."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_regular(path: Path) -> os.stat_result:
    """The stat of `path` (links followed); NotARegularFile for a FIFO, device or socket, which is never opened:
    reading a FIFO blocks until someone writes, a device may never end."""
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise NotARegularFile(f"is {kind_of(st.st_mode)}, not a regular file; not read")
    return st


def open_regular(path: Path) -> BinaryIO:
    """Open a regular file for reading; NotARegularFile for anything else. Checked before opening, and again on the
    open descriptor (opened non-blocking, so a FIFO swapped in between cannot block), so no race lets one through."""
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
                 | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFile(f"is {kind_of(st.st_mode)}, not a regular file; not read")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
