"""Compute the year-end assessment (Articles 14–16) from warehouse rows, per department and year.

Every indicator is one SQL query returning one row (numerator, denominator, row ids) over a
set of subsystems; the query, its parameters and the row ids are stored in `assessment.facts`,
so re-running the query reproduces the number. An indicator with nothing due or no data is
not judged: it scores nothing (not 0) and its weight goes to the criterion's other indicators
(to the other criteria when the whole criterion has none), which the notes say. Scores come
from the curves, weights and pass line in `rules.yml`; nothing about the scoring lives in code.

Scopes (layered responsibility, Article 14): `own` = the subsystems a department organises
(collects); `managed` = the subsystems it manages that other departments organise — their
facts are those organising departments' results for those subsystems; `department` = facts of
the department itself (its analysis reports; how fast its people answered correction steps
and review tasks). A department's criterion score is
(1 - managed_share) × own + managed_share × managed when it has both.

年终考核计算：每个指标一条 SQL（分子、分母、所涉行），存入 assessment.facts，可重跑复核。
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg
from psycopg.rows import dict_row

from include.assessment.rules import CRITERIA, Rules, load
from include.reports.periods import TZ, Period, resolve

# ---- the indicator queries: one row (numerator, denominator, row ids) --------------------------

PULLS_SQL = """
with due as (
    select unnest(%(subsystem_of)s::text[]) as subsystem,
        unnest(%(period_end)s::timestamptz[]) as period_end,
        unnest(%(deadline)s::timestamptz[]) as deadline
)
select count(*) filter (where hit.pull_id is not null), count(*),
    coalesce(array_agg(hit.pull_id::text order by hit.pull_id)
        filter (where hit.pull_id is not null), '{}')
from due
left join lateral (
    select r.pull_id from landing.run_log as r
    where r.subsystem = due.subsystem and r.status = 'success'
        and r.finished_at >= due.period_end and r.finished_at <= due.deadline
    order by r.finished_at limit 1
) as hit on true
"""
# Evidence: each period whose data was not in by its deadline, and the first pull after it.
PULLS_EVIDENCE_SQL = """
with due as (
    select unnest(%(subsystem_of)s::text[]) as subsystem,
        unnest(%(period_end)s::timestamptz[]) as period_end,
        unnest(%(deadline)s::timestamptz[]) as deadline
)
select due.subsystem, due.period_end, due.deadline, late.pull_id, late.finished_at
from due
left join lateral (
    select r.pull_id, r.finished_at from landing.run_log as r
    where r.subsystem = due.subsystem and r.status = 'success' and r.finished_at >= due.period_end
    order by r.finished_at limit 1
) as late on true
where late.pull_id is null or late.finished_at > due.deadline
order by due.subsystem, due.period_end
"""
REPORTS_SQL = """
with due as (
    select unnest(%(periods)s::text[]) as period_id, unnest(%(due)s::timestamptz[]) as due_at
)
select count(*) filter (where r.generated_at <= due.due_at), count(*),
    coalesce(array_agg(r.report_id::text order by r.report_id)
        filter (where r.report_id is not null), '{}')
from due
left join lateral (
    select report_id, generated_at from reports.reports
    where kind = 'department' and period_kind = 'month' and period_id = due.period_id
        and department = %(department)s
    order by generated_at limit 1
) as r on true
"""
REPORTS_EVIDENCE_SQL = (
    REPORTS_SQL.replace(
        "select count(*) filter (where r.generated_at <= due.due_at), count(*),\n"
        "    coalesce(array_agg(r.report_id::text order by r.report_id)\n"
        "        filter (where r.report_id is not null), '{}')",
        "select due.period_id, due.due_at, r.report_id, r.generated_at",
    )
    + "where r.report_id is null or r.generated_at > due.due_at order by due.period_id"
)
PASS_SQL = """
select count(*) filter (where outcome = 'passed'), count(*),
    coalesce(array_agg(result_id::text order by result_id), '{}')
from (
    select distinct on (dataset, check_key) result_id, outcome
    from quality.check_results
    where subsystem = any(%(subsystems)s) and principle = %(principle)s
        and outcome in ('passed', 'failed', 'warned')
        and verified_at >= %(start)s and verified_at < %(end)s
    order by dataset, check_key, verified_at desc
) as last_result
"""
LANDED_SQL = """(select coalesce(sum(fetched), 0) from landing.run_log
    where subsystem = any(%(subsystems)s) and status = 'success'
        and finished_at >= %(start)s and finished_at < %(end)s)"""
SUBMITTED_SQL = """
select count(*) filter (where status <> 'not_submitted'), count(*),
    coalesce(array_agg(pull_id::text order by pull_id) filter (where status = 'not_submitted'),
        '{}')
from landing.run_log
where subsystem = any(%(subsystems)s) and status in ('success', 'not_submitted')
    and started_at >= %(start)s and started_at < %(end)s
"""
SUBMITTED_EVIDENCE_SQL = """
select pull_id, subsystem, resource, started_at, error
from landing.run_log
where pull_id = any(%(ids)s::bigint[])
order by pull_id
"""
REJECTS_SQL = f"""
select count(*), {LANDED_SQL},
    coalesce(array_agg(reject_id::text order by reject_id), '{{}}')
from landing.rejects
where subsystem = any(%(subsystems)s) and received_at >= %(start)s and received_at < %(end)s
"""
IDENTITY_SQL = f"""
select count(*), {LANDED_SQL},
    coalesce(array_agg(subsystem_id || '/' || resource || '/' || source_key
        order by subsystem_id, resource, source_key), '{{}}')
from marts.identity_issues
where subsystem_id = any(%(subsystems)s)
"""
CORRECTIONS_SQL = f"""
select count(*), {LANDED_SQL}, coalesce(array_agg(i.item_id::text order by i.item_id), '{{}}')
from corrections.items as i
join corrections.requests as q on q.request_id = i.request_id
where i.subsystem = any(%(subsystems)s) and q.status <> 'refused'
    and q.submitted_at >= %(start)s and q.submitted_at < %(end)s
"""
WARNINGS_SQL = """
select
    count(*) filter (where coalesce({at}, 'infinity') <= opened_at + %(days)s * interval '1 day'),
    count(*), coalesce(array_agg(warning_id::text order by warning_id), '{{}}')
from quality.warnings
where subsystem = any(%(subsystems)s) and opened_at >= %(start)s
    and opened_at + %(days)s * interval '1 day' <= %(end)s
"""
WARNINGS_EVIDENCE_SQL = """
select warning_id, subsystem, title, severity, opened_at, due_at, acknowledged_at, resolved_at
from quality.warnings
where subsystem = any(%(subsystems)s) and opened_at >= %(start)s and opened_at < %(end)s
    and coalesce(resolved_at, 'infinity') > opened_at + %(days)s * interval '1 day'
order by subsystem, opened_at
"""

# (d) answer times. A correction approval step is asked when the step before it in the chain
# (Annex 1) finished: the heads (in parallel) when the request was submitted, the vice-president
# when the last head approved, 质管办 when the vice-president approved. Its answer is the
# step's own row (同意 / 不同意); a step nobody signed ends in an 'escalate' row (two timeouts),
# whose step is the one the request was waiting for. Waits are cut at the end of the window.
SIGN_STEPS = (
    "('organising_head', 'managing_head', 'department_heads', 'vice_president', 'quality_office')"
)
STEPS_WAITED = f"""
with asked as (
    select s.step_id, q.form_no, q.subsystem, q.reporting_department, s.step_kind,
        s.assignee_user, s.assignee_name, s.decision, s.at,
        case
            when s.step_kind in ('organising_head', 'managing_head', 'department_heads')
                then q.submitted_at
            when s.step_kind = 'vice_president' then heads.done_at
            when s.step_kind = 'quality_office' then vp.done_at
            else coalesce(vp.done_at, heads.done_at, q.submitted_at)
        end as asked_at
    from corrections.steps as s
    join corrections.requests as q on q.request_id = s.request_id
    left join lateral (
        select max(h.at) as done_at from corrections.steps as h
        where h.request_id = s.request_id and h.decision = 'approve' and h.at <= s.at
            and h.step_kind in ('organising_head', 'managing_head', 'department_heads')
        having bool_or(h.step_kind = 'department_heads') or count(distinct h.step_kind) = 2
    ) as heads on true
    left join lateral (
        select max(v.at) as done_at from corrections.steps as v
        where v.request_id = s.request_id and v.step_kind = 'vice_president'
            and v.decision = 'approve' and v.at <= s.at
    ) as vp on true
    where s.assignee_user = any(%(users)s)
        and (s.decision = 'escalate'
            or s.decision in ('approve', 'refuse') and s.step_kind in {SIGN_STEPS})
),
waited as (
    select *, case when decision <> 'escalate' and at <= %(end)s then at end as answered_at,
        round(extract(epoch from least(at, %(end)s) - asked_at) / 3600, 2) as hours
    from asked
    where asked_at >= %(start)s and asked_at < %(end)s
)
"""
STEPS_SQL = (
    STEPS_WAITED
    + "select coalesce(sum(hours), 0), count(*), "
    + "coalesce(array_agg(step_id::text order by step_id), '{}') from waited"
)
STEPS_EVIDENCE_SQL = (
    STEPS_WAITED
    + "select step_id, form_no, subsystem, reporting_department, step_kind, assignee_name, "
    + "decision, asked_at, answered_at, hours from waited order by hours desc, step_id"
)
# A department review task (corrections__review) is asked when it is opened and answered when
# its quality administrator decides; one still undecided has waited until the window's end.
REVIEWS_WAITED = """
with waited as (
    select review_id, subsystem, period, reviewer_user, decided_by, created_at as asked_at,
        case when decided_at <= %(end)s then decided_at end as answered_at,
        round(extract(epoch from least(coalesce(decided_at, %(end)s), %(end)s) - created_at)
            / 3600, 2) as hours
    from corrections.reviews
    where department = %(department)s and created_at >= %(start)s and created_at < %(end)s
)
"""
REVIEWS_SQL = (
    REVIEWS_WAITED
    + "select coalesce(sum(hours), 0), count(*), "
    + "coalesce(array_agg(review_id::text order by review_id), '{}') from waited"
)
REVIEWS_EVIDENCE_SQL = (
    REVIEWS_WAITED
    + "select review_id, subsystem, period, reviewer_user, decided_by, asked_at, answered_at, "
    + "hours from waited order by hours desc, review_id"
)


@dataclass
class Fact:
    department: str
    scope: str
    indicator: str
    criterion: str
    label: str
    unit: str
    subsystems: list[str]
    source_relation: str
    query: str
    params: dict
    row_table: str
    numerator: float | None = None
    denominator: float | None = None
    value: float | None = None
    score: float | None = None
    row_ids: list[str] = field(default_factory=list)
    evidence: list[dict] = field(default_factory=list)
    fact_id: int | None = None
    unjudged: str | None = None  # why nothing was due (said in the report), when value is None


def _f(v) -> float | None:
    return float(v) if isinstance(v, Decimal | int | float) else None


SCALE = {"%": 100.0, "‰": 1000.0, "小时": 1.0}  # 小时: total hours / count = the mean


def value_of(indicator: str, unit: str, num, den) -> float | None:
    """The indicator value from numerator and denominator: a percentage, a rate per mille, or
    (hours) the mean of the waits."""
    if den is None or float(den) == 0:
        return None
    scale = SCALE[unit]
    return round(float(num) * scale / float(den), 2)


def run_fact(conn: psycopg.Connection, fact: Fact) -> Fact:
    num, den, ids = conn.execute(fact.query, fact.params).fetchone()
    fact.numerator, fact.denominator, fact.row_ids = _f(num), _f(den), list(ids or [])
    fact.value = value_of(fact.indicator, fact.unit, num, den)
    return fact


# ---- plan periods: when each period's data was due (Article 7, the subsystem's plan) ----------


def plan_period_ends(frequency: str, start: date, end: date) -> list[date]:
    """Ends (exclusive, local midnight) of the plan periods that end in (start, end]."""
    out, d = [], start + timedelta(days=1)
    while d <= end:
        if (
            frequency in ("daily", "hourly")
            or (frequency == "weekly" and d.weekday() == 0)
            or (frequency == "thrice_monthly" and d.day in (1, 11, 21))
            or (frequency == "monthly" and d.day == 1)
        ):
            out.append(d)
        d += timedelta(days=1)
    return out  # termly / yearly plans are judged by the analysis reports, not here


def _go_live(conn, subsystem: str) -> datetime | None:
    row = conn.execute(
        "select min(started_at) from landing.run_log where subsystem = %s", (subsystem,)
    ).fetchone()
    return row[0] if row else None


def pull_due(conn, subsystems: list[str], period: Period, as_of: datetime) -> dict:
    """Parameters of PULLS_SQL: every plan period (since the subsystem's first pull) whose
    deadline passed before `as_of`."""
    from include.registry import registry

    reg = registry()
    subsystem_of, ends, deadlines = [], [], []
    for sid in subsystems:
        live = _go_live(conn, sid)
        if live is None:
            continue
        s = reg.subsystems[sid]
        first = max(period.start, live.astimezone(TZ).date())
        for d in plan_period_ends(s.plan.frequency, first, period.end):
            end_at = datetime.combine(d, datetime.min.time(), TZ)
            deadline = end_at + timedelta(hours=s.plan.deadline_hours)
            if end_at > live and deadline <= as_of:
                subsystem_of.append(sid)
                ends.append(end_at)
                deadlines.append(deadline)
    return {"subsystem_of": subsystem_of, "period_end": ends, "deadline": deadlines}


def report_live(conn, department: str) -> datetime | None:
    """When the platform began producing `department`'s analysis report: the first pull of any
    subsystem the department manages (its report covers exactly those subsystems).

    Chosen over "the department's first row in reports.reports" because that would let the
    judged party set its own start: a department whose report the platform never produced
    would have nothing due for ever, and months missed before its first report would vanish.
    The first pull is a fact about the platform, not about the department, and it is the same
    go-live `pull_due` judges pulls from (per subsystem). A department whose subsystems were
    never pulled has nothing due (not judged)."""
    from include.registry import registry

    managed = [s.id for s in registry().subsystems.values() if department in s.managing_departments]
    row = conn.execute(
        "select min(started_at) from landing.run_log where subsystem = any(%s)", (managed,)
    ).fetchone()
    return row[0] if row else None


def report_due(period: Period, as_of: datetime, due_days: int, live: datetime | None) -> dict:
    """Parameters of REPORTS_SQL: the monthly periods that closed after `live` (see
    `report_live`) and whose report was due (period end + `due_days`) before `as_of`.
    Periods that closed before the platform existed are not judged."""
    periods, due = [], []
    d = period.start.replace(day=1)
    while live is not None and d < period.end:
        nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        end_at = datetime.combine(nxt, datetime.min.time(), TZ)
        due_at = end_at + timedelta(days=due_days)
        if end_at > live and due_at <= as_of:
            periods.append(f"{d:%Y-%m}")
            due.append(due_at)
        d = nxt
    return {"periods": periods, "due": due, "judged_from": live}


# ---- building the facts of one department ----------------------------------------------------


def corrections_present(conn) -> bool:
    row = conn.execute(
        "select bool_and(to_regclass(t) is not null) from unnest(array['corrections.items', "
        "'corrections.requests', 'corrections.steps', 'corrections.reviews']) as t"
    ).fetchone()
    return bool(row[0])


def people(department: str) -> list[str]:
    """Airflow logins of the department's people who get correction steps and review tasks:
    its head (signs Annex 1) and its quality administrators (review, 质管办's verification)."""
    from include.registry import registry

    d = registry().departments[department]
    return [d.head.login, *(q.login for q in d.quality_administrators)]


def new_fact(rules: Rules, department, scope, indicator, subs, relation, query, params, table):
    ind = rules.indicators[indicator]
    return Fact(
        department,
        scope,
        indicator,
        ind.criterion,
        ind.label,
        ind.unit,
        subs,
        relation,
        query.strip(),
        params,
        table,
    )


def scopes(department: str) -> dict[str, list[str]]:
    from include.registry import registry

    subs = registry().subsystems.values()
    own = sorted(s.id for s in subs if department in s.organising_departments)
    managed = sorted(
        s.id
        for s in subs
        if department in s.managing_departments and department not in s.organising_departments
    )
    return {"own": own, "managed": managed}


def departments() -> list[str]:
    """Departments assessed: every organising or managing department of a subsystem."""
    from include.registry import registry

    names = set()
    for s in registry().subsystems.values():
        names |= set(s.organising_departments) | set(s.managing_departments)
    return sorted(names)


def report_departments() -> list[str]:
    from include.reports.builder import department_list

    return department_list()


def subsystem_facts(
    conn, rules: Rules, department: str, scope: str, subs: list[str], period: Period, as_of
) -> list[Fact]:
    window = {"subsystems": subs, "start": period.start_at, "end": as_of}
    facts: list[Fact] = []

    def add(indicator, relation, query, params, row_table):
        if indicator not in rules.indicators:
            return None
        fact = new_fact(
            rules, department, scope, indicator, subs, relation, query, params, row_table
        )
        facts.append(run_fact(conn, fact))
        return fact

    fact = add(
        "pull_on_time_rate",
        "landing.run_log",
        PULLS_SQL,
        pull_due(conn, subs, period, as_of),
        "landing.run_log.pull_id",
    )
    if fact is not None:
        for sid, end_at, deadline, pull_id, finished in conn.execute(
            PULLS_EVIDENCE_SQL, fact.params
        ).fetchall():
            fact.evidence.append(
                {
                    "kind": "late_pull" if pull_id else "missing_pull",
                    "subsystem": sid,
                    "period_end": end_at.isoformat(),
                    "deadline": deadline.isoformat(),
                    "pull_id": pull_id,
                    "finished_at": finished.isoformat() if finished else None,
                }
            )
    fact = add(
        "submitted_rate", "landing.run_log", SUBMITTED_SQL, window, "landing.run_log.pull_id"
    )
    if fact is not None and fact.row_ids:
        for pull_id, sid, resource, started, error in conn.execute(
            SUBMITTED_EVIDENCE_SQL, {"ids": fact.row_ids}
        ).fetchall():
            fact.evidence.append(
                {
                    "kind": "not_submitted",
                    "subsystem": sid,
                    "resource": resource,
                    "pull_id": pull_id,
                    "started_at": started.isoformat(),
                    "message": error,
                }
            )
    for principle in ("原始性", "规范性", "完整性", "即时性"):
        add(
            f"pass_rate_{principle}",
            "quality.check_results",
            PASS_SQL,
            {**window, "principle": principle},
            "quality.check_results.result_id",
        )
    add("rejects_per_k", "landing.rejects", REJECTS_SQL, window, "landing.rejects.reject_id")
    add(
        "identity_issues_per_k",
        "marts.identity_issues",
        IDENTITY_SQL,
        window,
        "marts.identity_issues.(subsystem_id/resource/source_key)",
    )
    if corrections_present(conn):
        add(
            "corrections_per_k",
            "corrections.items",
            CORRECTIONS_SQL,
            window,
            "corrections.items.item_id",
        )
    for indicator, column in (
        ("warnings_acknowledged_rate", "coalesce(acknowledged_at, resolved_at)"),
        ("warnings_resolved_rate", "resolved_at"),
    ):
        if indicator not in rules.indicators:
            continue
        days = rules.indicators[indicator].within_days
        fact = add(
            indicator,
            "quality.warnings",
            WARNINGS_SQL.format(at=column),
            {**window, "days": days},
            "quality.warnings.warning_id",
        )
        if fact is not None and indicator == "warnings_resolved_rate":
            for r in conn.execute(WARNINGS_EVIDENCE_SQL, fact.params).fetchall():
                wid, sid, title, severity, opened, _due, acked, resolved = r
                fact.evidence.append(
                    {
                        "kind": "warning_open",
                        "warning_id": wid,
                        "subsystem": sid,
                        "title": title,
                        "severity": severity,
                        "opened_at": opened.isoformat(),
                        "acknowledged_at": acked.isoformat() if acked else None,
                        "resolved_at": resolved.isoformat() if resolved else None,
                    }
                )
    return facts


def report_fact(conn, rules: Rules, department: str, period: Period, as_of) -> Fact:
    live = report_live(conn, department)
    params = {"department": department, **report_due(period, as_of, rules.reports.due_days, live)}
    fact = new_fact(
        rules,
        department,
        "department",
        "report_on_time_rate",
        [],
        "reports.reports",
        REPORTS_SQL,
        params,
        "reports.reports.report_id",
    )
    run_fact(conn, fact)
    if not params["periods"]:
        fact.unjudged = (
            f"平台自 {live.astimezone(TZ):%Y-%m-%d %H:%M} 起为本部门出报告（所管子系统首次采集），"
            "此后尚无到期的月报"
            if live
            else "本部门所管子系统尚未采集，平台尚未为本部门出报告"
        )
    for period_id, due_at, report_id, generated in conn.execute(
        REPORTS_EVIDENCE_SQL, params
    ).fetchall():
        fact.evidence.append(
            {
                "kind": "late_report" if report_id else "missing_report",
                "period_id": period_id,
                "due_at": due_at.isoformat(),
                "report_id": report_id,
                "generated_at": generated.isoformat() if generated else None,
            }
        )
    return fact


def _iso(v) -> str | None:
    return v.isoformat() if v else None


# (d) answer times: indicator → (relation, query, evidence query, row table, evidence kind)
ANSWERS = {
    "correction_step_answer_hours": (
        "corrections.steps",
        STEPS_SQL,
        STEPS_EVIDENCE_SQL,
        "corrections.steps.step_id",
        "slow_step",
    ),
    "review_answer_hours": (
        "corrections.reviews",
        REVIEWS_SQL,
        REVIEWS_EVIDENCE_SQL,
        "corrections.reviews.review_id",
        "slow_review",
    ),
}


def answer_facts(conn, rules: Rules, department: str, period: Period, as_of) -> list[Fact]:
    """(d) how fast the department's people answered correction steps and review tasks; the
    evidence lists every wait the curve does not give full marks (which step, how long)."""
    params = {
        "start": period.start_at,
        "end": as_of,
        "department": department,
        "users": people(department),
    }
    out = []
    for indicator, (relation, query, evidence, table, kind) in ANSWERS.items():
        if indicator not in rules.indicators:
            continue
        fact = new_fact(rules, department, "department", indicator, [], relation, query, params,
                        table)  # fmt: skip
        out.append(run_fact(conn, fact))
        for e in conn.cursor(row_factory=dict_row).execute(evidence, params).fetchall():
            e["hours"] = float(e["hours"])
            if rules.indicators[indicator].score(e["hours"]) < 100:
                e.update(
                    kind=kind, asked_at=_iso(e["asked_at"]), answered_at=_iso(e["answered_at"])
                )
                fact.evidence.append(e)
    return out


def department_facts(conn, rules: Rules, department: str, period: Period, as_of) -> list[Fact]:
    facts = []
    if "report_on_time_rate" in rules.indicators and department in report_departments():
        facts.append(report_fact(conn, rules, department, period, as_of))
    if corrections_present(conn):
        facts += answer_facts(conn, rules, department, period, as_of)
    return facts


# ---- scores ----------------------------------------------------------------------------------


def criterion_score(rules: Rules, facts: list[Fact], criterion: str) -> float | None:
    """Weighted mean of the scores of the criterion's indicators that have data."""
    weights = rules.indicators_of(criterion)
    scored = [(weights[f.indicator].weight, f.score) for f in facts if f.criterion == criterion]
    scored = [(w, s) for w, s in scored if s is not None and w > 0]
    total = sum(w for w, _ in scored)
    return round(sum(w * s for w, s in scored) / total, 2) if total else None


def blend(rules: Rules, own: float | None, managed: float | None) -> float | None:
    if own is None:
        return managed
    if managed is None:
        return own
    share = rules.layered.managed_share
    return round((1 - share) * own + share * managed, 2)


def total_score(rules: Rules, scores: dict[str, float | None]) -> float:
    parts = []
    for c in CRITERIA:
        s = scores.get(c)
        if s is None and c == "a" and rules.missing_manual == "zero":
            s = 0.0
        if s is not None:
            parts.append((rules.criteria[c].weight, s))
    total = sum(w for w, _ in parts)
    return round(sum(w * s for w, s in parts) / total, 2) if total else 0.0


@dataclass
class Result:
    department: str
    scores: dict[str, float | None]
    own: dict[str, float | None]
    managed: dict[str, float | None]
    total: float
    manual: dict | None
    previous_total: float | None = None
    rank: int = 0
    passed: bool = True
    notes: list[str] = field(default_factory=list)
    vetoes: list[str] = field(default_factory=list)  # 一票否决: why, whatever the total

    @property
    def barred(self) -> bool:
        return not self.passed


def latest_manual(conn, year: str, department: str) -> dict | None:
    row = conn.execute(
        """select entry_id, score, comment, marked_people, entered_by, entered_at, source
        from assessment.manual_scores where academic_year = %s and department = %s
        order by entered_at desc, entry_id desc limit 1""",
        (year, department),
    ).fetchone()
    if not row:
        return None
    keys = ("entry_id", "score", "comment", "marked_people", "entered_by", "entered_at", "source")
    return dict(zip(keys, row, strict=True))


def score_department(
    rules: Rules, department: str, facts: list[Fact], manual, upheld: set | None = None
) -> Result:
    for f in facts:
        f.score = rules.indicators[f.indicator].score(f.value)
        if (f.department, f.scope, f.indicator) in (upheld or set()):
            f.score = None
            f.evidence = []
    own_facts = [f for f in facts if f.scope in ("own", "department")]
    managed_facts = [f for f in facts if f.scope == "managed"]
    own = {c: criterion_score(rules, own_facts, c) for c in "bcd"}
    managed = {c: criterion_score(rules, managed_facts, c) for c in "bcd"}
    scores: dict[str, float | None] = {c: blend(rules, own[c], managed[c]) for c in "bcd"}
    scores["a"] = float(manual["score"]) if manual else None
    notes = []
    if manual is None:
        notes.append(
            "(a) 未录入，按其余三项折算"
            if rules.missing_manual == "exclude"
            else "(a) 未录入，记 0 分"
        )
    for f in facts:
        if f.value is None:
            notes.append(
                f"{f.label}（{_scope_zh(f.scope)}）未评判："
                f"{f.unjudged or NOTHING_DUE.get(f.indicator, '无数据')}；"
                f"不计分（不记 0 分），其权重由 ({f.criterion}) 项其他指标分担"
            )
        elif f.score is None:
            notes.append(f"{f.label}（{_scope_zh(f.scope)}）申诉成立，不计分")
    for c in "bcd":
        if scores[c] is None:
            notes.append(f"({c}) 项无可评判的指标，综合得分按其余各项的权重折算")
    vetoes = [
        f"一票否决：{v.reason}（{f.label} {f.value:g}{f.unit}，低于 {v.below:g}{f.unit}）"
        for v in rules.veto
        for f in facts
        if f.indicator == v.indicator and f.scope == "own" and f.score is not None
        and f.value is not None and f.value < v.below
    ]  # fmt: skip
    total = total_score(rules, scores)
    return Result(
        department, scores, own, managed, total, manual, notes=notes + vetoes, vetoes=vetoes
    )


# Why an indicator with a zero denominator is not judged (the report says it per department).
NOTHING_DUE = {
    "pull_on_time_rate": "自子系统首次采集以来尚无已过截止时间的采集期",
    "submitted_rate": "本学年尚无采集记录",
    "warnings_acknowledged_rate": "尚无已到按期天数的预警",
    "warnings_resolved_rate": "尚无已到按期天数的预警",
    "correction_step_answer_hours": "本学年本部门人员无更正审批步骤",
    "review_answer_hours": "本学年本部门无部门审核任务",
}


def _scope_zh(scope: str) -> str:
    return {"own": "本部门组织的子系统", "managed": "所管子系统", "department": "部门"}[scope]


UPHELD_SQL = """
select f.department, f.scope, f.indicator
from assessment.appeals as p
join assessment.facts as f on f.fact_id = p.fact_id
join assessment.runs as u on u.run_id = p.run_id
where u.academic_year = %s and p.decision = 'upheld'
"""


def upheld_appeals(conn, year: str) -> set[tuple]:
    """(department, scope, indicator) whose flagged fact 质管办 upheld an appeal against."""
    return {tuple(r) for r in conn.execute(UPHELD_SQL, (year,)).fetchall()}


def rank(rules: Rules, results: list[Result]) -> list[Result]:
    results.sort(key=lambda r: (-r.total, r.department))
    for i, r in enumerate(results, 1):
        r.rank = i
        r.passed = r.total >= rules.pass_line and not r.vetoes
    return results


# ---- store ------------------------------------------------------------------------------------


def _json(v) -> str:
    return json.dumps(v, ensure_ascii=False, default=str)


def previous_total(conn, year: str, department: str) -> float | None:
    start = int(year.split("-")[0])
    prev = f"{start - 1}-{start}"
    row = conn.execute(
        """select r.total from assessment.results as r
        join assessment.runs as u on u.run_id = r.run_id
        where u.academic_year = %s and r.department = %s
        order by u.computed_at desc limit 1""",
        (prev, department),
    ).fetchone()
    return _f(row[0]) if row else None


def store(conn, year: str, rules_meta: tuple, as_of, facts, results, corrections, **ids) -> int:
    rules, sha, raw = rules_meta
    run_id = conn.execute(
        """insert into assessment.runs (academic_year, rules_version, rules_sha256, rules, as_of,
            dag_id, airflow_run_id, corrections_counted)
        values (%s, %s, %s, %s, %s, %s, %s, %s) returning run_id""",
        (
            year,
            rules.version,
            sha,
            _json(raw),
            as_of,
            ids.get("dag_id"),
            ids.get("airflow_run_id"),
            corrections,
        ),
    ).fetchone()[0]
    for f in facts:
        f.fact_id = conn.execute(
            """insert into assessment.facts (run_id, department, scope, indicator, criterion,
                label, numerator, denominator, value, unit, score, subsystems, source_relation,
                query, params, row_table, row_ids, evidence)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            returning fact_id""",
            (
                run_id,
                f.department,
                f.scope,
                f.indicator,
                f.criterion,
                f.label,
                f.numerator,
                f.denominator,
                f.value,
                f.unit,
                f.score,
                f.subsystems,
                f.source_relation,
                f.query,
                _json(f.params),
                f.row_table,
                f.row_ids,
                _json(f.evidence),
            ),
        ).fetchone()[0]
    for r in results:
        own_total = total_score(rules, {**r.own, "a": r.scores["a"]})
        managed = (
            total_score(rules, {**r.managed, "a": None})
            if any(v is not None for v in r.managed.values())
            else None
        )
        conn.execute(
            """insert into assessment.results (run_id, department, score_a, score_b, score_c,
                score_d, own_total, managed_total, total, rank, passed, barred, manual_entry_id,
                marked_people, previous_total, notes)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                run_id,
                r.department,
                r.scores["a"],
                r.scores["b"],
                r.scores["c"],
                r.scores["d"],
                own_total,
                managed,
                r.total,
                r.rank,
                r.passed,
                r.barred,
                r.manual["entry_id"] if r.manual else None,
                list(r.manual["marked_people"]) if r.manual else [],
                r.previous_total,
                r.notes,
            ),
        )
    return run_id


@dataclass
class Assessment:
    run_id: int
    year: str
    period: Period
    as_of: datetime
    rules: Rules
    rules_sha: str
    facts: list[Fact]
    results: list[Result]
    corrections_counted: bool


def compute(
    conn: psycopg.Connection,
    year: str,
    *,
    rules_path=None,
    now: datetime | None = None,
    **ids,
) -> Assessment:
    """Compute, score, rank and store the assessment of academic year `year` (2026-2027)."""
    meta = load(rules_path)
    rules = meta[0]
    period = resolve(conn, "year", year)
    as_of = min(period.end_at, now or datetime.now(TZ))
    corrections = corrections_present(conn)
    upheld = upheld_appeals(conn, year)
    all_facts, results = [], []
    for dept in departments():
        facts = []
        for scope, subs in scopes(dept).items():
            if subs:
                facts += subsystem_facts(conn, rules, dept, scope, subs, period, as_of)
        facts += department_facts(conn, rules, dept, period, as_of)
        result = score_department(rules, dept, facts, latest_manual(conn, year, dept), upheld)
        result.previous_total = previous_total(conn, year, dept)
        all_facts += facts
        results.append(result)
    rank(rules, results)
    run_id = store(conn, year, meta, as_of, all_facts, results, corrections, **ids)
    return Assessment(run_id, year, period, as_of, rules, meta[1], all_facts, results, corrections)
