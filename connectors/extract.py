"""Walk one resource as its YAML describes it and yield pages of records.

On top of the client's requests and paging this adds the parts of a pull that are about the
data rather than HTTP:

- **windows**: the incremental window `[since, until)` on the cursor field, split into spans
  the vendor accepts (`max_span`, e.g. 31 days for card transactions, 7 for DingTalk
  attendance), written in the vendor's parameter format;
- **for_each**: one listing per value of a parent resource (DingTalk users per department,
  attendance per batch of 50 users), the parent walked the same way but not landed, or per
  value of a fixed list (DingTalk approval process codes configured for the app);
- **recurse**: tree listings (DingTalk departments: children of each department);
- **detail**: list ids, then get each one (DingTalk approvals); the id becomes the source key;
  ids in `skip` (their landed version is final, `detail.final`) are listed but not fetched;
- **page drift**: page/offset listings that report a total are re-read while the unique
  records seen are fewer than the total (rows inserted or deleted mid-read shift the pages).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import methodcaller
from typing import Any

from connectors.client import ApiError, Client
from connectors.spec import ApiSpec, Resource, lookup
from include.rules.dates import TZ, format_date

MAX_PASSES = 6
log = logging.getLogger(__name__)


@dataclass
class Page:
    records: list
    keys: list[str] | None  # source keys given by the listing (list-ids-then-get), else None
    fetched_at: datetime
    strict: bool = True  # decoded as strict JSON (landing may use the fast canonical encoder)
    skipped: int = 0  # ids listed on this page but not fetched: their landed version is final


def as_datetime(value: Any) -> datetime:
    """A window bound: a datetime, an ISO date(-time) (naive = Shanghai) or -365d / -12h."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=TZ)
    text = str(value)
    if text.startswith("-"):
        unit = {"d": "days", "h": "hours"}[text[-1]]
        return datetime.now(TZ) - timedelta(**{unit: int(text[1:-1])})
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=TZ)


def split_window(since: datetime, until: datetime, span: timedelta | None) -> list[tuple]:
    """[since, until) in pieces of at most `span` of elapsed time (UTC arithmetic: Shanghai
    kept summer time in 1986–1991, and a 31-day window across it would be 31 days + 1 h)."""
    if span is None or until - since <= span:
        return [(since, until)]
    out, start, until = [], since.astimezone(UTC), until.astimezone(UTC)
    while start < until:
        end = min(start + span, until)
        out.append((start.astimezone(TZ), end.astimezone(TZ)))
        start = end
    return out


class Extractor:
    def __init__(
        self,
        client: Client,
        spec: ApiSpec,
        identity: Callable[[Any], str | None],
        skip: Container[str] = frozenset(),
    ):
        self.client, self.spec, self.identity = client, spec, identity
        self.skip = skip  # source keys of a detail resource not to get again (final versions)
        self.passes = 0  # listings re-read because of page drift
        self.unreachable: dict[tuple, set] = {}  # (parent, field) → records listed without it
        self.listings = 0

    def pages(self, res: Resource, window: tuple[datetime, datetime] | None) -> Iterator[Page]:
        spans = [None] if window is None or res.cursor is None else split_window(
            window[0], window[1], res.cursor.max_span
        )  # fmt: skip
        parents = self._parent_params(res) if res.for_each else [{}]
        for span in spans:
            base = dict(res.params)
            if span is not None:
                c = res.cursor
                base[c.since_param] = format_date(span[0], c.param_format)
                if c.until_param:
                    until = span[1] - timedelta(seconds=1) if c.until_inclusive else span[1]
                    base[c.until_param] = format_date(until, c.param_format)
            for extra in parents:
                yield from self._listing(res, {**base, **extra})

    # -- parents and trees ----------------------------------------------------------------
    def _parent_params(self, res: Resource) -> list[dict]:
        """One parameter set per parent value (or per batch of them): the fixed `values`,
        `include`, then each new value the parent resource lists."""
        fe = res.for_each
        values: list = []
        seen: set[str] = set()
        for v in (*fe.values, *fe.include, *self._parent_values(res)):
            if json.dumps(v) not in seen:
                seen.add(json.dumps(v))
                values.append(v)
        if fe.batch:
            return [{fe.param: values[i : i + fe.batch]} for i in range(0, len(values), fe.batch)]
        return [{fe.param: v} for v in values]

    def _parent_values(self, res: Resource) -> Iterator[Any]:
        fe = res.for_each
        if fe.resource is None:
            return
        parent = self.spec.resources[fe.resource]
        window = None
        if parent.cursor is not None:  # the parent's whole history
            window = (
                as_datetime(parent.cursor.initial),
                datetime.now(TZ) + parent.cursor.until_margin,
            )
        for page in self.pages(parent, window):
            for rec in page.records:
                if isinstance(rec, dict) and rec.get(fe.field) not in (None, ""):
                    yield rec[fe.field]
                else:  # once each, however often overlapping pages serve it
                    missing = self.unreachable.setdefault((fe.resource, fe.field), set())
                    missing.add(json.dumps(rec, sort_keys=True, default=str))

    def _listing(self, res: Resource, params: dict) -> Iterator[Page]:
        if res.recurse is None:
            yield from self._verified(res, params)
            return
        queue, visited = [params], {json.dumps(params.get(res.recurse.param))}
        while queue:
            current = queue.pop(0)
            for page in self._verified(res, current):
                yield page
                for rec in page.records:
                    value = rec.get(res.recurse.field) if isinstance(rec, dict) else None
                    if value is not None and json.dumps(value) not in visited:
                        visited.add(json.dumps(value))
                        queue.append({**params, res.recurse.param: value})

    # -- one listing, re-read while pages drifted -----------------------------------------
    def _verified(self, res: Resource, params: dict) -> Iterator[Page]:
        p = res.pagination
        verify = p.verify_total and p.type in ("page_number", "offset") and p.total
        seen: set[str] = set()
        for attempt in range(1, MAX_PASSES + 1):
            self.listings += 1
            total = None
            ident = (lambda x: str(x)) if res.detail is not None else self._identity
            for records, meta in self.client.pages(res, params, identity=ident):
                fetched_at = datetime.now(TZ)
                keys, strict, skipped = None, meta.get("strict", True), 0
                if res.detail is not None:
                    if verify:  # every listed id counts as seen, fetched or not
                        self._remember(seen, res, [], [str(i) for i in records])
                    records, keys, strict, skipped = self._details(res, records)
                elif verify:
                    self._remember(seen, res, records, keys)
                if meta.get("total") is not None:
                    total = meta["total"]
                yield Page(records, keys, fetched_at, strict, skipped)
            if not verify or total is None or len(seen) >= total:
                return
            self.passes += 1
            log.warning(
                "%s.%s: %d unique records of a reported %d (page drift); re-reading (pass %d)",
                self.spec.subsystem, res.name, len(seen), total, attempt + 1,
            )  # fmt: skip
        raise ApiError(
            f"{self.spec.subsystem}.{res.name}: 分页漂移 page drift: 读 {MAX_PASSES} 遍仍只有 "
            f"{len(seen)} 条不同记录，接口报告 {total} 条，请稍后重新采集 (unique records of the "
            f"reported total after {MAX_PASSES} reads of {params}; pull again later)"
        )

    @staticmethod
    def _remember(seen: set, res: Resource, records: list, keys: list | None) -> None:
        """Add a page's record identities to `seen` (the drift check counts them)."""
        if keys is not None:
            seen.update(keys)
            return
        if len(res.primary_key) == 1:
            try:  # a C-level loop: this runs for every record of every verified listing
                found = list(map(methodcaller("get", res.primary_key[0]), records))
            except AttributeError:  # a record that is not an object
                found = None
            if found is not None and None not in found and "" not in found:
                seen.update(found)
                return
        for rec in records:
            seen.add(Extractor._identity_of(res, rec))

    @staticmethod
    def _identity_of(res: Resource, record: Any) -> Any:
        if isinstance(record, dict):
            parts = [record.get(f) for f in res.primary_key]
            if all(p not in (None, "") for p in parts):
                return parts[0] if len(parts) == 1 else tuple(parts)
        return "\x00" + json.dumps(record, sort_keys=True)

    def _identity(self, record: Any) -> str:
        key = self.identity(record) if isinstance(record, dict) else None
        return key if key is not None else "\x00" + json.dumps(record, sort_keys=True)

    def _details(self, res: Resource, ids: list) -> tuple[list, list, bool, int]:
        d = res.detail
        records, keys, strict, skipped = [], [], True, 0
        for item in ids:
            if item not in (None, "") and str(item) in self.skip:
                skipped += 1
                continue
            body = self.client.request(
                d.method, d.path, params={d.id_param: item}, body_style=d.body, resource=res
            )
            strict = strict and self.client.strict
            found, record = lookup(body, d.records)
            records.append(record if found else None)
            keys.append(str(item) if item not in (None, "") else None)
        return records, keys, strict, skipped
