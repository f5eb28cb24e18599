"""Render a :class:`~regstats.report.document.Report` as GitHub-flavoured Markdown."""
from __future__ import annotations

import base64
import re
from pathlib import Path as FilePath
from typing import Any

import pandas as pd

from ._format import formatted
from .blocks import Code, Figure, Info, Row, Table, Text

__all__ = ["render_markdown", "table_markdown"]

_MARK = {"min": " ◀ lambda_min", "1se": " ◀ lambda_1se", "best": " ◀ smallest risk"}


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def _plain(s: object) -> str:
    """Text with no markup: HTML-significant characters as entities, so a column named
    ``<script>`` is shown, not run, by a Markdown viewer."""
    return re.sub(r"[&<>]", lambda m: _HTML[m.group(0)], str(s))


def _code_span(s: str) -> str:
    """``s`` as a code span that survives backticks inside it (CommonMark's rule)."""
    ticks = max((len(t) for t in re.findall(r"`+", s)), default=0)
    fence = "`" * (ticks + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{fence}{pad}{s}{pad}{fence}"


def _inline(text: object) -> str:
    """Report text (``code`` in backticks is the only markup) as Markdown: code spans kept, everything
    else escaped: HTML characters as entities; ``*``, ``\\``, a link's ``](`` and a leading ``#`` with a
    backslash (``_`` is left alone: GitHub does not emphasise inside words)."""
    parts = re.split(r"`([^`]*)`", str(text))
    out = []
    for i, p in enumerate(parts):
        if i % 2:
            out.append(_code_span(p))
        else:
            out.append(re.sub(r"([\\*]|\](?=\())", r"\\\1", _plain(p)).replace("\n", " "))
    text = "".join(out)
    return "\\" + text if text[:1] in "#>+-=" and text[:1] else text


def _cell(s: object) -> str:
    """A table cell: plain text, ``|`` escaped so it does not split the cell."""
    return re.sub(r"([\\|*`]|\](?=\())", r"\\\1", _plain(s)).replace("\n", " ")


def _fence(code: str) -> str:
    ticks = max((len(t) for t in re.findall(r"`{3,}", code)), default=2)
    return "`" * (ticks + 1)


def table_markdown(block: Table) -> str:
    """A table block as a Markdown pipe table.

    Two-level columns become their second-level names, with the groups listed above the table
    (joined as ``group: name`` when the names repeat).
    """
    df = block.frame
    cells = formatted(df, block.digits)
    groups_line = ""
    if isinstance(df.columns, pd.MultiIndex):
        subs = [str(c[-1]) for c in df.columns]
        if len(set(subs)) == len(subs):          # short headers, the groups listed above the table
            names = subs
            groups: dict[str, list[str]] = {}
            for c in df.columns:
                if str(c[0]):
                    groups.setdefault(str(c[0]), []).append(str(c[-1]))
            groups_line = "Column groups: " + " · ".join(f"**{_inline(g)}**: {', '.join(_inline(x) for x in v)}"
                                                         for g, v in groups.items())
        else:
            names = [": ".join(str(x) for x in c if str(x)) for c in df.columns]
    else:
        names = [str(c) for c in df.columns]
    numeric = [pd.api.types.is_numeric_dtype(df.iloc[:, j].dtype)
               and not pd.api.types.is_bool_dtype(df.iloc[:, j].dtype) for j in range(df.shape[1])]
    head = ([str(df.index.name or "")] if block.index else []) + names
    align = (["---"] if block.index else []) + ["---:" if n else "---" for n in numeric]
    lines = []
    if block.caption:
        lines += [f"**{_inline(block.caption)}**", ""]
    if groups_line:
        lines += [groups_line, ""]
    lines.append("| " + " | ".join(_cell(h) for h in head) + " |")
    lines.append("|" + "|".join(align) + "|")
    for i in range(len(cells)):
        row = ([str(cells.index[i])] if block.index else []) + [str(v) for v in cells.iloc[i].tolist()]
        mark = _MARK.get(block.highlight.get(i, ""), "")
        if mark:
            row[-1] = row[-1] + mark
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    if block.note:
        lines += ["", f"*{_inline(block.note)}*"]
    return "\n".join(lines)


def _cell_inline(s: object) -> str:
    """A table cell that may hold ``code`` markup."""
    return _inline(s).replace("|", "\\|")


def _anchor(s: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", str(s))


def _figure_md(fig: Figure, image_dir: FilePath | None, prefix: str) -> str:
    alt = _plain(fig.alt or fig.caption).replace("]", ")").replace("[", "(").replace("\n", " ")
    if image_dir is None:
        src = "data:image/png;base64," + base64.b64encode(fig.png).decode("ascii")
    else:
        image_dir.mkdir(parents=True, exist_ok=True)
        (image_dir / f"{fig.name}.png").write_bytes(fig.png)
        src = f"{prefix}{fig.name}.png"
    return f"![{alt}]({src})\n\n*{_inline(fig.caption)}*"


def _block_md(block: Any, image_dir: FilePath | None, prefix: str) -> str:
    if isinstance(block, Text):
        if block.kind in ("note",):
            return f"*{_inline(block.text)}*"
        if block.kind in ("warning", "skipped"):
            return f"> {_inline(block.text)}"
        return _inline(block.text)
    if isinstance(block, Info):
        rows = ["| | |", "|---|---|"] + [f"| **{_cell_inline(k)}** | {_cell_inline(v)} |" for k, v in block.items]
        return "\n".join(rows)
    if isinstance(block, Table):
        return table_markdown(block)
    if isinstance(block, Code):
        cap = f"**{_inline(block.caption)}**\n\n" if block.caption else ""
        fence = _fence(block.code)
        return f"{cap}{fence}{block.language}\n{block.code.rstrip()}\n{fence}"
    if isinstance(block, Figure):
        return _figure_md(block, image_dir, prefix)
    if isinstance(block, (list, tuple)):
        return "\n\n".join(_block_md(b, image_dir, prefix) for b in block)
    if isinstance(block, Row):
        return "\n\n".join(_block_md(b, image_dir, prefix) for b in block.blocks)
    raise TypeError(f"unknown report block {type(block).__name__}")


def render_markdown(report: Any, image_dir: str | FilePath | None = None, image_prefix: str = "") -> str:
    """The :class:`~regstats.report.document.Report` as Markdown; figures go to ``image_dir`` as PNG files (None: inline data URIs)."""
    img = FilePath(image_dir) if image_dir is not None else None
    lines = [f"# {_inline(report.title)}", ""]
    if report.meta:
        lines += [" · ".join(f"{_inline(k)}: {_inline(v)}" for k, v in report.meta.items()), ""]
    lines += ["Contents: " + " · ".join(f"[{_inline(s.title)}](#{_anchor(s.id)})" for s in report.sections), ""]
    for s in report.sections:
        lines += [f'<a id="{_anchor(s.id)}"></a>', "", f"## {_inline(s.title)}", ""]
        for b in s.blocks:
            lines += [_block_md(b, img, image_prefix), ""]
    return "\n".join(lines).rstrip() + "\n"
