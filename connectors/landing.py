"""Land records in `raw_<id>.<resource>` exactly as received, and account for every one.

Each record becomes a row (pull_id, fetched_at, source_key, payload_hash, payload jsonb) of a
table made by `landing.ensure_raw_table` (its one definition, `include/warehouse/ddl/`), keyed
by (source_key, payload_hash): the same version seen again (another page, an
overlapping window, a re-run) adds nothing and counts as a duplicate; a changed record is a new
row and the old one stays. A batch first goes in by one COPY straight into the raw table,
inside a savepoint (the common case: new data); if a row is already there, the savepoint is
rolled back and the batch goes by COPY into a temporary table and one `insert … on conflict do
nothing`, as later batches do until one lands whole. A record that fails its field specs goes to
`landing.rejects` with its reason and raw text. Every pull has its `landing.run_log` row with
fetched = landed + duplicates + rejected.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
import psycopg
from psycopg import sql

from connectors.spec import ApiSpec, Resource
from connectors.validate import Validator
from include.rules.dates import date_parser, is_lexical

RAW_COLUMNS = ("pull_id", "fetched_at", "source_key", "payload_hash", "payload")
TEMP = "_landing_batch"
# advisory-lock class of a pull in progress (the second key is its pull_id)
PULL_LOCK = 2026_0915
RUN_LOG = (
    "pull_id", "subsystem", "resource", "dag_id", "run_id", "mode", "window_start",
    "window_end", "fetched", "landed", "duplicates", "rejected", "listed", "skipped_final",
    "started_at", "finished_at", "status", "error", "cursor_after", "note",
)  # fmt: skip
REJECT_COLUMNS = (
    "pull_id", "subsystem", "resource", "source_key", "reason_code", "field", "reason",
    "raw_text", "received_at",
)  # fmt: skip


def canonical(record: Any) -> str:
    """The text that is hashed and stored: sorted keys, compact, UTF-8 as is."""
    return json.dumps(
        record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def payload_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_ENCODER = msgspec.json.Encoder(order="sorted")
_EXPONENT = re.compile(rb"[0-9][eE]")


def canonical_bytes(record: Any, fast: bool | None = None) -> bytes:
    """`canonical(record)` as UTF-8, byte for byte, eight times faster.

    msgspec writes what json.dumps writes (checked over every code point) except floats in
    exponent form (`1e16` for `1e+16`). `fast=True`: the client saw no such float in the page
    (`client.JsonDecoder`); `None` (unknown): output with a digit before an `e` takes the json
    path; `False`: always json.
    """
    if fast is not False:
        data = _ENCODER.encode(record)
        if fast or _EXPONENT.search(data) is None:
            return data
    return canonical(record).encode("utf-8")


def _copy_text(value: str) -> bytes:
    """A text value for COPY's text format."""
    if value.isalnum():
        return value.encode("utf-8")
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        .replace("\r", "\\r").encode("utf-8")
    )  # fmt: skip


def raw_text(record: Any) -> str:
    """The record as received (key order kept); text that PostgreSQL can store."""
    if isinstance(record, str):
        text = record
    else:
        try:
            text = json.dumps(record, ensure_ascii=False)
            text.encode("utf-8")
        except (TypeError, ValueError):
            text = json.dumps(record, ensure_ascii=True, default=repr)
    return text.replace("\x00", "\\u0000")


class Landing:
    """One pull of one resource into the warehouse, on an autocommit connection."""

    def __init__(self, conn: psycopg.Connection, spec: ApiSpec, res: Resource, *, title: str = ""):
        self.conn, self.spec, self.res = conn, spec, res
        self.validator = Validator(res)
        self.table = sql.SQL("{}.{}").format(
            sql.Identifier(f"raw_{spec.subsystem}"), sql.Identifier(res.name)
        )
        self.title = title
        self.pull_id: int | None = None
        self.fetched = self.landed = self.duplicates = self.rejected = 0
        # list-ids-then-get: ids listed (None for other resources) = fetched + skipped as final
        self.listed: int | None = 0 if res.detail is not None else None
        self.skipped_final = 0
        self._skipped = 0  # skipped ids of the open batch, counted when it commits
        self.cursor_max: datetime | None = None
        self.cursor_until: datetime | None = None  # values at or after the window's end are
        # not trusted as a high-water mark (a clock running ahead would skip real records)
        self._cursor_parse: Callable | None = (
            date_parser(res.cursor.format) if res.cursor is not None else None
        )
        # A format whose text sorts in time order: the page's latest cursor value is found by
        # comparing strings and parsed once, instead of parsing every record's.
        self._lexical = res.cursor is not None and is_lexical(res.cursor.format)
        self._lines: list[bytes] = []  # COPY text lines of accepted rows
        self._seen: set = set()  # versions (hash, or key and hash) in the open batch
        self._repeats = 0  # rows of the buffered batch already in it
        self._rejects: list[tuple] = []
        self._temp_ready = False
        self._fast = True  # try COPY straight into raw
        self._cols = sql.SQL(", ").join(map(sql.Identifier, RAW_COLUMNS))
        self._tx = self._savepoint = self._copy_cm = self._copy = None

    # -- the table ------------------------------------------------------------------------
    def ensure_table(self) -> None:
        desc = self.res.description or self.res.name
        comment = f"{self.title}：{desc}（原始层，逐条原样保存；子系统 {self.spec.subsystem}）"
        key = "、".join(self.res.primary_key) or "id"
        # the raw table's one definition: include/warehouse/ddl/015_raw_tables.sql
        self.conn.execute(
            "select landing.ensure_raw_table(%s, %s, %s, %s)",
            [f"raw_{self.spec.subsystem}", self.res.name, comment,
             f"源系统主键（{key}；复合主键以 | 连接）"],
        )  # fmt: skip

    # -- the run log ----------------------------------------------------------------------
    def start(self, mode: str, window: tuple | None, dag_id: str | None, run_id: str | None) -> int:
        self.close_interrupted()
        row = self.conn.execute(
            "insert into landing.run_log (subsystem, resource, dag_id, run_id, mode,"
            " window_start, window_end, status) values (%s, %s, %s, %s, %s, %s, %s, 'running')"
            # the row becomes visible with its lock already held (close_interrupted)
            f" returning pull_id, started_at, pg_advisory_lock({PULL_LOCK}, pull_id::int)",
            [self.spec.subsystem, self.res.name, dag_id, run_id, mode,
             window[0] if window else None, window[1] if window else None],
        ).fetchone()  # fmt: skip
        # the lock is held by this session until it ends: a 'running' row whose lock nobody
        # holds belongs to a pull that cannot finish any more (close_interrupted)
        self.pull_id, self.started_at, _ = row
        self.cursor_until = window[1] if window else None
        return self.pull_id

    def close_interrupted(self) -> list[int]:
        """Mark this resource's pulls that stopped without finishing as failed, with counts.

        A pull killed mid-run (SIGKILL, a lost worker) or cut off from the warehouse (a restart)
        never reaches `finish`: its row would say 'running' for ever. Its session-level advisory
        lock died with its session, which is how such a row is told from a pull still running.
        What its committed batches landed stays (and counts); its rolled-back batch comes again
        with this pull, deduplicated. No lock is kept that could block the next pull.
        """
        stale = self.conn.execute(
            "select pull_id from landing.run_log r where subsystem = %s and resource = %s"
            " and status = 'running' and not exists (select 1 from pg_locks l"
            "  where l.locktype = 'advisory' and l.classid::bigint = %s"
            "  and l.objid::bigint = r.pull_id and l.objsubid = 2 and l.granted"
            "  and l.database = (select oid from pg_database where datname = current_database()))",
            [self.spec.subsystem, self.res.name, PULL_LOCK],
        ).fetchall()
        closed = []
        for (pull_id,) in stale:
            landed = self.conn.execute(
                sql.SQL("select count(*) from {} where pull_id = %s").format(self.table), [pull_id]
            ).fetchone()[0]
            rejected = self.conn.execute(
                "select count(*) from landing.rejects where pull_id = %s", [pull_id]
            ).fetchone()[0]
            reason = (
                f"拉取中断：拉取 {pull_id} 未能正常结束（采集进程被强制终止，或与数据仓库的连接"
                f"中断、仓库重启）；已提交的 {landed} 条新版本与 {rejected} 条拒收记录保留，"
                "未提交的部分已回滚，由之后的拉取重新读取（重复记录自动去重），无需人工处理"
            )
            self.conn.execute(
                "update landing.run_log set status = 'failed', finished_at = clock_timestamp(),"
                " landed = %s, rejected = %s, duplicates = 0, fetched = %s,"
                " listed = case when listed is null then null else %s + skipped_final end,"
                " error = %s where pull_id = %s and status = 'running'",
                [landed, rejected, landed + rejected, landed + rejected, reason, pull_id],
            )
            closed.append(pull_id)
        return closed

    def finish(
        self, status: str, error: str | None = None, note: str | None = None, reset: bool = False
    ) -> dict:
        """End the pull's run-log row; a success moves the cursor forward (`reset`: sets it to
        this pull's high-water mark even if lower: a full re-read after the source went back)."""
        cursor_after = self.cursor_max.isoformat() if self.cursor_max else None
        keep = "excluded.cursor_value" if reset else (
            "greatest(landing.cursors.cursor_value, excluded.cursor_value)"
        )  # fmt: skip
        with self.conn.transaction():
            row = self.conn.execute(
                "update landing.run_log set fetched = %s, landed = %s, duplicates = %s,"
                " rejected = %s, listed = %s, skipped_final = %s,"
                " finished_at = clock_timestamp(), status = %s, error = %s, note = %s,"
                f" cursor_after = %s where pull_id = %s returning {', '.join(RUN_LOG)}",
                [self.fetched, self.landed, self.duplicates, self.rejected, self.listed,
                 self.skipped_final, status, error, note, cursor_after, self.pull_id],
            ).fetchone()  # fmt: skip
            if status == "success" and reset and self.cursor_max is None:
                self.conn.execute(
                    "delete from landing.cursors where subsystem = %s and resource = %s",
                    [self.spec.subsystem, self.res.name],
                )
            if status == "success" and self.cursor_max is not None:
                self.conn.execute(
                    "insert into landing.cursors (subsystem, resource, cursor_field,"
                    " cursor_value, pull_id) values (%s, %s, %s, %s, %s)"
                    " on conflict (subsystem, resource) do update set"
                    f" cursor_value = {keep},"
                    " cursor_field = excluded.cursor_field, pull_id = excluded.pull_id,"
                    " updated_at = now()",
                    [self.spec.subsystem, self.res.name, self.res.cursor.field,
                     self.cursor_max, self.pull_id],
                )  # fmt: skip
        return dict(zip(RUN_LOG, row, strict=True))

    # -- what need not be fetched again ----------------------------------------------------
    def final_keys(self) -> set[str]:
        """Source keys whose landed (latest) version is final by the resource's `detail.final`:
        the source no longer changes them, so an incremental pull need not get them again."""
        final = self.res.detail.final if self.res.detail is not None else ()
        if not final:
            return set()
        tests, params = [], [self.table.as_string(self.conn)]
        for c in final:
            if c.exists:  # present, not JSON null, not ""
                tests.append("coalesce(r.payload #>> %s::text[], '') <> ''")
                params.append(c.path.split("."))
            else:
                tests.append("r.payload #>> %s::text[] = any(%s::text[])")
                params += [c.path.split("."), list(c.values)]
        rows = self.conn.execute(
            "select r.source_key from landing.latest_versions(%s::regclass) as r where "
            + " and ".join(tests),
            params,
        )
        return {key for (key,) in rows}

    # -- records --------------------------------------------------------------------------
    def add(
        self, records: list, keys: list | None, fetched_at: datetime, fast=None, skipped: int = 0
    ) -> None:
        """Validate a page, and stream its accepted rows into the open batch's COPY.

        The hot loop of a pull (a million card transactions): one dict lookup per checked
        field, one msgspec encode, one sha256 and one COPY line per record. While this thread
        prepares the next page, PostgreSQL is already storing the previous one.
        """
        self._skipped += skipped  # ids listed but not fetched (final): counted at commit
        key_of = self.validator.key
        prefix = b"%d\t%s\t" % (self.pull_id, fetched_at.isoformat().encode())
        accepted, lines = [], []
        for i, rec in enumerate(records):
            key = keys[i] if keys is not None else (key_of(rec) if type(rec) is dict else None)
            data, problem = self._encoded(rec, key, fast)
            if problem is not None:
                self._reject(rec, key, problem, fetched_at)
                continue
            line = self._new_version(key, data, prefix, by_key=keys is not None)
            if line is not None:
                lines.append(line)
                accepted.append(rec)
        if self.res.cursor is not None:
            self._cursor_from(accepted, records)
        if lines:
            self._lines.extend(lines)  # kept: the careful way needs them if the COPY fails
            if self._fast:
                self._stream(b"".join(lines))

    def _encoded(self, rec: Any, key: str | None, fast) -> tuple[bytes | None, tuple | None]:
        """(canonical JSON bytes, None) for a storable valid record, else (None, defect)."""
        problem = self.validator.check(rec, key)
        if problem is not None:
            return None, problem
        try:
            data = _ENCODER.encode(rec) if fast else canonical_bytes(rec, fast)
        except (ValueError, TypeError, UnicodeError, msgspec.EncodeError):
            return None, _NOT_STORABLE
        if b"\\u0000" in data or "\x00" in key:
            return None, _NOT_STORABLE
        return data, None

    def _reject(self, rec: Any, key: str | None, problem: tuple, fetched_at: datetime) -> None:
        code, field, reason = problem
        self._rejects.append((self.pull_id, self.spec.subsystem, self.res.name, key, code,
                              field, reason, raw_text(rec), fetched_at))  # fmt: skip

    def _new_version(self, key: str, data: bytes, prefix: bytes, by_key: bool) -> bytes | None:
        """The COPY line of a version not yet seen in this batch (None for a repeat).

        The key is part of the payload, so the hash alone names the version; not so for
        list-ids-then-get (`by_key`), where the key comes from the listing.
        """
        digest = hashlib.sha256(data).hexdigest()
        version = (key, digest) if by_key else digest
        if version in self._seen:
            self._repeats += 1
            return None
        self._seen.add(version)
        return b"%s%s\t%s\t%s\n" % (
            prefix, _copy_text(key), digest.encode(), data.replace(b"\\", b"\\\\")
        )  # fmt: skip

    def _cursor_from(self, accepted: list, records: list) -> None:
        """Track the page's latest cursor value among its accepted records."""
        cfield = self.res.cursor.field
        if self._lexical:  # text order is time order: only the largest string is parsed
            texts = [v for r in accepted if type(v := r.get(cfield)) is str]
            self._track_cursor(max(texts, default=None), None, records)
        else:
            values = [v for r in accepted if (v := r.get(cfield)) is not None and v != ""]
            self._track_cursor(None, values, records)

    def _track_cursor(self, top, accepted: list | None, records: list) -> None:
        """Move the pull's high-water mark to the page's latest valid cursor value."""
        parse, until = self._cursor_parse, self.cursor_until
        candidates = [top] if accepted is None else accepted
        best = None
        for value in candidates:
            if value is None:
                continue
            try:
                when = parse(value)
            except (ValueError, TypeError, OverflowError, OSError):
                when = None
            if when is None or (until is not None and when >= until):
                if accepted is None:  # the lexical maximum is unusable: look at every record
                    values = [r.get(self.res.cursor.field) for r in records if type(r) is dict]
                    self._track_cursor(None, [v for v in values if v not in (None, "")], [])
                    return
                continue
            if best is None or when > best:
                best = when
        if best is not None and (self.cursor_max is None or best > self.cursor_max):
            self.cursor_max = best

    @property
    def buffered(self) -> int:
        return len(self._lines) + len(self._rejects) + self._repeats

    def _begin(self) -> None:
        if self._tx is None:
            self._tx = self.conn.transaction()
            self._tx.__enter__()

    def _stream(self, data: bytes) -> None:
        """Write rows to a COPY straight into raw, opened at the batch's first page."""
        if self._copy is None:
            self._begin()
            self._savepoint = self.conn.transaction(savepoint_name="landing_fast")
            self._savepoint.__enter__()
            self._copy_cm = self.conn.cursor().copy(
                sql.SQL("copy {} ({}) from stdin").format(self.table, self._cols)
            )
            self._copy = self._copy_cm.__enter__()
        self._copy.write(data)

    def flush(self) -> None:
        """End the batch: its rows and rejects commit together; count them once committed."""
        lines, rejects, repeats, skipped = self._lines, self._rejects, self._repeats, self._skipped
        if not lines and not rejects and not repeats and not skipped and self._tx is None:
            return
        self._lines, self._rejects, self._seen, self._repeats = [], [], set(), 0
        self._skipped = 0
        try:
            self._begin()
            landed = self._land(lines) if lines else 0
            if rejects:
                with self.conn.cursor().copy(
                    sql.SQL("copy landing.rejects ({}) from stdin").format(
                        sql.SQL(", ").join(map(sql.Identifier, REJECT_COLUMNS))
                    )
                ) as copy:
                    for r in rejects:
                        copy.write_row(r)
        except BaseException as exc:
            self.abort(exc)
            raise
        tx, self._tx = self._tx, None
        tx.__exit__(None, None, None)  # commit
        self.fetched += len(lines) + repeats + len(rejects)
        self.landed += landed
        self.duplicates += len(lines) - landed + repeats
        self.rejected += len(rejects)
        if self.listed is not None:
            self.listed += len(lines) + repeats + len(rejects) + skipped
            self.skipped_final += skipped

    def abort(self, exc: BaseException | None = None) -> None:
        """Roll back the open batch (its rows will come again with the next pull)."""
        info = (type(exc), exc, exc.__traceback__) if exc else (RuntimeError, None, None)
        for name in ("_copy_cm", "_savepoint", "_tx"):
            cm = getattr(self, name)
            setattr(self, name, None)
            if cm is not None:
                try:
                    cm.__exit__(*info)
                except Exception:
                    pass
        self._copy = None
        self._lines, self._rejects, self._seen, self._repeats = [], [], set(), 0
        self._skipped = 0

    def _land(self, lines: list[bytes]) -> int:
        if self._copy is not None:
            copy_cm, savepoint = self._copy_cm, self._savepoint
            self._copy = self._copy_cm = self._savepoint = None
            try:
                copy_cm.__exit__(None, None, None)  # the server's verdict on the whole stream
            except psycopg.errors.UniqueViolation as exc:
                savepoint.__exit__(type(exc), exc, exc.__traceback__)  # back to the savepoint
            else:
                savepoint.__exit__(None, None, None)
                return len(lines)
        # The careful way: COPY into a temporary table, then insert what is not there yet.
        cur = self.conn.cursor()
        if not self._temp_ready:
            cur.execute(
                f"create temp table if not exists {TEMP} (pull_id bigint, fetched_at timestamptz,"
                " source_key text, payload_hash text, payload jsonb) on commit delete rows"
            )
            self._temp_ready = True
        temp = sql.Identifier(TEMP)
        with cur.copy(sql.SQL("copy {} ({}) from stdin").format(temp, self._cols)) as copy:
            copy.write(b"".join(lines))
        insert = "insert into {} ({cols}) select {cols} from {tmp} on conflict do nothing"
        cur.execute(sql.SQL(insert).format(self.table, cols=self._cols, tmp=temp))
        landed = cur.rowcount
        if landed < len(lines):
            landed += self._restamp(cur)
        # A batch that met existing rows (a re-run, an overlapping window) says the next may
        # too: stay careful until a batch lands whole.
        self._fast = landed == len(lines)
        return landed

    def _restamp(self, cur: psycopg.Cursor) -> int:
        """A record that changed and then changed back (A → B → A) is current again.

        Its (key, hash) row already exists, so the insert added nothing; without this, dbt's
        "latest version per key" would still show B. The existing A row is re-stamped with
        this pull and time (the only update landing ever makes to raw), and counts as landed.
        """
        cur.execute(
            sql.SQL(
                "update {t} r set fetched_at = s.fetched_at, pull_id = s.pull_id"
                " from (select distinct on (source_key) source_key, payload_hash, fetched_at,"
                "       pull_id from {tmp} order by source_key, fetched_at desc) s"
                " where r.source_key = s.source_key and r.payload_hash = s.payload_hash"
                "   and r.pull_id <> s.pull_id"
                "   and exists (select 1 from {t} l where l.source_key = s.source_key"
                "       and l.payload_hash <> s.payload_hash"
                "       and (l.fetched_at, l.pull_id) > (r.fetched_at, r.pull_id))"
            ).format(t=self.table, tmp=sql.Identifier(TEMP))
        )
        return cur.rowcount


_NOT_STORABLE = (
    "not_storable",
    None,
    "记录含 PostgreSQL 无法保存的内容（\\u0000、不成对的 UTF-16 代理字符或 NaN/Infinity）；"
    "请源系统清理该记录后重新提交。",
)
