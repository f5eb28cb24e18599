"""The report as a value: sections made of typed blocks (``blocks.py``), rendered by ``html.py`` and
``markdown.py``.

A block is text, a key/value list, a table (a DataFrame, with rows to highlight), a figure
(PNG bytes) or code.  Keeping the content separate from the rendering means the HTML and the
Markdown reports say exactly the same thing, and tests can check the content (the DataFrames)
directly.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any, Mapping, Sequence

import pandas as pd

from ..errors import ParameterError
from .blocks import Code, Figure, Info, Row, Section, Table, Text  # the blocks, named here too

__all__ = ["Text", "Info", "Table", "Figure", "Code", "Row", "Section", "Report"]


@dataclass(frozen=True, eq=False)
class Report:
    """A complete analysis report: render with :meth:`to_html` / :meth:`to_markdown`, write with :meth:`save`.

    Attributes
    ----------
    title : str
    sections : the report's sections, in order.
    path, cv, bootstrap, stability, inference, bias_variance : the results the report shows
        (None when that step was not computed; ``status`` says why).
    status : step name -> ``"ok"`` or the reason it was not computed.
    tables : every table of the report by name, as DataFrames (the numbers shown).
    call, command : the Python call and the shell command that reproduce the report.
    """

    title: str
    sections: Sequence[Section]
    path: Any
    cv: Any = None
    bootstrap: Any = None
    stability: Any = None
    inference: Any = None
    bias_variance: pd.DataFrame | None = None
    status: Mapping[str, str] = field(default_factory=dict)
    tables: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    call: str = ""
    command: str = ""
    meta: Mapping[str, str] = field(default_factory=dict)

    @property
    def coefficients(self) -> pd.DataFrame:
        """The coefficient table (one row per term: estimates, stability, inference), tidy."""
        return self.tables["coefficients"]

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table (same as :attr:`coefficients`)."""
        return self.tables["coefficients"].copy()

    @property
    def figures(self) -> list[Figure]:
        """Every figure of the report, in order."""
        out = []
        for s in self.sections:
            for b in s.blocks:
                for x in (b.blocks if isinstance(b, Row) else [b]):
                    out += [y for y in (x if isinstance(x, tuple) else (x,)) if isinstance(y, Figure)]
        return out

    def to_html(self) -> str:
        """One self-contained HTML page (images inlined as base64 PNG, no network access)."""
        from .html import render_html

        return render_html(self)

    def to_markdown(self, image_dir: str | FilePath | None = None, image_prefix: str = "") -> str:
        """GitHub-flavoured Markdown.

        Parameters
        ----------
        image_dir : write the figures as PNG files into this directory and link them
            (``image_prefix`` + file name); None inlines them as ``data:`` URIs.
        image_prefix : the relative path used in the links.
        """
        from .markdown import render_markdown

        return render_markdown(self, image_dir=image_dir, image_prefix=image_prefix)

    def save(self, out: str | FilePath) -> FilePath:
        """Write the report; the suffix chooses the format (``.html``/``.htm`` or ``.md``).

        A Markdown report writes its figures next to it, into ``<stem>_files/``.  Writing is
        atomic: the report (and the figure folder) are written under temporary names in the
        target's folder and then renamed, so a kill or a full disk never leaves a half-written
        report and never destroys the previous one.  A failed write raises
        :class:`~regstats._atomic.OutputError` (a :class:`~regstats.RegstatsError` and an
        ``OSError``) naming the path and the reason.
        """
        from .._atomic import OutputError, atomic_open, check_target, replace_dir

        out = FilePath(out)
        suffix = out.suffix.lower()
        if suffix not in (".html", ".htm", ".md", ".markdown"):
            raise ParameterError(f"out must end in .html, .htm or .md; got {str(out)!r}")
        check_target(out)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot write {str(out)!r}: cannot create the folder {str(out.parent)!r} "
                              f"({exc.strerror.lower() if exc.strerror else exc})") from None
        if suffix in (".html", ".htm"):
            text = self.to_html()
            with atomic_open(out, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            img_dir = out.parent / f"{out.stem}_files"
            with atomic_open(out, "w", encoding="utf-8") as fh:
                if self.figures:
                    with replace_dir(img_dir) as tmp_dir:
                        text = self.to_markdown(image_dir=tmp_dir, image_prefix=f"{out.stem}_files/")
                        fh.write(text)
                else:
                    fh.write(self.to_markdown(image_dir=img_dir, image_prefix=f"{out.stem}_files/"))
        return out

    def _repr_html_(self) -> str:
        from .html import render_html

        return render_html(self, standalone=False)

    def __repr__(self) -> str:
        done = [k for k, v in self.status.items() if v == "ok"]
        return f"<Report {self.title!r}: {len(self.sections)} sections; computed {', '.join(done)}>"
