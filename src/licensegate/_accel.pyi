# The compiled module of _accel.c (optional: kb_index.ACCEL is None without it).
from collections.abc import Sequence
from typing import Any

def run_items(region: Any, hashes: Any, offsets: Any, bitmap: Any, blob: Any, mask: int,
              min_len: int) -> list[tuple[bytes, int]]: ...
def lookup(candidates: Sequence[bytes], hashes: Any, offsets: Any, bitmap: Any, blob: Any,
           mask: int) -> list[tuple[bytes, int]]: ...
