"""The blocks a report is made of: text, a key/value list, a table (a DataFrame, with rows to
highlight), a figure (PNG bytes), code, a row of blocks side by side, and the titled section that
holds them.  Plain values: :class:`~regstats.report.document.Report` holds them, ``html.py`` and
``markdown.py`` render them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pandas as pd

__all__ = ["Text", "Info", "Table", "Figure", "Code", "Row", "Section"]


@dataclass(frozen=True)
class Text:
    """A paragraph.  ``kind`` is ``"p"`` (plain), ``"note"`` (an aside) or ``"warning"``.

    Inline markup: ``code`` in backticks, nothing else.
    """

    text: str
    kind: str = "p"


@dataclass(frozen=True)
class Info:
    """A two-column list of facts."""

    items: Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Table:
    """A table; ``highlight`` maps a row position to a CSS class (``"min"``, ``"1se"``)."""

    caption: str
    frame: pd.DataFrame
    digits: int = 4
    index: bool = False
    highlight: Mapping[int, str] = field(default_factory=dict)
    note: str = ""
    scroll: bool = False          # long tables: a scrolling box in HTML


@dataclass(frozen=True)
class Figure:
    """A PNG image (bytes) with a caption and a short name for file output."""

    name: str
    caption: str
    png: bytes
    alt: str = ""


@dataclass(frozen=True)
class Code:
    """A code listing."""

    code: str
    language: str = ""
    caption: str = ""


@dataclass(frozen=True)
class Row:
    """Blocks shown side by side on a wide screen (one after the other in Markdown); an element
    may be a tuple of blocks that share one cell."""

    blocks: Sequence[Any]


@dataclass(frozen=True)
class Section:
    """A titled section; ``status`` is ``"ok"``, ``"skipped"`` or ``"failed"``."""

    id: str
    title: str
    blocks: Sequence[Any]
    status: str = "ok"
