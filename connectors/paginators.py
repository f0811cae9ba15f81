"""One class per `pagination.type` of the YAML, on dlt's paginator model.

A paginator is made fresh for each listing. It sets the first request (`init_request`), reads
each answer (`update_state`), says whether another page follows (`has_next_page`) and moves
the request on (`update_request`); `pages` drives that loop with a `fetch(request)` the client
supplies. Offset paging with `overlap` (DingTalk) re-reads pages, so it drives its own loop.

`check(config)` holds the rules of each type (which keys it needs, its end signal), next to the
code that uses them; the `pagination:` model of `include/registry.py` (the one validator: key
names and value types) calls it and turns a `ConfigProblem` into its one-line error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from connectors.spec import lookup

# (records, body) for one request
Fetch = Callable[["Request"], tuple[list, Any]]
Identity = Callable[[Any], Any]


class ConfigProblem(ValueError):
    """A config mapping is wrong: `key` (relative, "" or ".name"), problem and fix (each in
    Chinese with the English in brackets)."""

    def __init__(self, key: str, problem: str, fix: str):
        super().__init__(f"{key}: {problem} ({fix})")
        self.key, self.problem, self.fix = key, problem, fix


@dataclass
class Request:
    """What the next request adds to the resource's own parameters (or a verbatim URL)."""

    params: dict = field(default_factory=dict)
    url: str | None = None  # next_link: the vendor's next URL, requested as it is


class Paginator:
    """`single`: one request, no paging parameters."""

    type: ClassVar[str] = "single"
    needs: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any, note: Callable[[str], None] = lambda kind: None):
        self.config = config  # connectors.spec.Pagination
        self.note = note  # counts a kind of re-read in the client's stats
        self.has_next_page = True

    @classmethod
    def check(cls, data: dict) -> None:
        """The rules of this type for a `pagination:` mapping (keys and value types are the
        model's)."""
        for key in cls.needs:
            value = data.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ConfigProblem(
                    f".{key}", f"{cls.type} 分页缺少 (missing or empty)", f"添加 (add) `{key}:`"
                )
        if data.get("overlap") and cls.type != "offset":
            raise ConfigProblem(
                ".overlap", "只有 offset 分页可以重叠 (only offset paging can overlap)",
                "删除它 (remove it)",
            )  # fmt: skip

    # -- shared readings of a page ----------------------------------------------------------
    @property
    def size_params(self) -> dict:
        c = self.config
        return {c.size_param: c.size} if c.size_param and c.size else {}

    def total(self, body: Any) -> int | None:
        if not self.config.total:
            return None
        found, value = lookup(body, self.config.total)
        try:
            return int(value) if found and value is not None else None
        except (TypeError, ValueError):
            return None

    def more(self, body: Any) -> bool:
        """The answer's `has_more` flag (True when the YAML names none)."""
        if not self.config.has_more:
            return True
        found, value = lookup(body, self.config.has_more)
        return bool(found and value)

    # -- the dlt protocol -------------------------------------------------------------------
    def init_request(self, request: Request) -> None:
        pass

    def update_state(self, body: Any, records: list) -> None:
        self.has_next_page = False

    def update_request(self, request: Request) -> None:
        pass

    def pages(self, fetch: Fetch, identity: Identity) -> Iterator[tuple[list, dict]]:
        """Each page of one listing: (records, {"total": the reported total or None})."""
        request = Request()
        self.init_request(request)
        while True:
            records, body = fetch(request)
            yield records, {"total": self.total(body)}
            self.update_state(body, records)
            if not self.has_next_page:
                return
            self.update_request(request)


class PageNumberPaginator(Paginator):
    """`page_number`: page 1, 2, … until the reported page count, or a short page."""

    type = "page_number"
    needs = ("page_param", "size_param")

    def init_request(self, request: Request) -> None:
        self.page = self.first = self.config.start if self.config.start is not None else 1
        request.params = {self.config.page_param: self.page, **self.size_params}

    def _page_count(self, body: Any) -> int | None:
        c = self.config
        if c.pages:
            found, value = lookup(body, c.pages)
            if found and value is not None:
                return int(value)
        total = self.total(body)
        return -(-total // c.size) if total is not None and c.size else None

    def update_state(self, body: Any, records: list) -> None:
        pages = self._page_count(body)
        if pages is not None:
            done = self.page - self.first + 1 >= pages
        else:
            done = len(records) < (self.config.size or 1)
        self.has_next_page = bool(records) and not done

    def update_request(self, request: Request) -> None:
        self.page += 1
        request.params[self.config.page_param] = self.page


class CursorPaginator(Paginator):
    """`cursor`: the answer names the next cursor; stop without one, or when one repeats."""

    type = "cursor"
    needs = ("cursor_param",)

    @classmethod
    def check(cls, data: dict) -> None:
        super().check(data)
        if not (data.get("next_cursor") or data.get("has_more")):
            raise ConfigProblem(
                "", "cursor 分页没有结束信号 (cursor paging without an end signal)",
                "添加 next_cursor: (add next_cursor:)",
            )  # fmt: skip

    def init_request(self, request: Request) -> None:
        self.cursor, self.seen = self.config.start, set()
        request.params = dict(self.size_params)
        if self.cursor is not None:
            request.params[self.config.cursor_param] = self.cursor

    def update_state(self, body: Any, records: list) -> None:
        c = self.config
        nxt = lookup(body, c.next_cursor)[1] if c.next_cursor else None
        self.has_next_page = self.more(body) and nxt not in (None, "") and nxt not in self.seen
        if self.has_next_page:
            self.seen.add(nxt)
            self.cursor = nxt

    def update_request(self, request: Request) -> None:
        request.params = {self.config.cursor_param: self.cursor, **self.size_params}


class NextLinkPaginator(Paginator):
    """`next_link`: the first page with parameters, then the answer's `next` URL verbatim."""

    type = "next_link"
    needs = ("next",)

    def init_request(self, request: Request) -> None:
        request.params = dict(self.size_params)

    def update_state(self, body: Any, records: list) -> None:
        found, self.next = lookup(body, self.config.next)
        self.has_next_page = bool(found and self.next)

    def update_request(self, request: Request) -> None:
        request.params, request.url = {}, self.next  # verbatim: it keeps the filters


class OffsetPaginator(Paginator):
    """`offset`: offset 0, size, 2·size, … until `has_more` is false or offset ≥ `total`.

    With `overlap`, rows inserted or deleted mid-read (which shift every later page) cannot
    hide a record: consecutive pages share `overlap` records (a page sharing none moved too
    far and is read again), the first page is read until it stops changing, and one probe
    past the last page catches a tail pushed out of view. Records the previous page already
    gave are not handed on again."""

    type = "offset"
    needs = ("offset_param", "size_param")
    GAP_READS = 4  # reads of a page that shares nothing with the previous one
    HEAD_READS = 6  # reads of the first page at most

    @classmethod
    def check(cls, data: dict) -> None:
        super().check(data)
        if not (data.get("total") or data.get("has_more")):
            raise ConfigProblem(
                "", "offset 分页没有结束信号 (offset paging without an end signal)",
                "添加 total: 或 has_more: (add total: or has_more:)",
            )  # fmt: skip
        overlap, size = data.get("overlap") or 0, data.get("size") or 0
        if overlap and overlap >= size:
            raise ConfigProblem(
                ".overlap", f"'{overlap}' 不小于 size (is not below size)",
                "小于 size 的小整数 (a small integer below size, e.g. 5)",
            )  # fmt: skip

    def _get(self, fetch: Fetch) -> tuple[list, Any]:
        return fetch(Request({self.config.offset_param: self.offset, **self.size_params}))

    def _read(self, fetch: Fetch, prev: set | None, identity: Identity) -> tuple:
        """One page; with overlap, read again until it shares a record with the previous."""
        for _ in range(self.GAP_READS):
            records, body = self._get(fetch)
            ids = {identity(r) for r in records}
            if not self.config.overlap or prev is None or not records or ids & prev:
                return records, body, ids
            self.note("page_gap")
        raise PagingError(
            f"偏移 {self.offset} 的一页与上一页始终没有重叠，数据变动快于读取，请稍后重新采集 "
            f"(offset {self.offset} never overlaps the previous page: rows move faster than "
            "we read; pull again later)"
        )

    def _settle_head(self, fetch: Fetch, records: list, ids: set, identity: Identity) -> list:
        """Read the first page again until two reads add nothing (rows moving into it)."""
        quiet = reads = 0
        while quiet < 2 and reads < self.HEAD_READS:
            again, _ = self._get(fetch)
            reads += 1
            extra = [r for r in again if identity(r) not in ids]
            quiet = 0 if extra else quiet + 1
            records += extra
            ids |= {identity(r) for r in extra}
        return records

    def _ends(self, body: Any, records: list, total: int | None) -> bool:
        if self.config.has_more:
            return not self.more(body)
        if total is not None:
            return self.offset + (self.config.size or len(records)) >= total
        return False

    def pages(self, fetch: Fetch, identity: Identity) -> Iterator[tuple[list, dict]]:
        c = self.config
        self.offset = c.start or 0
        prev, probing = None, False
        while True:
            records, body, ids = self._read(fetch, prev, identity)
            if c.overlap and prev is None:
                records = self._settle_head(fetch, records, ids, identity)
            total = self.total(body)
            fresh = records if prev is None else [r for r in records if identity(r) not in prev]
            if probing and not fresh:
                return
            yield fresh, {"total": total}
            end = self._ends(body, records, total)
            if not records or (end and (not c.overlap or probing)):
                return
            probing = end
            prev = ids | (prev or set()) if probing else ids
            self.offset += (c.size or 0) - c.overlap if c.overlap else (c.size or len(records))


class PagingError(RuntimeError):
    """A listing cannot be read consistently (the client turns it into an ApiError)."""


PAGINATORS: dict[str, type[Paginator]] = {
    cls.type: cls
    for cls in (PageNumberPaginator, OffsetPaginator, CursorPaginator, NextLinkPaginator, Paginator)
}


def by_type(kind: Any) -> type[Paginator]:
    """The paginator class of a `pagination.type`."""
    if kind not in PAGINATORS:
        raise ConfigProblem(
            ".type", f"未知类型 (unknown type '{kind}')",
            f"用其中之一 (use one of {', '.join(PAGINATORS)})",
        )  # fmt: skip
    return PAGINATORS[kind]


def check(data: dict) -> None:
    """The rules of a `pagination:` mapping's type (its keys already known to be allowed)."""
    by_type(data.get("type", Paginator.type)).check(data)


def paginator(config: Any, note: Callable[[str], None] = lambda kind: None) -> Paginator:
    """A fresh paginator for one listing of a `connectors.spec.Pagination`."""
    return PAGINATORS[config.type](config, note)
