"""The vendor date notation the subsystem files use (`format: yyyy-MM-dd HH:mm:ss`, `yyyyMMdd`,
`iso`, `epoch_ms`), and everything that reads or writes a value in it.

`TOKENS` is the one table of the notation: landing validation and window parameters (Python),
the Soda contracts (PostgreSQL patterns) and the dbt field macros (generated into
`dbt_project/macros/date_formats.sql` by `./run sync`) all derive from it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from include import settings

TZ = ZoneInfo(settings.TIMEZONE)

# vendor token → (strftime directive, PostgreSQL to_char/to_timestamp pattern, what it matches)
TOKENS = {
    "yyyy": ("%Y", "YYYY", r"\d{4}"),
    "MM": ("%m", "MM", r"\d{2}"),
    "dd": ("%d", "DD", r"\d{2}"),
    "HH": ("%H", "HH24", r"(?:[01]\d|2[0-3])"),
    "mm": ("%M", "MI", r"[0-5]\d"),
    "ss": ("%S", "SS", r"[0-5]\d"),
}
REGEX_SPECIALS = "\\.^$*+?()[]{}|"  # escaped with a backslash between tokens, in Python and dbt
SPECIAL_FORMATS = ("iso", "epoch_ms")  # ISO 8601 with or without offset; epoch milliseconds
_TOKEN = re.compile("|".join(TOKENS))
_CALENDAR = ("yyyy", "MM", "dd")
# Formats whose text sorts in time order (the tokens from yyyy down, one optional separator
# between them): landing finds a page's latest cursor value by comparing strings.
_LEXICAL = re.compile(r"yyyy(\W?MM(\W?dd(\W?HH(\W?mm(\W?ss)?)?)?)?)?")


def is_date_format(fmt: str) -> bool:
    """True for `iso`, `epoch_ms` and a pattern of the tokens with separators (and a `T`)."""
    if fmt in SPECIAL_FORMATS:
        return True
    rest = _TOKEN.sub("", fmt)
    return "yyyy" in fmt and not re.search(r"[A-Za-z]", rest.replace("T", ""))


def is_lexical(fmt: str) -> bool:
    """True when values in `fmt` sort as text in the order of time."""
    return bool(_LEXICAL.fullmatch(fmt))


def strftime_pattern(fmt: str) -> str:
    """`yyyy-MM-dd HH:mm:ss` → `%Y-%m-%d %H:%M:%S`."""
    return _TOKEN.sub(lambda m: TOKENS[m.group(0)][0], fmt)


def pg_pattern(fmt: str) -> str:
    """`yyyy-MM-dd HH:mm:ss` → `YYYY-MM-DD HH24:MI:SS` (letters between tokens quoted)."""
    out, last = "", 0
    for m in _TOKEN.finditer(fmt):
        out += _pg_literal(fmt[last : m.start()]) + TOKENS[m.group(0)][1]
        last = m.end()
    return out + _pg_literal(fmt[last:])


def _pg_literal(text: str) -> str:
    return "".join(f'"{ch}"' if ch.isalpha() else ch for ch in text)


def regex(fmt: str, capture_calendar: bool = False) -> str:
    """The regular expression (Python and PostgreSQL alike) of a value in a fixed format."""
    out, last = "", 0
    for m in _TOKEN.finditer(fmt):
        piece = TOKENS[m.group(0)][2]
        if capture_calendar and m.group(0) in _CALENDAR:
            piece = f"({piece})"
        out += _escape(fmt[last : m.start()]) + piece
        last = m.end()
    return out + _escape(fmt[last:])


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in REGEX_SPECIALS else ch for ch in text)


def date_parser(fmt: str) -> Callable[[Any], datetime]:
    """A strict parser for one vendor date format; raises ValueError on anything impossible.

    Fixed-width formats are parsed by slicing (about ten times faster than strptime, which
    matters at a million card transactions); naive values are Asia/Shanghai.
    """
    if fmt == "epoch_ms":

        def parse_ms(value: Any) -> datetime:
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                raise ValueError(value)
            return datetime.fromtimestamp(int(value) / 1000, UTC).astimezone(TZ)

        return parse_ms
    if fmt == "iso":

        def parse_iso(value: Any) -> datetime:
            if not isinstance(value, str) or len(value) < 10 or value[4] != "-":
                raise ValueError(value)
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)

        return parse_iso
    spans = {m.group(0): (m.start(), m.end()) for m in _TOKEN.finditer(fmt)}
    literals = [(i, c) for i, c in enumerate(fmt) if not any(a <= i < b for a, b in spans.values())]
    width = len(fmt)
    order = [spans.get(t) for t in TOKENS]

    def parse_fixed(value: Any) -> datetime:
        if not isinstance(value, str) or len(value) != width or not value.isascii():
            raise ValueError(value)
        for i, c in literals:
            if value[i] != c:
                raise ValueError(value)
        parts = []
        for span in order:
            if span is None:
                parts.append(1 if len(parts) < 3 else 0)
                continue
            piece = value[span[0] : span[1]]
            if not piece.isdigit():
                raise ValueError(value)
            parts.append(int(piece))
        return datetime(*parts, tzinfo=TZ)

    return parse_fixed


def date_checker(fmt: str) -> Callable[[Any], bool]:
    """True when `value` is a real date-time in `fmt`; the fast path of validation.

    Fixed-width formats are matched by one regular expression (hours, minutes, seconds in
    range) and the calendar date is looked up in a small cache: a million card transactions
    share a few hundred dates.
    """
    if fmt in SPECIAL_FORMATS:
        parse = date_parser(fmt)

        def check_parse(value: Any) -> bool:
            try:
                parse(value)
            except (ValueError, TypeError, OverflowError, OSError):
                return False
            return True

        return check_parse
    rx = re.compile(regex(fmt, capture_calendar=True), re.ASCII)
    order = [m.group(0) for m in _TOKEN.finditer(fmt) if m.group(0) in _CALENDAR]
    where = [order.index(t) if t in order else None for t in _CALENDAR]
    known: dict[tuple, bool] = {}

    def check_fixed(value: Any) -> bool:
        if type(value) is not str:
            return False
        m = rx.fullmatch(value)
        if m is None:
            return False
        found = m.groups()
        ok = known.get(found)
        if ok is None:
            y, mo, d = (1 if i is None else int(found[i]) for i in where)
            try:
                datetime(y, mo, d)
                ok = True
            except ValueError:
                ok = False
            known[found] = ok
        return ok

    return check_fixed


def format_date(value: datetime, fmt: str) -> str | int:
    """A window bound written the way a request parameter wants it."""
    local = value.astimezone(TZ)
    if fmt == "epoch_ms":
        return int(value.timestamp() * 1000)
    if fmt == "iso":
        return local.isoformat(timespec="seconds")
    return local.strftime(strftime_pattern(fmt))


# -- dbt ---------------------------------------------------------------------------------------

DBT_MACROS = "date_formats.sql"


def dbt_macros() -> str:
    """`dbt_project/macros/date_formats.sql`: the token table for the dbt field macros."""
    rows = ",\n".join(
        f'        ["{token}", "{pg}", "{rx.replace(chr(92), chr(92) * 2)}"]'
        for token, (_, pg, rx) in TOKENS.items()
    )
    return (
        "{#- 由 include/rules/dates.py 的 TOKENS 生成，请勿手改：改那张表后运行\n"
        "    `./run sync`。Generated from include/rules/dates.py (TOKENS) by ./run sync.\n"
        "    Each row: vendor token, PostgreSQL pattern, regular expression. -#}\n"
        "{% macro date_tokens() -%}\n"
        "    {{ return([\n"
        f"{rows}\n"
        "    ]) }}\n"
        "{%- endmacro %}\n\n"
        "{% macro date_regex_specials() -%}\n"
        f"    {{{{ return('{REGEX_SPECIALS.replace(chr(92), chr(92) * 2)}') }}}}\n"
        "{%- endmacro %}\n"
    )
