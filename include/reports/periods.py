"""Report periods: a month (2026-09), a term (2026-2027-1) or an academic year (2026-2027).

Terms and academic years come from the college calendar (`marts.dim_calendar`, built from the
academic_terms seed), so a changed calendar needs no code change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import psycopg

TZ = ZoneInfo("Asia/Shanghai")
KINDS = {"month": "月", "term": "学期", "year": "学年"}


class PeriodError(ValueError):
    """A period that does not exist; the message says which and how to write one."""


@dataclass(frozen=True)
class Period:
    kind: str  # month / term / year
    id: str
    start: date
    end: date  # exclusive
    label: str
    academic_year: str
    term_id: str | None  # the term the period lies in (a year: its last term begun)
    previous_id: str | None

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), TZ)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time(), TZ)

    def control_point_period(self, period_type: str) -> str | None:
        """The period_id of `marts.fct_control_point_values` this report reads for a point."""
        if period_type == "academic_year":
            return self.academic_year
        if period_type == "term":
            return self.term_id
        if period_type == "month":
            return self.id if self.kind == "month" else None
        return None


TERM_SQL = """
select term_id, min(academic_year), min(term_name_zh), min(calendar_date), max(calendar_date)
from marts.dim_calendar where {where} group by term_id order by min(calendar_date)
"""


def _terms(conn: psycopg.Connection, where: str, params: dict) -> list[tuple]:
    return conn.execute(TERM_SQL.format(where=where), params).fetchall()


def resolve(conn: psycopg.Connection, kind: str, period_id: str) -> Period:
    """The period `period_id` of `kind`, or a one-line PeriodError saying how to write it."""
    if kind == "month":
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", period_id):
            raise PeriodError(f"周期 {period_id!r} 不是月份：请写成 YYYY-MM，如 2026-09")
        y, m = map(int, period_id.split("-"))
        start = date(y, m, 1)
        end = date(y + (m == 12), m % 12 + 1, 1)
        terms = _terms(conn, "calendar_date = %(d)s", {"d": start})
        if not terms:
            raise PeriodError(f"月份 {period_id} 不在校历（marts.dim_calendar）中")
        prev = f"{y - (m == 1)}-{(m - 2) % 12 + 1:02d}"
        term_id, year = terms[0][0], terms[0][1]
        return Period(kind, period_id, start, end, f"{y}年{m}月", year, term_id, prev)
    if kind == "term":
        terms = _terms(conn, "term_id = %(t)s", {"t": period_id})
        if not terms:
            raise PeriodError(f"学期 {period_id!r} 不在校历中：请写成 2026-2027-1 这样的学期代码")
        term_id, year, name, first, last = terms[0]
        before = _terms(conn, "calendar_date < %(d)s", {"d": first})
        prev = before[-1][0] if before else None
        return Period(kind, term_id, first, _next(last), name, year, term_id, prev)
    if kind == "year":
        terms = _terms(conn, "academic_year = %(y)s", {"y": period_id})
        if not terms:
            raise PeriodError(f"学年 {period_id!r} 不在校历中：请写成 2026-2027 这样的学年")
        y = int(period_id[:4])
        first, last = terms[0][3], terms[-1][4]
        today = datetime.now(TZ).date()
        begun = [t for t in terms if t[3] <= today] or terms[:1]
        label = f"{period_id}学年"
        return Period(
            kind, period_id, first, _next(last), label, period_id, begun[-1][0], f"{y - 1}-{y}"
        )
    raise PeriodError(f"周期类型 {kind!r} 不存在：可选 month（月）、term（学期）、year（学年）")


def _next(day: date) -> date:
    from datetime import timedelta

    return day + timedelta(days=1)


def closed_before(conn: psycopg.Connection, kind: str, moment: datetime) -> Period:
    """The latest period of `kind` that ended on or before `moment` (for scheduled runs)."""
    day = moment.astimezone(TZ).date()
    if kind == "month":
        prev = date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)
        return resolve(conn, "month", f"{prev:%Y-%m}")
    column = "term_id" if kind == "term" else "academic_year"
    row = conn.execute(
        f"select {column} from marts.dim_calendar group by {column} "
        "having max(calendar_date) < %(d)s order by max(calendar_date) desc limit 1",
        {"d": day},
    ).fetchone()
    if not row:
        raise PeriodError(f"{moment:%Y-%m-%d} 之前没有已结束的{KINDS[kind]}")
    return resolve(conn, kind, row[0])


def containing(conn: psycopg.Connection, kind: str, day: date) -> Period:
    """The period of `kind` that `day` lies in (the demo reports the sandbox's own term)."""
    if kind == "month":
        return resolve(conn, "month", f"{day:%Y-%m}")
    column = "term_id" if kind == "term" else "academic_year"
    row = conn.execute(
        f"select {column} from marts.dim_calendar where calendar_date = %(d)s", {"d": day}
    ).fetchone()
    if not row:
        raise PeriodError(f"{day:%Y-%m-%d} 不在校历（marts.dim_calendar）中")
    return resolve(conn, kind, row[0])
