"""What every subsystem module shares: the context, vendor conventions and helpers."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

from ..college import College
from ..spec import Spec, Vendor
from ..store import Key, Store
from ..timefmt import DAY, FORMATTERS, day_start, to_date


@dataclass
class Context:
    seed: int
    college: College
    store: Store
    start: dt.date
    domains: dict = field(default_factory=dict)  # subsystem id -> Domain, for shared facts

    @property
    def start_ts(self) -> int:
        return day_start(self.start)


ZHENGFANG = Vendor(
    "zhengfang",
    "session cookie JSESSIONID from POST /academic/xtgl/login_slogin.html (yhm, mm)",
    "queryModel.currentPage / queryModel.showCount -> items, totalCount, totalPage",
    "gxsj_ks",
    "gxsj_js",
    '""',
    "lower",
)
MYBATIS_LOWER = Vendor(
    "mybatis",
    "POST /research/api/auth/token {appKey, appSecret} -> Authorization: Bearer",
    "current / size -> data.records, data.total, data.pages",
    "updatedSince",
    "updatedUntil",
    "null",
    "lower",
)
MYBATIS_UPPER = Vendor(
    "mybatis",
    "POST /admissions/api/auth/token {appKey, appSecret} -> Authorization: Bearer",
    "current / size -> data.records, data.total, data.pages",
    "updatedSince",
    "updatedUntil",
    "null",
    "upper",
)
OAUTH_CURSOR = Vendor(
    "oauth_cursor",
    "POST /assets/oauth/token client_credentials -> Authorization: Bearer",
    "keyset: limit / cursor -> data, has_more, next_cursor",
    "updated_since",
    "updated_until",
    "null",
    "lower",
)
FINANCE = Vendor(
    "finance",
    "GET /finance/api/token?appKey&appSecret -> X-Access-Token (a new token revokes the old)",
    "pageNo / pageSize<=200 -> data.list, data.totalCount, data.totalPage",
    "updateTimeBegin",
    "updateTimeEnd",
    '""',
    "upper",
)
NEXT_LINK = Vendor(
    "next_link",
    "POST /oa/api/v1/auth/login {appId, secret} -> header token",
    "next link: limit -> records, next (null on the last page)",
    "modifiedFrom",
    "modifiedTo",
    "null",
    "lower",
)
DINGTALK = Vendor(
    "dingtalk",
    "GET /dingtalk/gettoken?appkey&appsecret -> ?access_token=",
    "dingtalk: listids cursor/size<=20 then get; attendance offset/limit<=50 hasMore",
    "start_time / workDateFrom",
    "end_time / workDateTo",
    "absent",
    "snake",
)
RUOYI = Vendor(
    "ruoyi",
    "POST /<id>/login {username, password} -> Authorization: Bearer (HTTP 200 code 401 on expiry)",
    "pageNum / pageSize -> rows, total",
    "params[beginUpdateTime]",
    "params[endUpdateTime]",
    '""',
    "upper",
)
TA_CARD = Vendor(
    "ta_card",
    "POST /campus_card/api/TA_Login {SysCode, SysPwd} -> ?Token=",
    "PageNo / PageSize<=1000 -> Rows, RecNum",
    "BeginTime",
    "EndTime",
    '""',
    "pascal",
)
MOOC = Vendor(
    "mooc",
    "signature: appKey, nonce, timestamp(ms), signature=SHA1(appSecret+nonce+timestamp)",
    "pageIndex / pageSize in [5,300] -> data.list, data.queryMeta.totalCount",
    "updateTimeFrom",
    "updateTimeTo",
    "null",
    "camel",
)


class Domain:
    """A subsystem: its specs, the records before ``start`` and the events of each day."""

    subsystem = ""
    vendor: Vendor
    specs: tuple[Spec, ...] = ()

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.c = ctx.college
        self.seed = ctx.seed
        self.spec = {s.resource: s for s in self.specs}
        self._due: dict[dt.date, list] = {}
        self._seq = 0

    def at(self, ts: int, action, *args) -> None:
        """Run ``action(ts, *args)`` at ``ts``: now if that is before ``start``, else on its day.

        Lifecycles (a voucher paid days after entry, an approval finished later) are laid out
        when the record is created; the clock then plays them as the days arrive.
        """
        if ts < self.ctx.start_ts:
            action(ts, *args)
            return
        self._seq += 1
        self._due.setdefault(to_date(ts), []).append((ts, self._seq, action, args))

    def run_due(self, d: dt.date) -> None:
        while self._due.get(d):
            for ts, _, action, args in sorted(self._due.pop(d), key=lambda e: e[:2]):
                action(ts, *args)

    def build(self) -> None:
        """Records that exist before ``start`` (cursor times < start)."""

    def day(self, d: dt.date) -> None:
        """Events of day ``d``: every put has a cursor time inside that day."""

    def custom_view(self, spec: Spec, sandbox) -> object | None:
        """A resource served from its own structure instead of the store (card flows)."""
        return None

    def put(self, resource: str, key: Key, ts: int, record: dict) -> None:
        spec = self.spec[resource]
        if spec.stamp:
            record[spec.cursor] = FORMATTERS[spec.cursor_format](ts)
        self.ctx.store.put(spec, key, ts, record)

    def get(self, resource: str, key: Key) -> dict | None:
        return self.ctx.store.get(self.spec[resource], key)

    def table(self, resource: str) -> dict:
        return self.ctx.store.table(self.spec[resource])


def office_ts(rng: random.Random, d: dt.date, early: int = 8, late: int = 18) -> int:
    """A time on day ``d`` during office hours."""
    return day_start(d) + rng.randint(early * 3600 + 1800, late * 3600)


def any_ts(rng: random.Random, lo: dt.date, hi: dt.date) -> int:
    """An office-hours time on a day in [lo, hi)."""
    days = max(1, (hi - lo).days)
    return office_ts(rng, lo + dt.timedelta(days=rng.randrange(days)))


def weekday(d: dt.date) -> bool:
    return d.weekday() < 5


def poisson(rng: random.Random, mean: float) -> int:
    """Small-mean Poisson by multiplication: how many events a day brings."""
    count, threshold, product = 0, math.exp(-mean), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def days(lo: dt.date, hi: dt.date):
    """Dates in [lo, hi)."""
    for n in range((hi - lo).days):
        yield lo + dt.timedelta(days=n)


__all__ = ["DAY", "Context", "Domain", "any_ts", "days", "office_ts", "poisson", "weekday"]
