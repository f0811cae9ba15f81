"""How values from the subsystems are shown to people: one home for mails, forms and reports.

A subsystem may send anything in a text field: SQL, `<script>`, right-to-left overrides,
zero-width characters, 10,000 characters. The warehouse stores it exactly as received
(原始性); only what people *see* is made safe, here:

- **HTML** is escaped by Jinja's autoescape (`environment()`; every template but `*.txt.j2`),
  and every `{{ value }}` first passes `shown()` (the environment's `finalize`).
- **Invisible and direction-changing characters** (bidi overrides and isolates, zero-width
  characters, other control characters except newline and tab) are printed as a visible
  marker, e.g. 〈U+202E〉, so they cannot reorder or hide the text around them.
- **Long values** are cut for display at `LIMIT` characters with an ellipsis and a note
  saying how long the whole value is; storage keeps it whole.
- **Mail headers** (`header()`) are one line: no CR/LF can start a new header.
- **PDF text** (`pdf_text()`) also marks characters the embedded font has no glyph for
  (emoji, rare CJK Extension B characters) instead of printing nothing.

数据按原样存储；只在给人看时处理：HTML 转义，控制字符与方向字符显示为〈U+XXXX〉，
超长文本截断显示并注明全文长度，邮件标题保持单行。
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

LIMIT = 500  # characters of one value shown; longer values are cut for display only
HEADER_LIMIT = 200
KEPT = {"\n", "\t"}  # control characters that only break or indent a line
HIDDEN = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}  # control, format (bidi, zero-width), separators


def marker(ch: str) -> str:
    """〈U+202E〉: brackets the embedded CJK font has glyphs for (⟨⟩ it has not)."""
    return f"〈U+{ord(ch):04X}〉"


def visible(text: str) -> str:
    """`text` with every invisible or direction-changing character shown as its marker."""
    if text.isprintable():
        return text  # the common case, checked in C
    return "".join(
        marker(ch) if ch not in KEPT and unicodedata.category(ch) in HIDDEN else ch for ch in text
    )


def shorten(text: str, limit: int = LIMIT) -> str:
    """The first `limit` characters, an ellipsis and a note, when `text` is longer."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…〔全文共 {len(text):,} 字，此处只显示前 {limit} 字；完整内容见数据库〕"


def shown(text: str, limit: int = LIMIT) -> str:
    """A value as people see it: cut to `limit` characters, invisible characters marked."""
    return visible(shorten(text, limit))


def header(text: str, limit: int = HEADER_LIMIT) -> str:
    """A mail header value (subject, display name): one line, markers, at most `limit`."""
    return " ".join(shown(text, limit).split())


def _finalize(value):
    if isinstance(value, Markup):  # already-safe HTML (escaped joins, images): never cut
        return Markup(visible(str(value)))
    return shown(value) if isinstance(value, str) else value


def environment(folder: Path, **options) -> jinja2.Environment:
    """A template environment that escapes HTML and shows every value through `shown()`:
    autoescape is on for every template except plain-text ones (`*.txt.j2`)."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(folder),
        autoescape=lambda name: name is None or not name.endswith((".txt", ".txt.j2")),
        finalize=_finalize,
        **options,
    )


@cache
def _glyphs(font: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(font, fontNumber=0, lazy=True) as f:
        return frozenset(f.getBestCmap())


def pdf_text(text, font: Path, limit: int | None = LIMIT) -> str:
    """Text for a PDF cell: `shown()`, and characters `font` cannot draw as markers."""
    text = "" if text is None else str(text)
    text = visible(shorten(text, limit)) if limit else visible(text)
    glyphs = _glyphs(str(font))
    if all(ord(ch) in glyphs or ch in KEPT for ch in text):
        return text
    return "".join(ch if ord(ch) in glyphs or ch in KEPT else marker(ch) for ch in text)
