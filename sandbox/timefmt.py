"""Time formats the subsystems use, all in Asia/Shanghai (a fixed UTC+8: no DST since 1991).

Internally every instant is an integer of epoch seconds.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
OFFSET = 8 * 3600

DATETIME = "yyyy-MM-dd HH:mm:ss"
ISO_OFFSET = "yyyy-MM-ddTHH:mm:ss+08:00"
ISO_LOCAL = "yyyy-MM-ddTHH:mm:ss"
COMPACT = "YYYYMMDDHHMMSS"
EPOCH_MS = "epoch_ms"
DATE_MS = "epoch_ms (00:00 local of the date)"

DAY = 86400


def day_start(d: dt.date) -> int:
    """Epoch seconds of local midnight starting date ``d``."""
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp()) - OFFSET


def to_date(ts: int) -> dt.date:
    return dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + (ts + OFFSET) // DAY)


def _t(ts: int) -> time.struct_time:
    return time.gmtime(ts + OFFSET)


def fmt_datetime(ts: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", _t(ts))


def fmt_iso_offset(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", _t(ts))


def fmt_iso_local(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", _t(ts))


def fmt_compact(ts: int) -> str:
    return time.strftime("%Y%m%d%H%M%S", _t(ts))


def fmt_date(ts: int) -> str:
    return time.strftime("%Y-%m-%d", _t(ts))


FORMATTERS = {
    DATETIME: fmt_datetime,
    ISO_OFFSET: fmt_iso_offset,
    ISO_LOCAL: fmt_iso_local,
    COMPACT: fmt_compact,
    EPOCH_MS: lambda ts: ts * 1000,
    DATE_MS: lambda ts: ts * 1000,
}


def parse(value: str | int | float | None, style: str) -> int | None:
    """Parse a window bound written in ``style``; ``None``/"" means unbounded.

    Raises ``ValueError`` on a malformed value so the caller can answer with the
    subsystem's own parameter error.
    """
    if value is None or value == "":
        return None
    if style in (EPOCH_MS, DATE_MS):
        return int(value) // 1000
    text = str(value).strip()
    if style == COMPACT:
        naive = dt.datetime.strptime(text, "%Y%m%d%H%M%S")
        return int(naive.replace(tzinfo=TZ).timestamp())
    return parse_iso(text)


def parse_iso(text: str) -> int:
    """ISO date or date-time; naive values are Asia/Shanghai."""
    value = dt.datetime.fromisoformat(text.replace(" ", "T") if len(text) > 10 else text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=TZ)
    return int(value.timestamp())


def bound(value: object) -> int | None:
    """A Python-API window bound: ``None``, epoch seconds, ISO string, date or datetime."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=TZ)).timestamp())
    if isinstance(value, dt.date):
        return day_start(value)
    if isinstance(value, int | float):
        return int(value)
    return parse_iso(str(value))
