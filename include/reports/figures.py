"""Figures with their trace: every number a report prints comes through `Tracer.measure`.

A figure knows the relation and SQL it was read from (with its parameters), the subsystems
behind it, the pulls involved (`landing.run_log`, up to the end of the period), the as-of time
of the newest of those pulls, the corrections involved (Annex 1 forms: for a figure over the
marts, the verified corrections laid over its subsystems' data by the report's cut-off; for a
count of correction forms, the forms counted, with filler, signers and verifier) and the
responsible departments and people (`marts.data_responsibility`). A figure missing any of
that is *refused*: it is kept out of the report and counted, and `Report.figure()` raises
`UntracedFigure` for it, so a template cannot print it.

每个印出的数字都经 `Tracer.measure` 取得并带溯源；无法溯源的数字不印出。
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import psycopg


class UntracedFigure(LookupError):
    """A figure without a complete trace was asked for; it must not be printed."""


@dataclass
class Figure:
    key: str
    label: str
    value: float | None
    unit: str
    source_relation: str
    query: str
    params: dict
    subsystems: list[str]
    as_of: datetime | None = None
    pull_ids: list[int] = field(default_factory=list)
    corrections: list[dict] = field(default_factory=list)
    responsible_departments: list[str] = field(default_factory=list)
    responsible_people: list[str] = field(default_factory=list)
    # responsibility of the subsystems' own data, whatever relation the figure is read from
    # (a count of a subsystem's correction forms answers to that subsystem's department)
    by_subsystem: bool = False

    def missing_trace(self) -> list[str]:
        """What the trace lacks (empty when the figure may be printed)."""
        missing = []
        if not self.source_relation or not self.query.strip():
            missing.append("来源与查询")
        if self.as_of is None:
            missing.append("数据截止时间")
        if not self.pull_ids:
            missing.append("采集批次")
        if not self.responsible_departments:
            missing.append("责任部门")
        return missing

    @property
    def traced(self) -> bool:
        return not self.missing_trace()

    def text(self, digits: int = 1) -> str:
        if self.value is None:
            return "—"
        v = float(self.value)
        shown = f"{v:,.0f}" if v == int(v) else f"{v:,.{digits}f}"
        tight = self.unit in ("", "%", "条", "个", "次", "项", "份", ":1")
        return f"{shown}{'' if tight else ' '}{self.unit}"


def _number(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal | int | float):
        return float(value)
    return None


# Pulls behind a figure: the successful pulls of its subsystems that finished before the end
# of the period (a warehouse build reads every version landed by then).
PULLS_SQL = """
select coalesce(array_agg(pull_id order by pull_id), '{}'), max(finished_at)
from landing.run_log
where subsystem = any(%(subsystems)s) and status = 'success' and finished_at < %(until)s
"""

# Responsible: the managing departments (归口管理部门) of the figure's subsystems, their heads
# and their quality administrators (the people Article 3 makes answer for the data).
RESPONSIBLE_SQL = """
select r.managing_departments, r.managing_department_heads, r.quality_administrators
from marts.data_responsibility as r
where r.subsystem_id = any(%(subsystems)s) and r.column_name is null
    and (%(table)s::text is null or r.table_name = %(table)s)
"""


# Corrections applied: the overlay (verified Annex 1 items, laid over staging) of the subsystems.
APPLIED_SQL = """
select form_no, subsystem, count(*), max(verified_at)
from corrections.overlay
where subsystem = any(%(subsystems)s) and verified_at < %(until)s
group by form_no, subsystem order by form_no
"""


def _responsible(rows: list[tuple]) -> tuple[list[str], list[str]]:
    departments: set[str] = set()
    people: set[str] = set()
    for managing, heads, administrators in rows:
        mine = {d for d in (managing or "").split("、") if d}
        departments |= mine
        for person in f"{heads or ''}、{administrators or ''}".split("、"):
            if person and person.split(" ", 1)[0] in mine:
                people.add(person)
    return sorted(departments), sorted(people)


class Tracer:
    """Reads figures from the warehouse and attaches their trace; keeps the refused ones."""

    def __init__(self, conn: psycopg.Connection, until: datetime):
        self.conn = conn
        self.until = until
        self.figures: dict[str, Figure] = {}
        self.refused: list[Figure] = []
        self._pulls: dict[tuple, tuple] = {}
        self._people: dict[tuple, tuple] = {}
        self._applied_forms: dict[tuple, list[dict]] = {}

    def _trace(self, fig: Figure) -> Figure:
        subs = tuple(sorted(set(fig.subsystems)))
        if subs not in self._pulls:
            row = self.conn.execute(PULLS_SQL, {"subsystems": list(subs), "until": self.until})
            self._pulls[subs] = row.fetchone()
        fig.pull_ids, fig.as_of = list(self._pulls[subs][0]), self._pulls[subs][1]
        table = (
            fig.source_relation.removeprefix("marts.")
            if fig.source_relation.startswith("marts.") and not fig.by_subsystem
            else None
        )
        key = (subs, table)
        if key not in self._people:
            params = {"subsystems": list(subs), "table": table}
            rows = self.conn.execute(RESPONSIBLE_SQL, params).fetchall()
            self._people[key] = _responsible(rows)
        fig.responsible_departments, fig.responsible_people = self._people[key]
        return fig

    def add(self, fig: Figure) -> Figure | None:
        """Trace `fig`; keep it when its trace is complete, refuse it otherwise."""
        self._trace(fig)
        if fig.traced:
            self.figures[fig.key] = fig
            return fig
        self.refused.append(fig)
        return None

    def measure(
        self,
        key: str,
        label: str,
        relation: str,
        query: str,
        params: dict,
        subsystems: list[str],
        unit: str = "",
        corrections: list[dict] | None = None,
        by_subsystem: bool = False,
    ) -> Figure | None:
        """Run `query` (one row, one column) and return the traced figure, or None if refused.
        `corrections`: the forms the figure counts (else, for a mart figure, the corrections
        applied to its subsystems' data)."""
        row = self.conn.execute(query, params).fetchone()
        value = _number(row[0]) if row else None
        fig = Figure(key, label, value, unit, relation, query.strip(), params, list(subsystems))
        fig.by_subsystem = by_subsystem
        if corrections is not None:
            fig.corrections = corrections
        elif relation.startswith("marts."):
            fig.corrections = self._applied(tuple(sorted(set(subsystems))))
        return self.add(fig)

    def _applied(self, subs: tuple) -> list[dict]:
        """Verified corrections laid over the subsystems' data by the cut-off (per form)."""
        if subs not in self._applied_forms:
            rows = self.conn.execute(APPLIED_SQL, {"subsystems": list(subs), "until": self.until})
            self._applied_forms[subs] = [
                {"form_no": f, "subsystem": s, "items": n, "verified_at": at.isoformat()}
                for f, s, n, at in rows.fetchall()
            ]
        return self._applied_forms[subs]

    def rows(self, query: str, params: dict) -> list[dict]:
        """Rows that only shape a report (which units, which periods); never printed as such."""
        cur = self.conn.execute(query, params)
        names = [c.name for c in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
