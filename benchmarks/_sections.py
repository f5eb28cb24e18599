"""Shared by the benchmark scripts: each owns one marked section of reports/benchmarks.md."""
from __future__ import annotations

from pathlib import Path


def write_section(text: str, out: Path, begin: str, end: str) -> None:
    """Replace the part of ``out`` between ``begin`` and ``end`` markers (append it if absent)."""
    old = out.read_text() if out.exists() else "# Benchmarks\n"
    if begin in old and end in old:
        a, b = old.index(begin), old.index(end) + len(end)
        new = old[:a] + text.rstrip("\n") + old[b:]
    else:
        new = old.rstrip("\n") + "\n\n" + text
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(new)
