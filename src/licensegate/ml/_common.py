"""Helpers shared by the format readers."""

from __future__ import annotations

from licensegate.model import Evidence

TEXT_LIMIT = 4096  # longest metadata value kept in a ModelFile


def trim(text: str | None, limit: int = TEXT_LIMIT) -> str | None:
    if text is None:
        return None
    text = text.replace("\x00", "").strip()
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def evidence(text: str, offset: int | None, rule: str, member: str) -> Evidence:
    shown = text if len(text) <= 200 else text[:199] + "…"
    return Evidence(kind="metadata", text=shown, offset=offset, rule=rule, member=member)

