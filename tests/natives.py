"""Build small real Android (ELF) and iOS (Mach-O) binaries with clang for tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ANDROID = "aarch64-linux-android24"
ANDROID_ARM = "armv7a-linux-androideabi24"
IOS = "arm64-apple-ios14.0"


def have_clang() -> bool:
    return shutil.which("clang") is not None


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.strip()}")


def android_lib(out: Path, source: str, *, soname: str | None = None, link: list[Path] = (), target: str = ANDROID) -> Path:  # type: ignore[assignment]
    """A shared library; `link` are libraries it links (their sonames become DT_NEEDED)."""
    src = out.with_suffix(".c")
    src.write_text(source)
    cmd = ["clang", f"--target={target}", "-nostdlib", "-fuse-ld=lld", "-shared", "-fPIC", "-O1", "-o", str(out), str(src)]
    if soname:
        cmd.append(f"-Wl,-soname,{soname}")
    cmd += [str(p) for p in link]
    _run(cmd)
    return out


def ios_dylib(out: Path, source: str, *, install_name: str, link: list[Path] = (), rpaths: list[str] = ()) -> Path:  # type: ignore[assignment]
    src = out.with_suffix(".c")
    src.write_text(source)
    cmd = ["clang", f"--target={IOS}", "-nostdlib", "-fuse-ld=lld", "-shared", "-o", str(out), str(src),
           f"-Wl,-install_name,{install_name}", "-Wl,-U,dyld_stub_binder"]
    cmd += [str(p) for p in link] + [f"-Wl,-rpath,{r}" for r in rpaths]
    _run(cmd)
    return out


def ios_executable(out: Path, source: str, *, link: list[Path] = (), rpaths: list[str] = (), entry: str = "_main") -> Path:  # type: ignore[assignment]
    src = out.with_suffix(".c")
    src.write_text(source)
    cmd = ["clang", f"--target={IOS}", "-nostdlib", "-fuse-ld=lld", "-o", str(out), str(src), f"-e{entry}", "-Wl,-U,dyld_stub_binder"]
    cmd += [str(p) for p in link] + [f"-Wl,-rpath,{r}" for r in rpaths]
    _run(cmd)
    return out
