"""Run the data contracts with Soda's Python API and keep every result (Article 10).

One *run* verifies a set of contracts and writes one `quality.check_runs` row and one
`quality.check_results` row per check. Raw contracts are verified on the pulls that have not
been audited yet plus the pulls on hold (variable `PULLS`); the freshness and cross-system
checks in them look at the whole dataset. After the results are stored, `holds.apply` puts
pulls that failed a blocking check on hold and releases held pulls that now pass.

Soda gives counts, not rows, when it runs locally; for a failed `failed_rows` query check we
run the same query again to take up to five failing keys (masked when they look like an ID
number or a phone number) and the pulls that contain failing rows.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import dict_row

from include.quality import catalog, people
from include.quality.catalog import Contract
from include.warehouse import connection

log = logging.getLogger(__name__)

SAMPLE_SIZE = 5
OUTCOMES = {
    "PASSED": "passed",
    "FAILED": "failed",
    "WARN": "warned",
    "NOT_EVALUATED": "not_evaluated",
    "EXCLUDED": "excluded",
}
_ID_NUMBER = re.compile(r"^\d{17}[\dXx]$|^\d{15}$")
_PHONE = re.compile(r"^1\d{10}$")


# -- environment for the data-source file --------------------------------------------------------


def soda_environment(url: str | None = None) -> dict[str, str]:
    """The XIAOBEN_SODA_* variables of `soda/data_sources/warehouse.yml`, from a warehouse URL."""
    info = conninfo_to_dict(connection.url_for("quality", url))
    return {
        "XIAOBEN_SODA_HOST": str(info.get("host") or "127.0.0.1"),
        "XIAOBEN_SODA_PORT": str(info.get("port") or 5432),
        "XIAOBEN_SODA_DATABASE": str(info.get("dbname") or "postgres"),
        "XIAOBEN_SODA_USER": str(info.get("user") or "postgres"),
        "XIAOBEN_SODA_PASSWORD": str(info.get("password") or ""),
        "SODA_CORE_TELEMETRY_ENABLED": "false",
    }


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# -- masking ------------------------------------------------------------------------------------


def mask(value: object) -> str:
    """A record key that is safe to store and mail: ID and phone numbers are never shown."""
    text = "" if value is None else str(value)
    if _ID_NUMBER.match(text) or _PHONE.match(text):
        digest = hashlib.sha256(text.encode()).hexdigest()[:10]
        kind = "身份证号" if len(text) != 11 else "手机号"
        return f"{kind}#{digest}"
    return text[:80]


# -- one contract --------------------------------------------------------------------------------


@dataclass
class CheckRow:
    contract: Contract
    check_key: str
    check_class: catalog.CheckClass
    check_type: str
    check_name: str
    column_name: str | None
    outcome: str
    threshold: str | None
    measured: float | None
    failing_count: int | None
    rows_tested: int | None
    diagnostics: dict
    pull_ids: list[int]
    sample_keys: list[str] = field(default_factory=list)
    failing_pull_ids: list[int] = field(default_factory=list)
    batch_scoped: bool = False


def _number(value) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float | Decimal):
        return float(value)
    return None


def _jsonable(values: dict | None) -> dict:
    return {k: (_number(v) if _number(v) is not None else v) for k, v in (values or {}).items()}


def _queries_by_qualifier(document: dict, contract: Contract) -> dict[str, str]:
    """qualifier → SQL returning the failing rows of a failed_rows check (query or expression)."""
    found = {}
    checks = list(document.get("checks") or [])
    for column in document.get("columns") or []:
        checks.extend(column.get("checks") or [])
    where = f"({document['filter']}) and " if document.get("filter") else ""
    for check in checks:
        for body in check.values():
            if not isinstance(body, dict) or not body.get("qualifier"):
                continue
            if body.get("query"):
                found[body["qualifier"]] = body["query"]
            elif body.get("expression") and contract.layer == "raw":
                found[body["qualifier"]] = (
                    f"select source_key, pull_id from {contract.dataset}"
                    f" where {where}({body['expression']})"
                )
    return found


def _batch_scoped(document: dict) -> dict[str, bool]:
    """qualifier → whether the check looks only at the pulls being verified (PULLS)."""
    scoped = {}
    for column in document.get("columns") or []:
        for check in column.get("checks") or []:
            for body in check.values():
                scoped[body["qualifier"]] = bool(document.get("filter"))
    for check in document.get("checks") or []:
        for kind, body in check.items():
            text = body.get("query") or ""
            by_filter = kind not in ("metric", "schema") and not text
            scoped[body["qualifier"]] = "${var.PULLS}" in text or (
                by_filter and "PULLS" in (document.get("filter") or "")
            )
    return scoped


def _substitute(sql: str, variables: dict[str, str], document: dict) -> str:
    values = {
        k: str((v or {}).get("default", "")) for k, v in (document.get("variables") or {}).items()
    }
    values.update(variables)
    return re.sub(r"\$\{\s*var\.([A-Za-z_][A-Za-z_0-9]*)\s*\}", lambda m: values[m.group(1)], sql)


def _failing_detail(conn, sql: str) -> tuple[list[str], list[int]]:
    """Up to five failing keys and every pull with a failing row, from a failed_rows query."""
    cur = conn.execute(f"select * from ({sql}) as failing limit {SAMPLE_SIZE}")
    columns = [c.name for c in cur.description]
    # a mart check names its record in words (`record`); a raw check by its source key
    key_col = next((c for c in ("record", "source_key") if c in columns), columns[0])
    samples = [mask(row[columns.index(key_col)]) for row in cur.fetchall()]
    pulls: list[int] = []
    if "pull_id" in columns:
        pulls = [
            r[0] for r in conn.execute(f"select distinct pull_id from ({sql}) as f order by 1")
        ]
    return samples, [p for p in pulls if p is not None]


def verify_contract(
    contract: Contract, variables: dict[str, str], conn: psycopg.Connection
) -> tuple[list[CheckRow], str | None]:
    """Verify one contract; returns its check rows and the error text, if Soda reported one."""
    from soda_core.contracts import verify_contract_locally

    document = contract.document()
    try:
        result = verify_contract_locally(
            data_source_file_path=str(catalog.DATA_SOURCE_FILE),
            contract_file_path=str(contract.path),
            variables=variables,
            publish=False,
        )
    except Exception as exc:  # a broken contract must not stop the other datasets' checks
        log.exception("contract %s failed to run", contract.relative_path)
        return [], f"{contract.relative_path}: {exc}"
    error = f"{contract.relative_path}: {result.get_errors_str()}" if result.has_errors else None
    queries = _queries_by_qualifier(document, contract)
    scoped = _batch_scoped(document)
    pulls = [int(p) for p in variables.get("PULLS", "").split(",") if p.strip().isdigit()]
    rows = []
    for verification in result.contract_verification_results:
        for cr in verification.check_results:
            check = cr.check
            klass = catalog.check_class(check.qualifier)
            diagnostics = _jsonable(cr.diagnostic_metric_values)
            failing = diagnostics.get("failed_rows_count")
            for key in ("missing_count", "invalid_count", "duplicate_count", "schema_events_count"):
                if failing is None and diagnostics.get(key) is not None:
                    failing = diagnostics[key]
            outcome = OUTCOMES.get(cr.outcome.name, "not_evaluated")
            row = CheckRow(
                contract=contract,
                check_key=check.qualifier,
                check_class=klass,
                check_type=check.type,
                check_name=check.name or klass.title,
                column_name=check.column_name,
                outcome=outcome,
                threshold=str(check.threshold).replace("\n", "; ") if check.threshold else None,
                measured=_number(cr.threshold_value),
                failing_count=int(failing) if failing is not None else None,
                rows_tested=_int(diagnostics.get("check_rows_tested"))
                or _int(diagnostics.get("dataset_rows_tested")),
                diagnostics=diagnostics,
                pull_ids=pulls,
                batch_scoped=scoped.get(check.qualifier, False),
            )
            if outcome in ("failed", "warned") and check.qualifier in queries:
                try:
                    sql = _substitute(queries[check.qualifier], variables, document)
                    row.sample_keys, row.failing_pull_ids = _failing_detail(conn, sql)
                except psycopg.Error as exc:
                    conn.rollback()
                    log.warning("samples for %s failed: %s", check.qualifier, exc)
            if outcome == "failed" and klass.blocking and not row.failing_pull_ids:
                row.failing_pull_ids = pulls  # no per-row detail: the whole batch is suspect
            rows.append(row)
    return rows, error


def _int(value) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _absent(contract: Contract) -> CheckRow:
    """A dataset whose table does not exist: never landed (raw) or not built (marts)."""
    raw = contract.layer == "raw"
    key = "late_pull" if raw else "row_count"
    name = (
        "原始表尚不存在：本资源从未成功采集落地" if raw else "数据集市表不存在：数仓构建没有生成它"
    )
    return CheckRow(
        contract=contract,
        check_key=key,
        check_class=catalog.check_class(key),
        check_type="metric",
        check_name=name,
        column_name=None,
        outcome="failed",
        threshold=None,
        measured=None,
        failing_count=None,
        rows_tested=0,
        diagnostics={"dataset_exists": False},
        pull_ids=[],
    )


# -- which pulls --------------------------------------------------------------------------------


def pulls_to_verify(conn: psycopg.Connection, subsystem: str, resource: str) -> list[int]:
    """Finished pulls of one resource not audited yet, and pulls still on hold."""
    rows = conn.execute(
        """
        select r.pull_id from landing.run_log as r
        where r.subsystem = %(s)s and r.resource = %(r)s and r.status <> 'running'
          and not exists (select 1 from quality.audited_pulls as a where a.pull_id = r.pull_id)
        union
        select h.pull_id from quality.holds as h
        where h.subsystem = %(s)s and h.resource = %(r)s and h.released_at is null
        order by 1
        """,
        {"s": subsystem, "r": resource},
    ).fetchall()
    return [r[0] for r in rows]


# -- a run --------------------------------------------------------------------------------------


def _store(conn, run_id: int, rows: list[CheckRow], verified_at: datetime) -> list[int]:
    ids = []
    for row in rows:
        c = row.contract
        sid = c.subsystem
        responsible = people.warned(sid) if sid else []
        depts = people.departments(sid) if sid else []
        ids.append(
            conn.execute(
                """
                insert into quality.check_results (
                    run_id, verified_at, layer, dataset, subsystem, resource, contract_file,
                    check_key, check_class, check_type, check_name, column_name, principle,
                    blocking, batch_scoped, outcome, threshold, measured, failing_count,
                    rows_tested, diagnostics, sample_keys, pull_ids, failing_pull_ids,
                    departments, responsible
                ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                          %s, %s, %s, %s, %s, %s, %s, %s)
                returning result_id
                """,
                [
                    run_id, verified_at, c.layer, c.dataset, sid,
                    c.table if c.layer == "raw" else None, c.relative_path, row.check_key,
                    row.check_class.name, row.check_type, row.check_name, row.column_name,
                    row.check_class.principle, row.check_class.blocking and c.layer == "raw",
                    row.batch_scoped, row.outcome, row.threshold, row.measured,
                    row.failing_count, row.rows_tested,
                    json.dumps(row.diagnostics, ensure_ascii=False), row.sample_keys,
                    row.pull_ids, row.failing_pull_ids, depts,
                    json.dumps(responsible, ensure_ascii=False),
                ],
            ).fetchone()[0]
        )  # fmt: skip
    return ids


def run(
    layer: str = "raw",
    trigger: str = "landing",
    *,
    datasets: list[str] | None = None,
    url: str | None = None,
    dag_id: str | None = None,
    airflow_run_id: str | None = None,
    contracts_dir: Path | None = None,
) -> dict:
    """Verify every contract of a layer (or only `datasets`) and store the results.

    Returns {run_id, contracts, checks, passed, failed, warned, not_evaluated, errors, held,
    released}.
    """
    from include.quality import holds

    url = connection.url_for("quality", url)
    env = soda_environment(url)
    from include.registry import registry

    valid = registry().subsystems  # a broken subsystem file is left out: it breaks only itself
    chosen = [
        c
        for c in catalog.contracts(layer, contracts_dir)
        if (datasets is None or c.dataset in datasets)
        and (c.subsystem is None or c.subsystem in valid)
    ]
    with psycopg.connect(url, autocommit=True) as conn:
        run_id = conn.execute(
            "insert into quality.check_runs (trigger, dag_id, airflow_run_id) values (%s, %s, %s)"
            " returning run_id",
            [trigger, dag_id, airflow_run_id],
        ).fetchone()[0]
        all_rows: list[CheckRow] = []
        errors: list[str] = []
        verified_pulls: dict[str, list[int]] = {}
        with _environment(env):
            for contract in chosen:
                if conn.execute("select to_regclass(%s)", [contract.dataset]).fetchone()[0] is None:
                    all_rows.append(_absent(contract))
                    continue
                variables = {"WAREHOUSE_DB": env["XIAOBEN_SODA_DATABASE"]}
                if contract.layer == "raw":
                    pulls = pulls_to_verify(conn, contract.subsystem, contract.table)
                    verified_pulls[contract.dataset] = pulls
                    variables["PULLS"] = ",".join(map(str, pulls)) or "null"
                rows, error = verify_contract(contract, variables, conn)
                all_rows.extend(rows)
                if error:
                    errors.append(error)
        verified_at = conn.execute("select now()").fetchone()[0]
        with conn.transaction():
            _store(conn, run_id, all_rows, verified_at)
            for dataset, pulls in verified_pulls.items():
                failing = {
                    p
                    for r in all_rows
                    if r.contract.dataset == dataset and r.outcome == "failed"
                    and r.check_class.blocking
                    for p in r.failing_pull_ids
                }  # fmt: skip
                for pull in pulls:
                    conn.execute(
                        "insert into quality.audited_pulls (pull_id, dataset, run_id, passed)"
                        " values (%s, %s, %s, %s) on conflict (pull_id) do nothing",
                        [pull, dataset, run_id, pull not in failing],
                    )
            wap = holds.apply(conn, run_id, verified_pulls) if verified_pulls else {}
            counts = {o: sum(1 for r in all_rows if r.outcome == o) for o in OUTCOMES.values()}
            conn.execute(
                """
                update quality.check_runs set finished_at = now(), contracts = %s, checks = %s,
                    passed = %s, failed = %s, warned = %s, not_evaluated = %s, errors = %s,
                    status = %s
                where run_id = %s
                """,
                [
                    len(chosen), len(all_rows), counts["passed"], counts["failed"],
                    counts["warned"], counts["not_evaluated"], errors,
                    "error" if errors else "done", run_id,
                ],
            )  # fmt: skip
    return {
        "run_id": run_id,
        "contracts": len(chosen),
        "checks": len(all_rows),
        **{k: v for k, v in counts.items() if k != "excluded"},
        "errors": errors,
        "held": wap.get("held", []),
        "released": wap.get("released", []),
    }


def results(conn_or_url, run_id: int) -> list[dict]:
    """The stored results of one run (for tests, reports and the DAG's log)."""
    own = isinstance(conn_or_url, str)
    conn = psycopg.connect(conn_or_url) if own else conn_or_url
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            return cur.execute(
                "select * from quality.check_results where run_id = %s order by result_id",
                [run_id],
            ).fetchall()
    finally:
        if own:
            conn.close()
