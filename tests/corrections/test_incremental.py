"""Issue 11: an approved correction reaches an incremental model on the next normal build.

Real sandbox grades landed by the real collection code, real PostgreSQL, real dbt. The build
is the warehouse's normal one (`dbt build`, never `--full-refresh`): `stg_academic__grades` and
`fct_grades` are incremental tables, so before the fix a correction only showed after a full
refresh. Now the corrected key is taken again (and only it: every other row keeps its
`loaded_at`), a superseding correction replaces it, and a table built before the
`correction_forms` column existed catches up on its first normal build.
"""

from __future__ import annotations

import psycopg

from include.corrections import requests as creq
from tests.corrections.conftest import query
from tests.corrections.test_requests import _sign_all

BUILD = ["build", "-s", "+fct_grades", "correction_history"]  # normal: no --full-refresh


def _build(url):
    from include.warehouse import dbt

    dbt.run(BUILD, url=url)


def _grade(url, key):
    return query(
        url,
        "select f.score_text, f.score, f.is_passed, f.loaded_at, s.correction_forms "
        "from marts.fct_grades f join staging.stg_academic__grades s using (source_key) "
        "where f.source_key = %s",
        [key],
    )[0]


def _loaded(url):
    return dict(query(url, "select source_key, loaded_at from marts.fct_grades"))


def _correct(url, key, new):
    req = creq.Request(
        reporting_department="教务处", subsystem="academic",
        items=(creq.Item("grades", key, "cj", new),), reason="成绩录入错误，依据试卷复核更正",
        filler_name="黄晓燕", filler_user="huang.xiaoyan",
    )  # fmt: skip
    made = creq.submit(req, url=url)
    _sign_all(url, made["request_id"])
    return made["form_no"]


def test_correction_reaches_incremental_marts_on_a_normal_build(landed_grades, monkeypatch):
    url = landed_grades
    monkeypatch.setenv("XIAOBEN_DATABASE_URL", url)
    _build(url)  # the first build creates the incremental tables
    (key, old), (other, _) = query(
        url,
        "select source_key, payload ->> 'cj' from raw_academic.grades "
        "where payload ->> 'cj' ~ '^[0-9]+$' and (payload ->> 'cj')::int < 60 "
        "order by source_key limit 2",
    )
    before = _loaded(url)
    assert _grade(url, key)[:3] == (old, float(old), False) and _grade(url, key)[4] is None

    form = _correct(url, key, "75")
    _build(url)
    score_text, score, passed, _at, forms = _grade(url, key)
    assert (score_text, float(score), passed, forms) == ("75", 75.0, True, form)
    after = _loaded(url)
    changed = {k for k in before if after[k] != before[k]}
    assert changed == {key}  # still incremental: only the corrected record was taken again
    raw = query(url, "select payload ->> 'cj' from raw_academic.grades where source_key = %s",
                [key])  # fmt: skip
    assert raw == [(old,)]  # raw is never edited
    hist = query(
        url,
        "select form_no, original_value, corrected_value, status, applied, verified_by "
        "from marts.correction_history where source_key = %s",
        [key],
    )
    assert hist == [(form, old, "75", "verified", True, "袁芳")]

    _build(url)  # nothing changed: nothing is taken again
    assert _loaded(url) == after

    # A later correction of the same field supersedes the first (its overlay row is replaced).
    second = _correct(url, key, "80")
    _build(url)
    assert _grade(url, key)[0] == "80" and _grade(url, key)[4] == second

    # A table built before correction_forms existed: the first normal build takes every
    # corrected key once more (and adds the column back), the others stay.
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("alter table staging.stg_academic__grades drop column correction_forms")
    third = _correct(url, other, "90")
    settled = _loaded(url)
    _build(url)
    assert _grade(url, other)[0] == "90" and _grade(url, other)[4] == third
    assert _grade(url, key)[0] == "80" and _grade(url, key)[4] == second
    now = _loaded(url)
    assert {k for k in settled if now[k] != settled[k]} == {key, other}
