"""Imported by the process pool's forkserver: the scanner and its knowledge bases are loaded once, before any
worker is forked, so that every worker starts warm and shares those pages with the others."""

from .worker import warm

try:
    warm()
except Exception:  # noqa: BLE001 - a broken knowledge base is reported by the worker's own scan, with its input
    pass
