"""Current records per resource, and sorted views of them as the API serves them."""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Sequence

from .faults import Faults
from .rng import unit
from .spec import Spec, Vendor

Key = str | int | tuple[str, ...]


def dumps(record: object) -> bytes:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()


def key_text(key: Key) -> str:
    return "\x1f".join(key) if isinstance(key, tuple) else str(key)


def sort_key(key: Key) -> int | str:
    return key if isinstance(key, int) else key_text(key)


class Table:
    """One resource's current records: ``{key: (cursor_ts, record)}`` to its users.

    Kept compact (issue 14): per record one tuple ``(ts, field names, *values)`` instead of
    a dict, the field-name tuple shared by every record of the same shape. A dict of ten
    fields costs about 650 bytes before its values, the tuple about 150. Reading a record
    builds a fresh dict in the stored field order, so the JSON served is the same; callers
    copy before they change a record and ``put`` it back, as they always did.
    """

    __slots__ = ("rows", "shapes")

    def __init__(self) -> None:
        self.rows: dict[Key, tuple] = {}
        self.shapes: dict[tuple[str, ...], tuple[str, ...]] = {}

    def __setitem__(self, key: Key, value: tuple[int, dict]) -> None:
        ts, record = value
        names = tuple(record)
        names = self.shapes.setdefault(names, names)
        self.rows[key] = (ts, names, *record.values())

    def __getitem__(self, key: Key) -> tuple[int, dict]:
        row = self.rows[key]
        return row[0], unpack(row)

    def get(self, key: Key, default=None):
        row = self.rows.get(key)
        return default if row is None else (row[0], unpack(row))

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def keys(self):
        return self.rows.keys()

    def values(self):
        return ((row[0], unpack(row)) for row in self.rows.values())

    def items(self):
        return ((key, (row[0], unpack(row))) for key, row in self.rows.items())


def unpack(row: tuple) -> dict:
    """The record of a compact table row, as a new dict."""
    return dict(zip(row[1], row[2:], strict=True))


class Store:
    """Latest version of every record: {(subsystem, resource): {key: (cursor_ts, record)}}.

    Day events are generated only for days before *now*, so the latest version put is
    always the current one; no history needs keeping.
    """

    def __init__(self) -> None:
        self.tables: dict[tuple[str, str], Table] = {}

    def put(self, spec: Spec, key: Key, ts: int, record: dict) -> None:
        self.table(spec)[key] = (ts, record)

    def get(self, spec: Spec, key: Key) -> dict | None:
        row = self.tables.get(spec.name, {}).get(key)
        return row[1] if row else None

    def table(self, spec: Spec) -> Table:
        table = self.tables.get(spec.name)
        if table is None:
            table = self.tables[spec.name] = Table()
        return table


class Served(Sequence):
    """The served records of a compact table, each built when asked for.

    A view used to hold every record as a dict for as long as the clock stood still; this
    holds the stored tuples (rows ``lo..hi-1`` of ``rows``) and, for the few records a
    record-level fault changed, the served record itself (``changed``, by row).
    """

    def __init__(self, rows: list[tuple], changed: dict[int, dict], lo: int = 0, hi=None):
        self.rows = rows
        self.changed = changed
        self.lo = lo
        self.hi = len(rows) if hi is None else hi

    def __len__(self) -> int:
        return self.hi - self.lo

    def __getitem__(self, n):
        if isinstance(n, slice):
            i, j, step = n.indices(len(self))
            if step != 1:
                raise ValueError("step slices are not supported")
            return Served(self.rows, self.changed, self.lo + i, self.lo + max(i, j))
        if n < 0:
            n += len(self)
        if not 0 <= n < len(self):
            raise IndexError(n)
        m = self.lo + n
        served = self.changed.get(m)
        return unpack(self.rows[m]) if served is None else served

    def __iter__(self):
        rows, changed = self.rows, self.changed
        for m in range(self.lo, self.hi):
            served = changed.get(m)
            yield unpack(rows[m]) if served is None else served


class Rows:
    """A window of served rows: keys, records and their JSON, in API order."""

    def __init__(self, keys: Sequence[Key], records: Sequence[dict], frags: list | None = None):
        self.keys = keys
        self.records = records
        self._frags = frags if frags is not None else [None] * len(keys)

    def __len__(self) -> int:
        return len(self.keys)

    def json(self, i: int, j: int) -> bytes:
        """Rows ``i..j-1`` as comma-joined JSON objects."""
        frags = self._frags
        out = []
        for n in range(max(i, 0), min(j, len(self.keys))):
            frag = frags[n]
            if frag is None:
                frag = frags[n] = dumps(self.records[n])
            out.append(frag)
        return b",".join(out)

    def key_slice(self, i: int, j: int) -> list[Key]:
        return list(self.keys[i:j])

    def items(self, i: int = 0, j: int | None = None) -> list[tuple[Key, dict]]:
        j = len(self.keys) if j is None else j
        return list(zip(self.keys[i:j], self.records[i:j], strict=True))

    def filter(self, keep: Callable[[dict], bool]) -> Rows:
        picked = [n for n, record in enumerate(self.records) if keep(record)]
        return Rows(
            [self.keys[n] for n in picked],
            [self.records[n] for n in picked],
            [self._frags[n] for n in picked],
        )


class View:
    """One resource as served now: sorted by (cursor, key), record faults applied."""

    def __init__(self, spec: Spec, vendor: Vendor, table: dict, faults: Faults):
        self.defects = []
        if isinstance(table, Table):
            entries = sorted(table.rows.items(), key=lambda e: (e[1][0], sort_key(e[0])))
            self.ts = [row[0] for _, row in entries]
            keys = [k for k, _ in entries]
            changed = {}
            for n, (key, row) in enumerate(entries if any(faults.record_rates()) else ()):
                record = unpack(row)
                served, defect = faults.apply(spec, vendor, key_text(key), record)
                if served is not record:
                    changed[n] = served
                if defect:
                    self.defects.append(
                        {"key": _served_key(key, defect), "truth_key": key, **defect}
                    )
            records = Served([row for _, row in entries], changed)
        else:
            entries = sorted(table.items(), key=lambda e: (e[1][0], sort_key(e[0])))
            self.ts = [ts for _, (ts, _) in entries]
            keys = [k for k, _ in entries]
            records = []
            for key, (_, record) in entries:
                served, defect = faults.apply(spec, vendor, key_text(key), record)
                records.append(served)
                if defect:
                    self.defects.append(
                        {"key": _served_key(key, defect), "truth_key": key, **defect}
                    )
        self.rows = Rows(keys, records, None)
        self._index: dict | None = None  # key -> row, built on the first get()
        self.spec = spec
        self._order: list | None = None
        self.conflict: Key | None = None  # the record served twice (second_version)

    def second_version(self, seed: int, field: str, value: str, page: int = 500) -> Key | None:
        """Serve one record twice in a row, the second time edited (a record changed while
        it was being listed). The record is picked by seed, away from a page boundary so a
        keyset listing returns both versions."""
        candidates = [n for n in range(len(self.ts)) if n % page < page - 2]
        if not candidates:
            return None
        n = candidates[int(unit(seed, "second-version", self.spec.name) * len(candidates))]
        key, record = self.rows.keys[n], self.rows.records[n]
        keys, records = list(self.rows.keys), list(self.rows.records)
        keys.insert(n + 1, key)
        records.insert(n + 1, {**record, field: value})
        self.ts.insert(n + 1, self.ts[n])
        self.rows = Rows(keys, records, None)
        self._index = None
        self._order = None
        self.conflict = key
        return key

    def window(self, lo: int | None, hi: int | None) -> Rows:
        if self.spec.full_refresh or (lo is None and hi is None):
            return self.rows
        i, j = self.bounds(lo, hi)
        return Rows(self.rows.keys[i:j], self.rows.records[i:j], self.rows._frags[i:j])

    def get(self, key: Key) -> dict | None:
        if self._index is None:
            self._index = {k: n for n, k in enumerate(self.rows.keys)}
        n = self._index.get(key)
        return None if n is None else self.rows.records[n]

    def bounds(self, lo: int | None, hi: int | None) -> tuple[int, int]:
        """Index range of the rows whose cursor is in [lo, hi)."""
        i = 0 if lo is None else bisect.bisect_left(self.ts, lo)
        j = len(self.ts) if hi is None else bisect.bisect_left(self.ts, hi)
        return i, j

    def after(self, ts: int, key: Key) -> int:
        """Index of the first row strictly after the keyset position (ts, key)."""
        if self._order is None:
            self._order = [(t, sort_key(k)) for t, k in zip(self.ts, self.rows.keys, strict=True)]
        return bisect.bisect_right(self._order, (ts, sort_key(key)))


def _served_key(key: Key, defect: dict) -> Key | None:
    return None if defect["defect_class"] == "missing_key" else key
