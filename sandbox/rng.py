"""Deterministic random streams.

Every entity type draws from its own stream, seeded from (seed, name, ...), so adding an
entity type or a day of activity never reshuffles the others. Python's built-in ``hash`` is
salted per process, hence blake2b.
"""

from __future__ import annotations

import hashlib
import random


def _digest(parts: tuple) -> int:
    raw = "\x1f".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(raw, digest_size=8).digest(), "big")


def stream(*parts: object) -> random.Random:
    """A ``random.Random`` seeded from the parts, e.g. ``stream(seed, "students")``."""
    return random.Random(_digest(parts))


def unit(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by the parts; cheap enough to call per record."""
    return _digest(parts) / 2**64
