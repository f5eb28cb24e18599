"""Render a :class:`~regstats.report.document.Report` as one self-contained HTML page.

No network access, no scripts: the stylesheet is inline and figures are base64 PNGs.
"""
from __future__ import annotations

import base64
import html
import re
from typing import Any

import pandas as pd

from ._format import formatted
from .blocks import Code, Figure, Info, Row, Table, Text

__all__ = ["render_html", "table_html"]

CSS = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg-alt: #f6f8fa; --accent: #0b5cad;
        --min: #fdecea; --se: #e8f0fe; }
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; color: var(--fg); background: #fff; line-height: 1.5;
       font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2rem 1.6rem 3rem; }
header { border-bottom: 1px solid var(--line); margin-bottom: 1rem; }
h1 { font-size: 1.6rem; margin: 0.3rem 0 0.2rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 0.6rem; padding-bottom: 0.25rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.02rem; margin: 1.2rem 0 0.4rem; }
p { margin: 0.4rem 0 0.7rem; max-width: 60rem; }
.meta { color: var(--muted); font-size: 0.9rem; margin: 0 0 0.6rem; }
nav { font-size: 0.9rem; margin: 0.4rem 0 0.8rem; display: flex; flex-wrap: wrap; gap: 0.1rem 1rem; }
nav a { color: var(--accent); text-decoration: none; white-space: nowrap; }
nav a:hover { text-decoration: underline; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.88em;
       background: var(--bg-alt); padding: 0.05rem 0.3rem; border-radius: 4px; }
pre { background: var(--bg-alt); border: 1px solid var(--line); border-radius: 6px; padding: 0.7rem 0.9rem;
      overflow-x: auto; font-size: 0.86rem; line-height: 1.45; }
pre code { background: none; padding: 0; }
.note { color: var(--muted); font-size: 0.9rem; }
.warning { background: #fff8e1; border-left: 4px solid #e0a800; padding: 0.45rem 0.8rem; }
.skipped { background: var(--bg-alt); border-left: 4px solid #8c959f; padding: 0.45rem 0.8rem; color: var(--muted); }
.table-wrap { overflow-x: auto; margin: 0.3rem 0 1rem; }
.table-wrap.scroll { max-height: 30rem; overflow-y: auto; display: inline-block; max-width: 100%; }
.table-wrap.scroll thead th { position: sticky; top: 0; z-index: 1; }
table { border-collapse: collapse; font-size: 0.86rem; font-variant-numeric: tabular-nums; }
caption { caption-side: top; text-align: left; font-weight: 600; padding: 0.2rem 0 0.35rem; font-size: 0.92rem; }
th, td { padding: 0.22rem 0.5rem; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
th { background: var(--bg-alt); font-weight: 600; }
thead tr.group th { text-align: center; border-bottom: 1px solid #afb8c1; }
td.num, th.num { text-align: right; }
tbody tr:nth-child(even) td { background: #fbfcfd; }
tbody tr.min td { background: var(--min); }
tbody tr.se1 td { background: var(--se); }
tbody tr.best td { background: #e6f4ea; }
tbody tr.dim td { color: #8c959f; }
table.info th { background: none; color: var(--muted); font-weight: 500; padding-left: 0; }
table.info td { white-space: normal; overflow-wrap: anywhere; }
.tnote { color: var(--muted); font-size: 0.82rem; margin-top: 0.25rem; }
.figs { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 1rem 1.4rem; margin: 0.5rem 0 1rem; }
figure { margin: 0; }
.row { display: grid; grid-template-columns: repeat(auto-fit, minmax(440px, 1fr)); gap: 1rem 1.6rem; align-items: start; margin: 0.5rem 0 1rem; }
.row > div { min-width: 0; }
figure img { width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 0.85rem; margin-top: 0.2rem; }
.legend span { display: inline-block; padding: 0 0.4rem; margin-right: 0.4rem; border-radius: 3px; font-size: 0.82rem; }
footer { margin-top: 2.5rem; color: var(--muted); font-size: 0.82rem; border-top: 1px solid var(--line); padding-top: 0.6rem; }
@media print { .figs { grid-template-columns: 1fr 1fr; } main { max-width: none; } }
"""

_ROW_CLASS = {"min": "min", "1se": "se1", "dim": "dim", "best": "best"}


def _inline(text: str) -> str:
    """Escape text; `backticks` become <code>."""
    parts = re.split(r"`([^`]*)`", text)
    out = []
    for i, p in enumerate(parts):
        out.append(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p))
    return "".join(out)


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def table_html(block: Table) -> str:
    """A table block as an HTML ``<table>`` (two header rows when the columns are a 2-level MultiIndex)."""
    df = block.frame
    cells = formatted(df, block.digits)
    numeric = [_is_numeric(df.iloc[:, j]) for j in range(df.shape[1])]
    out = ['<div class="table-wrap scroll"><table>' if block.scroll else '<div class="table-wrap"><table>']
    if block.caption:
        out.append(f"<caption>{_inline(block.caption)}</caption>")
    out.append("<thead>")
    idx_head = [html.escape(str(df.index.name or ""))] if block.index else []
    if isinstance(df.columns, pd.MultiIndex) and df.columns.nlevels == 2:
        groups: list[tuple[str, int]] = []
        for top, _ in df.columns:
            if groups and groups[-1][0] == top:
                groups[-1] = (top, groups[-1][1] + 1)
            else:
                groups.append((top, 1))
        row = ['<tr class="group">'] + ["<th></th>" for _ in idx_head]
        row += [f'<th colspan="{n}">{_inline(str(g))}</th>' for g, n in groups]
        out.append("".join(row) + "</tr>")
        names = [str(b) for _, b in df.columns]
    else:
        names = [str(c) for c in df.columns]
    row = ["<tr>"] + [f"<th>{h}</th>" for h in idx_head]
    row += [f'<th class="num">{_inline(n)}</th>' if num else f"<th>{_inline(n)}</th>"
            for n, num in zip(names, numeric)]
    out.append("".join(row) + "</tr></thead><tbody>")
    for i in range(len(cells)):
        cls = _ROW_CLASS.get(block.highlight.get(i, ""), "")
        tr = f'<tr class="{cls}">' if cls else "<tr>"
        tds = [f"<th>{html.escape(str(cells.index[i]))}</th>"] if block.index else []
        for j in range(cells.shape[1]):
            v = html.escape(str(cells.iat[i, j]))
            tds.append(f'<td class="num">{v}</td>' if numeric[j] else f"<td>{v}</td>")
        out.append(tr + "".join(tds) + "</tr>")
    out.append("</tbody></table>")
    if block.note:
        out.append(f'<div class="tnote">{_inline(block.note)}</div>')
    out.append("</div>")
    return "".join(out)


def _figure_html(fig: Figure) -> str:
    data = base64.b64encode(fig.png).decode("ascii")
    alt = html.escape(fig.alt or fig.caption)
    return (f'<figure id="fig-{html.escape(fig.name)}"><img src="data:image/png;base64,{data}" alt="{alt}">'
            f"<figcaption>{_inline(fig.caption)}</figcaption></figure>")


def _block_html(block: Any) -> str:
    if isinstance(block, Text):
        cls = {"p": "", "note": "note", "warning": "warning", "skipped": "skipped"}.get(block.kind, "")
        return f'<p class="{cls}">{_inline(block.text)}</p>' if cls else f"<p>{_inline(block.text)}</p>"
    if isinstance(block, Info):
        rows = "".join(f"<tr><th>{_inline(k)}</th><td>{_inline(str(v))}</td></tr>" for k, v in block.items)
        return f'<div class="table-wrap"><table class="info"><tbody>{rows}</tbody></table></div>'
    if isinstance(block, Table):
        return table_html(block)
    if isinstance(block, Code):
        cap = f"<h3>{_inline(block.caption)}</h3>" if block.caption else ""
        return f"{cap}<pre><code>{html.escape(block.code)}</code></pre>"
    if isinstance(block, Figure):
        return _figure_html(block)
    if isinstance(block, (list, tuple)):
        return "".join(_block_html(b) for b in block)
    if isinstance(block, Row):
        return '<div class="row">' + "".join(f"<div>{_block_html(b)}</div>" for b in block.blocks) + "</div>"
    raise TypeError(f"unknown report block {type(block).__name__}")


def _section_html(section: Any) -> str:
    parts = [f'<section id="{html.escape(section.id)}"><h2>{_inline(section.title)}</h2>']
    blocks = list(section.blocks)
    i = 0
    while i < len(blocks):
        if isinstance(blocks[i], Figure):
            j = i
            while j < len(blocks) and isinstance(blocks[j], Figure):
                j += 1
            parts.append('<div class="figs">' + "".join(_figure_html(f) for f in blocks[i:j]) + "</div>")
            i = j
        else:
            parts.append(_block_html(blocks[i]))
            i += 1
    parts.append("</section>")
    return "\n".join(parts)


def render_html(report: Any, standalone: bool = True) -> str:
    """The :class:`~regstats.report.document.Report` as HTML: a full page (``standalone``) or a fragment for notebooks."""
    nav = "".join(f'<a href="#{html.escape(s.id)}">{_inline(s.title)}</a>' for s in report.sections)
    meta = " · ".join(_inline(f"{k}: {v}") for k, v in report.meta.items())
    body = [f"<header><h1>{_inline(report.title)}</h1>",
            f'<p class="meta">{meta}</p>' if meta else "",
            f"<nav>{nav}</nav></header>"]
    body += [_section_html(s) for s in report.sections]
    body.append('<footer>Generated by regstats. Self-contained page: figures are embedded, nothing is '
                "loaded from the network.</footer>")
    content = "\n".join(body)
    if not standalone:
        return f'<div class="regstats-report"><style>{_scoped(CSS)}</style><main>{content}</main></div>'
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(report.title)}</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n<main>\n{content}\n</main>\n</body>\n</html>\n")


def _scoped(css: str) -> str:
    """Prefix rules with ``.regstats-report`` so a notebook's own styles are not touched."""
    out = []
    for rule in css.split("}"):
        if "{" not in rule:
            continue
        sel, body = rule.split("{", 1)
        sel = sel.strip()
        if sel.startswith("@media"):
            continue
        if sel == ":root" or sel == "html" or sel == "body" or sel == "*":
            sel = ".regstats-report"
        else:
            sel = ", ".join(f".regstats-report {s.strip()}" for s in sel.split(","))
        out.append(f"{sel} {{{body}}}")
    return "\n".join(out)
