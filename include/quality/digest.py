"""The daily warning digest: one e-mail per person per day across all their unresolved warnings.

A person's warnings are those naming them as a recipient (collectors, quality administrators,
owner departments) or as the head a warning escalated to. Sending is idempotent: the
`quality.digests` row for (person, day) is written in the same transaction as the sending,
so running the DAG again the same day sends nothing new, and a failed send is retried by the
next run. Each mailed warning gets a `mailed` event naming the recipient and the Message-ID.
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
from psycopg.rows import dict_row

from include import display, mail, settings
from include.warehouse import connection

log = logging.getLogger(__name__)
TZ = ZoneInfo(settings.TIMEZONE)
SEVERITY_ORDER = {"未达标": 0, "未通过": 1, "预警": 2, "提醒": 3}
SHOWN_PER_GROUP = 10  # warnings of one check shown in full
SHOWN_UNITS = 20  # units of one indicator warning listed (worst first)
DEFAULT_UI_URL = "http://127.0.0.1:8080"
ACK_DAG = "quality_acknowledge"  # dags/quality_release.py
RELEASE_DAG = "quality_release"
# Where the full list of an indicator warning's units can be seen: the mart, by the name BI
# tools show for it (its table comment), filtered by control point and period.
FULL_LIST = "BI 工具中的数据集“质控点监测值”"
STATUS_ZH = {"open": "待处理", "acknowledged": "已确认，处理中", "resolved": "已解决"}
# HTML escaped, every value shown through display.shown (markers, long values cut)
_templates = display.environment(Path(__file__).parent / "templates", keep_trailing_newline=True)


def airflow_ui_url() -> str:
    """The Airflow UI recipients open (Airflow's own `[api] base_url`, else the loopback one)."""
    return (os.environ.get("AIRFLOW__API__BASE_URL") or DEFAULT_UI_URL).rstrip("/")


def today() -> date:
    return datetime.now(TZ).date()


def _fmt(ts: datetime | None) -> str:
    return ts.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if ts else "—"


def pending(conn, day: date) -> dict[str, dict]:
    """email → {person, warnings} for everyone with unresolved warnings and no digest on `day`."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(
            """
            select w.*, p.person, p.escalated_to_me
            from quality.warnings as w
            cross join lateral (
                select r as person, false as escalated_to_me
                from jsonb_array_elements(w.recipients) as r
                union all
                select e, true from jsonb_array_elements(w.escalated_to) as e
            ) as p
            where w.status <> 'resolved'
              and not exists (
                  select 1 from quality.digests as d
                  where d.recipient_email = p.person ->> 'email' and d.digest_date = %s
              )
            order by w.warning_id
            """,
            [day],
        ).fetchall()
    people: dict[str, dict] = {}
    for row in rows:
        person = row.pop("person")
        entry = people.setdefault(person["email"], {"person": dict(person), "warnings": {}})
        if person["role"] not in entry["person"]["role"]:
            entry["person"]["role"] += "、" + person["role"]
        w = entry["warnings"].setdefault(row["warning_id"], dict(row))
        w["escalated_to_me"] = w.get("escalated_to_me") or row["escalated_to_me"]
    for entry in people.values():
        entry["warnings"] = sorted(
            entry["warnings"].values(),
            key=lambda w: (SEVERITY_ORDER.get(w["severity"], 9), w["warning_id"]),
        )
    return people


def groups(warnings: list[dict]) -> list[dict]:
    """Data warnings of the same check and severity together (worst first), each indicator
    warning a group of its own with its units: the first SHOWN_UNITS, worst first, and how
    many more. A control point flagging thousands of students is one warning, not thousands."""
    grouped: dict[tuple, list[dict]] = {}
    for w in warnings:
        key = ("data", w["check_key"] or w["title"], w["severity"])
        if w["kind"] == "indicator":
            key = ("indicator", w["warning_key"], w["severity"])
        grouped.setdefault(key, []).append(w)
    out = []
    for (kind, key, severity), items in grouped.items():
        first = items[0]
        units = list(first.get("sample_keys") or []) if kind == "indicator" else []
        point, period = [*key.split("|"), "", ""][1:3] if kind == "indicator" else ("", "")
        out.append({
            "label": first["title"], "kind": kind, "severity": severity,
            "principle": first["principle"], "advice": first["advice"], "count": len(items),
            "shown": items[:SHOWN_PER_GROUP], "more": max(0, len(items) - SHOWN_PER_GROUP),
            "units": units[:SHOWN_UNITS],
            "more_units": max(0, (first.get("failing_count") or len(units)) - SHOWN_UNITS),
            "point": point, "period": period,
            "held": sorted({p for w in items if "已暂扣" in (w["detail"] or "")
                            for p in w.get("pull_ids") or []}),
        })  # fmt: skip
    return out


def render(person: dict, warnings: list[dict], day: date) -> tuple[str, str, str]:
    """Subject, plain text and HTML of one person's digest."""
    for w in warnings:
        w["status_zh"] = STATUS_ZH[w["status"]]
        w["due"] = _fmt(w["due_at"])
        w["opened"] = _fmt(w["opened_at"])
    escalated = sum(1 for w in warnings if w["escalated_to_me"])
    worst = warnings[0]["severity"] if warnings else ""
    subject = display.header(
        f"【校本数据中心·预警】{day:%Y-%m-%d}　{person['name']}：{len(warnings)} 项待处理"
        + (f"（含{worst}）" if worst in ("未通过", "未达标") else "")
        + ("，含逾期升级" if escalated else "")
    )
    context = {
        "person": person,
        "warnings": warnings,
        "groups": groups(warnings),
        "escalated": escalated,
        "now": datetime.now(TZ).strftime("%Y-%m-%d %H:%M"),
        "subject": subject,
        "ack_url": f"{airflow_ui_url()}/dags/{ACK_DAG}",
        "release_url": f"{airflow_ui_url()}/dags/{RELEASE_DAG}",
        "full_list": FULL_LIST,
    }
    text = _templates.get_template("digest.txt.j2").render(context)
    html = _templates.get_template("digest.html.j2").render(context)
    return subject, text, html


def send_digests(
    day: date | None = None, url: str | None = None, conn_id: str = mail.DEFAULT_CONN_ID
) -> list[dict]:
    """Send today's digests that have not been sent yet; returns one entry per mail sent."""
    day = day or today()
    smtp = None
    sent, failures = [], []
    # autocommit: each digest is its own transaction, committed before the next mail goes out
    with psycopg.connect(connection.url_for("quality", url), autocommit=True) as conn:
        for email, entry in sorted(pending(conn, day).items()):
            person, warnings = entry["person"], entry["warnings"]
            subject, text, html = render(person, warnings, day)
            smtp = smtp or mail.smtp_settings(conn_id)
            msg = mail.build_message(
                [(person["name"], email)], subject, text, html, from_email=smtp.from_email
            )
            ids = [w["warning_id"] for w in warnings]
            try:
                with conn.transaction():
                    claimed = conn.execute(
                        """
                        insert into quality.digests
                            (digest_date, recipient_email, recipient_name, message_id, subject,
                             warning_ids)
                        values (%s, %s, %s, %s, %s, %s)
                        on conflict (recipient_email, digest_date) do nothing
                        returning digest_id
                        """,
                        [day, email, person["name"], msg["Message-ID"], subject, ids],
                    ).fetchone()
                    if claimed is None:  # another run sent it meanwhile
                        continue
                    for warning_id in ids:
                        conn.execute(
                            """
                            insert into quality.warning_events (warning_id, event, actor,
                                recipient_email, recipient_name, message_id, note)
                            values (%s, 'mailed', '质量检查（自动）', %s, %s, %s, %s)
                            """,
                            [warning_id, email, person["name"], msg["Message-ID"], subject],
                        )
                    mail.send(msg, smtp=smtp)
            except Exception as exc:
                log.exception("digest to %s failed", email)
                failures.append(f"{email}: {exc}")
                continue
            sent.append({"email": email, "name": person["name"], "warnings": ids,
                         "message_id": msg["Message-ID"], "subject": subject})  # fmt: skip
    if failures:
        raise RuntimeError(f"{len(failures)} 封预警邮件发送失败：" + "；".join(failures))
    return sent
