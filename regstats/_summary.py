"""The Summary value every result's ``summary()`` returns: text, HTML, Markdown and LaTeX."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd


def _fmt(x: object, digits: int = 4) -> str:
    if isinstance(x, (float, np.floating)):
        if np.isnan(x):
            return ""
        ax = abs(float(x))
        if ax != 0 and (ax < 1e-3 or ax >= 1e6):
            return f"{float(x):.{digits}g}"
        return f"{float(x):.{digits}f}".rstrip("0").rstrip(".") if ax >= 1 or ax == 0 else f"{float(x):.{digits}g}"
    return str(x)


def _formatted(df: pd.DataFrame, digits: int) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_float_dtype(out[c].dtype):
            out[c] = [_fmt(x, digits) for x in out[c]]
    return out


@dataclass(frozen=True)
class Summary:
    """A rendered view of a result.

    ``str(summary)`` is plain text; ``to_html()``, ``to_markdown()`` and ``to_latex()`` give the
    same content for reports; notebooks show the HTML.
    """

    title: str
    info: Sequence[tuple[str, str]] = ()
    tables: Sequence[tuple[str, pd.DataFrame]] = ()
    notes: Sequence[str] = ()
    digits: int = 4
    index: bool = field(default=True)

    def __str__(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        if self.info:
            width = max(len(k) for k, _ in self.info)
            lines += [f"{k:<{width}}  {v}" for k, v in self.info]
        for caption, df in self.tables:
            lines += ["", caption, "-" * len(caption)] if caption else [""]
            lines.append(_formatted(df, self.digits).to_string(index=self.index))
        if self.notes:
            lines.append("")
            lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def to_html(self) -> str:
        parts = [f'<div class="regstats-summary"><h3>{html.escape(self.title)}</h3>']
        if self.info:
            parts.append('<table class="regstats-info">')
            parts += [f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>" for k, v in self.info]
            parts.append("</table>")
        for caption, df in self.tables:
            if caption:
                parts.append(f"<h4>{html.escape(caption)}</h4>")
            parts.append(_formatted(df, self.digits).to_html(index=self.index, classes="regstats-table",
                                                             border=0, escape=True))
        if self.notes:
            parts.append("<ul class=\"regstats-notes\">" + "".join(
                f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        parts.append("</div>")
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_markdown(self) -> str:
        lines = [f"### {_md_text(self.title)}", ""]
        if self.info:
            lines += ["| | |", "|---|---|"]
            lines += [f"| {_md_escape(str(k))} | {_md_escape(str(v))} |" for k, v in self.info]
            lines.append("")
        for caption, df in self.tables:
            if caption:
                lines += [f"**{_md_text(caption)}**", ""]
            lines.append(markdown_table(_formatted(df, self.digits), index=self.index))
            lines.append("")
        lines += [f"*Note: {_md_text(n)}*" for n in self.notes]
        return "\n".join(lines).rstrip() + "\n"

    def to_latex(self) -> str:
        out = [f"% {' '.join(str(self.title).split())}"]
        for caption, df in self.tables:
            f = _formatted(df, self.digits)
            cols = ([str(f.index.name or "")] if self.index else []) + [str(c) for c in f.columns]
            out.append("\\begin{tabular}{" + "l" * len(cols) + "}")
            out.append("\\hline")
            out.append(" & ".join(_tex(c) for c in cols) + " \\\\")
            out.append("\\hline")
            for idx, row in f.iterrows():
                cells = ([str(idx)] if self.index else []) + [str(x) for x in row.tolist()]
                out.append(" & ".join(_tex(c) for c in cells) + " \\\\")
            out.append("\\hline")
            out.append("\\end{tabular}")
        return "\n".join(out) + "\n"


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _md_text(s: str) -> str:
    """Markdown text with no markup: HTML characters as entities; ``\\``, ``*``, backticks and a
    link's ``](`` escaped (a term's ``[T.level]`` stays readable)."""
    s = re.sub(r"[&<>]", lambda m: _HTML[m.group(0)], " ".join(str(s).splitlines()))
    return re.sub(r"([\\*`]|\](?=\())", r"\\\1", s)


def _md_escape(s: str) -> str:
    """A Markdown table cell: as :func:`_md_text`, and ``|`` escaped so it does not split the cell."""
    return _md_text(s).replace("|", "\\|")


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
        "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}"}


def _tex(s: str) -> str:
    """LaTeX text: every special character replaced in one pass (so ``\\`` and ``{`` do not interfere)."""
    return re.sub(r"[\\&%$#_{}~^<>|]", lambda m: _TEX[m.group(0)], " ".join(str(s).splitlines()))


def markdown_table(df: pd.DataFrame, index: bool = True) -> str:
    """A GitHub-flavoured Markdown table of a DataFrame's cells (as strings)."""
    cols = ([str(df.index.name or "")] if index else []) + [str(c) for c in df.columns]
    rows = []
    for idx, row in zip(df.index, df.itertuples(index=False)):
        cells = ([str(idx)] if index else []) + [_fmt(x) for x in row]
        rows.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
    head = "| " + " | ".join(_md_escape(c) for c in cols) + " |"
    sep = "|" + "|".join("---" for _ in cols) + "|"
    return "\n".join([head, sep, *rows])
