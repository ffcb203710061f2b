"""The struct-based ELF reader against pyelftools (the oracle) on every real ELF file in the fixture corpus."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from licensegate.binary import read_elf


def corpus_elves(corpus: Path) -> list[tuple[str, bytes]]:
    out = []
    for artifact in ("gpl-player.apk", "clean-app.apk", "traps.apk", "player.aab", "lib.aar"):
        with zipfile.ZipFile(corpus / artifact) as zf:
            for info in zf.infolist():
                data = zf.read(info)
                if data[:4] == b"\x7fELF":
                    out.append((f"{artifact}!/{info.filename}", data))
    return out


def oracle(data: bytes) -> dict[str, object]:
    elf = ELFFile(io.BytesIO(data))
    needed, soname, rpaths, symbols, strings = [], None, [], set(), []
    for sec in elf.iter_sections():
        if isinstance(sec, DynamicSection):
            for tag in sec.iter_tags():
                if tag.entry.d_tag == "DT_NEEDED":
                    needed.append(tag.needed)
                elif tag.entry.d_tag == "DT_SONAME":
                    soname = tag.soname
                elif tag.entry.d_tag in ("DT_RPATH", "DT_RUNPATH"):
                    rpaths.extend(p for p in getattr(tag, "rpath", None) or tag.runpath if False) if False else rpaths.extend(
                        (tag.rpath if tag.entry.d_tag == "DT_RPATH" else tag.runpath).split(":"))
        if isinstance(sec, SymbolTableSection):
            for sym in sec.iter_symbols():
                if sym["st_shndx"] != "SHN_UNDEF" and sym["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK") \
                        and sym["st_info"]["type"] in ("STT_NOTYPE", "STT_OBJECT", "STT_FUNC") and sym.name:
                    symbols.add(sym.name)
        if sec["sh_type"] == "SHT_PROGBITS" and not sec["sh_flags"] & 0x4 and sec.name.startswith((".rodata", ".data", ".tdata", ".lrodata", ".ldata")) and not sec.name.startswith(".data.rel.ro"):
            strings.append(sec["sh_offset"])
    return {"needed": needed, "soname": soname, "rpaths": [r for r in rpaths if r], "symbols": symbols, "strings": strings}


def test_reader_matches_pyelftools(corpus: Path) -> None:
    elves = corpus_elves(corpus)
    assert len(elves) >= 30
    for name, data in elves:
        ours = read_elf(data, name)
        ref = oracle(data)
        assert ours.needed == ref["needed"], name
        assert ours.soname == ref["soname"], name
        assert ours.rpaths == ref["rpaths"], name
        assert set(ours.symbols) == ref["symbols"], name
        assert [off for off, _ in ours.strings] == ref["strings"], name


@pytest.mark.parametrize("cut", [16, 52, 63, 200, 1000])
def test_truncated_real_elf_is_a_member_error(corpus: Path, cut: int) -> None:
    from licensegate.errors import MemberError

    name, data = corpus_elves(corpus)[0]
    try:
        read_elf(data[:cut], name)
    except MemberError as exc:
        assert name in str(exc)
