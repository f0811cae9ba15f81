"""校园一卡通 (TA_-style): accounts, merchants and transactions.

Transactions are the bulk of the college (about 5 per student per day), so they are not kept
in the store: each day is generated on first use from (seed, day) and the running balances,
and kept column by column per booking (入账) day (about 34 bytes a row, in arrays), each row's
JSON rendered when a page is served. A term of them fits in memory at five times the default
scale (issue 14; figures in BENCHMARKS.md, "Sandbox memory").
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import json
from array import array

from ..rng import stream, unit
from ..spec import Spec
from ..store import Rows, View, dumps
from ..timefmt import COMPACT, DAY, OFFSET, day_start, fmt_compact, to_date
from .base import TA_CARD, Domain, any_ts, office_ts, poisson

P = "/campus_card/api"
SPECS = (
    Spec(
        "campus_card",
        "accounts",
        f"{P}/TA_QueryAccounts",
        ("AccNum",),
        "UpdateTime",
        COMPACT,
        tuple(
            "AccNum CardNo StuEmpNo CustName CustType DeptCode CardStatus CardBalance OpenDate "
            "UpdateTime".split()
        ),
        ("AccNum", "CardNo", "CustName", "CustType"),
        money_unit="分",
        codes={"CustType": "7", "CardStatus": "9"},
        dates={"OpenDate": "20250230"},
        text_fields=("CustName",),
    ),
    Spec(
        "campus_card",
        "merchants",
        f"{P}/TA_QueryMerchants",
        ("MercAcc",),
        "UpdateTime",
        COMPACT,
        ("MercAcc", "MercName", "MercType", "Area", "UpdateTime"),
        ("MercAcc", "MercName"),
        text_fields=("MercName",),
    ),
    Spec(
        "campus_card",
        "transactions",
        f"{P}/TA_QueryTrans",
        ("BackJnl",),
        "EffectTime",
        COMPACT,
        tuple(
            "BackJnl TranJnl AccNum CardNo StuEmpNo TranCode TranName TranAmt CardBal "
            "JnDateTime EffectTime TermNo MercAcc OffLine".split()
        ),
        ("BackJnl", "AccNum", "TranCode", "TranAmt", "JnDateTime"),
        money_unit="分",
        codes={"TranCode": "99"},
        dates={"JnDateTime": "20260931120000"},
        stamp=False,
    ),
)
TRAN_NAME = {"15": "消费", "23": "退费", "30": "充值"}
# (merchant type, names, count, offline)
MERCHANTS = [
    ("食堂", ["第一食堂{}号窗口", "第二食堂{}号窗口", "清真食堂{}号窗口"], 8, False),
    ("超市", ["校园超市{}号收银台"], 3, False),
    ("水控", ["学生公寓{}栋热水"], 6, True),
    ("浴室", ["公共浴室{}区"], 2, True),
    ("打印复印", ["文印中心{}号机"], 2, False),
    ("图书馆", ["图书馆{}楼自助服务"], 1, False),
]
# what a student does in a day: (merchant type, probability, earliest, latest, min 分, max 分)
HABITS = [
    ("食堂", 0.55, 6.8, 8.5, 300, 800),
    ("食堂", 0.90, 11.5, 13.0, 800, 2000),
    ("食堂", 0.45, 11.6, 13.2, 200, 600),
    ("食堂", 0.80, 17.0, 19.0, 700, 1800),
    ("超市", 0.40, 9.0, 22.0, 300, 6000),
    ("超市", 0.30, 12.0, 22.0, 200, 1500),
    ("水控", 0.65, 7.0, 23.0, 30, 300),
    ("水控", 0.45, 7.0, 23.0, 30, 300),
    ("浴室", 0.35, 18.0, 23.0, 200, 600),
    ("打印复印", 0.08, 9.0, 21.0, 50, 800),
    ("图书馆", 0.03, 9.0, 21.0, 100, 500),
]
TOP_UPS = (5000, 10000, 20000, 30000, 50000)
UPLOAD_LAG = (1, 1, 1, 2, 3)  # days until an offline terminal's records reach the server
STAFF_HABITS = [("食堂", 0.6, 11.5, 13.0, 800, 2000), ("超市", 0.15, 9.0, 18.0, 300, 6000)]


# Field order = spec order; every value is ASCII or fixed Chinese, so %-formatting is valid JSON.
TEMPLATE = (
    '{"BackJnl":"%s","TranJnl":"%s","AccNum":"%s","CardNo":"%s","StuEmpNo":"%s",'
    '"TranCode":"%s","TranName":"%s","TranAmt":%d,"CardBal":%d,"JnDateTime":"%s",'
    '"EffectTime":"%s","TermNo":"%s","MercAcc":"%s","OffLine":"%s"}'
)


@functools.cache
def _clock_strings() -> list[str]:
    return [f"{s // 3600:02d}{s // 60 % 60:02d}{s % 60:02d}" for s in range(DAY)]


class Compact:
    """YYYYMMDDHHMMSS without strftime: this runs twice per transaction."""

    def __init__(self) -> None:
        self.hhmmss = _clock_strings()
        self.dates: dict[int, str] = {}

    def __call__(self, ts: int) -> str:
        days, secs = divmod(ts + OFFSET, DAY)
        prefix = self.dates.get(days)
        if prefix is None:
            prefix = self.dates[days] = f"{to_date(ts):%Y%m%d}"
        return prefix + self.hhmmss[secs]


def random_terminal_serial(seed: int):
    """终端流水号: a 6-digit number fixed by the back-office serial."""
    salt = unit(seed, "tranjnl") * 1e6

    def serial(back: str) -> str:
        return f"{(int(back) * 7919 + int(salt)) % 999999 + 1:06d}"

    return serial


class Renderer:
    """What a day's columns point into, and the JSON of one transaction from its columns."""

    def __init__(self, seed: int, cards: list[tuple[str, str, str]]):
        self.cards = cards  # (AccNum, CardNo, StuEmpNo) per account index
        self.places: list[tuple[str, str, str, str]] = []  # (TranCode, TermNo, MercAcc, OffLine)
        self.place_index: dict[tuple[str, str, str, str], int] = {}
        self.compact = Compact()
        self.terminal = random_terminal_serial(seed)

    def place(self, code: str, term: str, merc: str, offline: str) -> int:
        value = (code, term, merc, offline)
        n = self.place_index.get(value)
        if n is None:
            n = self.place_index[value] = len(self.places)
            self.places.append(value)
        return n

    def values(
        self, back: str, who: int, place: int, amount: int, bal: int, when: int, booked: int
    ):
        acc, card, stu_emp = self.cards[who]
        code, term, merc, offline = self.places[place]
        compact = self.compact
        return (
            back,
            self.terminal(back),
            acc,
            card,
            stu_emp,
            code,
            TRAN_NAME[code],
            amount,
            bal,
            compact(when),
            compact(booked),
            term,
            merc,
            offline,
        )


class DayBlob:
    """The transactions booked on one day, in API order, kept column by column.

    A day at the default scale is about 42,000 rows; as JSON (what this class held until
    issue 14) that is about 290 bytes a row, kept for the life of the process. Here a row is
    34 bytes of arrays pointing into the shared `Renderer`, and its JSON is rendered from
    them when served (the same ``TEMPLATE``, so the same bytes). Rows a record-level fault
    changed keep their served JSON in ``overrides``. ``Renderer.values`` is the same mapping
    for the fault path at booking time.
    """

    def __init__(self, render: Renderer):
        self.render = render
        self.ts = array("q")  # EffectTime (booking), epoch s: the cursor
        self.backs = array("q")  # BackJnl as a number (15 digits, no leading zero)
        self.who = array("i")  # account index into render.cards
        self.place = array("H")  # (TranCode, TermNo, MercAcc, OffLine) index
        self.amount = array("i")
        self.bal = array("i")
        self.lag = array("i")  # EffectTime - JnDateTime, seconds
        self.overrides: dict[int, str] = {}  # row -> its served JSON
        self.defects: list[dict] = []

    def __len__(self) -> int:
        return len(self.ts)

    def add(self, booked: int, back: str, who: int, place: int, amount: int, bal: int, when: int):
        self.ts.append(booked)
        self.backs.append(int(back))
        self.who.append(who)
        self.place.append(place)
        self.amount.append(amount)
        self.bal.append(bal)
        self.lag.append(booked - when)

    def keys(self, i: int, j: int) -> list[str]:
        return [str(b) for b in self.backs[i:j]]

    def slice(self, i: int, j: int) -> bytes:
        """Rows ``i..j-1`` as comma-joined JSON: the hot path of serving transactions."""
        r = self.render
        cards, places, compact, terminal = r.cards, r.places, r.compact, r.terminal
        ts, backs, who, place, amount, bal, lag = (
            self.ts,
            self.backs,
            self.who,
            self.place,
            self.amount,
            self.bal,
            self.lag,
        )
        overrides = self.overrides
        out = []
        for n in range(i, j):
            if n in overrides:
                out.append(overrides[n])
                continue
            back = str(backs[n])
            acc, card, stu_emp = cards[who[n]]
            code, term, merc, offline = places[place[n]]
            booked = ts[n]
            out.append(
                TEMPLATE
                % (
                    back,
                    terminal(back),
                    acc,
                    card,
                    stu_emp,
                    code,
                    TRAN_NAME[code],
                    amount[n],
                    bal[n],
                    compact(booked - lag[n]),
                    compact(booked),
                    term,
                    merc,
                    offline,
                )
            )
        return ",".join(out).encode()


class ChainRows(Rows):
    """Rows spread over several booking days, without copying them into one list."""

    def __init__(self, segments: list[tuple[DayBlob, int, int]]):
        self.segments = [s for s in segments if s[2] > s[1]]
        self.length = sum(j - i for _, i, j in self.segments)

    def __len__(self) -> int:
        return self.length

    def _parts(self, i: int, j: int):
        base = 0
        for blob, lo, hi in self.segments:
            n = hi - lo
            a, b = max(i - base, 0), min(j - base, n)
            if a < b:
                yield blob, lo + a, lo + b
            base += n
            if base >= j:
                break

    def json(self, i: int, j: int) -> bytes:
        return b",".join(blob.slice(a, b) for blob, a, b in self._parts(max(i, 0), j))

    def key_slice(self, i: int, j: int) -> list:
        return [k for blob, a, b in self._parts(i, j) for k in blob.keys(a, b)]

    def items(self, i: int = 0, j: int | None = None) -> list:
        j = self.length if j is None else j
        out = []
        for blob, a, b in self._parts(i, j):
            records = json.loads(b"[" + blob.slice(a, b) + b"]")
            out += zip(blob.keys(a, b), records, strict=True)
        return out

    def filter(self, keep):
        raise ValueError("交易流水不支持按字段过滤")


class TransactionView:
    def __init__(self, days: list[tuple[dt.date, DayBlob]]):
        self.days = days
        self.defects = [d for _, blob in days for d in blob.defects]

    def window(self, lo: int | None, hi: int | None) -> ChainRows:
        segments = []
        for day, blob in self.days:
            start = day_start(day)
            if (hi is not None and start >= hi) or (lo is not None and start + DAY <= lo):
                continue
            i = 0 if lo is None else bisect.bisect_left(blob.ts, lo)
            j = len(blob) if hi is None else bisect.bisect_left(blob.ts, hi)
            segments.append((blob, i, j))
        return ChainRows(segments)


class CampusCard(Domain):
    subsystem = "campus_card"
    vendor = TA_CARD
    specs = SPECS

    def build(self) -> None:
        rng = stream(self.seed, "card", "base")
        y = self.c.year
        self.merchants = []
        for kind, names, count, offline in MERCHANTS:
            for n in range(count):
                acc = f"M{len(self.merchants) + 1:04d}"
                name = names[n % len(names)].format(n // len(names) + 1)
                self.merchants.append((acc, kind, offline, [f"T{acc[1:]}{t}" for t in range(1, 4)]))
                self.put(
                    "merchants",
                    acc,
                    any_ts(rng, dt.date(y - 3, 6, 1), dt.date(y, 8, 1)),
                    {
                        "MercAcc": acc,
                        "MercName": name,
                        "MercType": kind,
                        "Area": rng.choice(["东校区", "西校区"]),
                    },
                )
        self.unmapped: set[str] = set()  # accounts whose 学工号 is missing (identity noise)
        self.by_kind: dict[str, list] = {}
        for m in self.merchants:
            self.by_kind.setdefault(m[1], []).append(m)
        academic = self.ctx.domains["academic"]
        self.people = []  # (person, habits, first active day)
        for person in [*self.c.students.values(), *self.c.staff.values()]:
            self._account(rng, person)
            student = hasattr(person, "cohort")
            if student and person.cohort == y:
                when, status = academic.registration(person.pid)
                if status == "01":
                    self.people.append((person, HABITS, when))
            elif student and person.status == "01" and person.cohort >= y - 2:
                self.people.append((person, HABITS, self.ctx.start))
            elif not student and person.state == "在职":
                self.people.append((person, STAFF_HABITS, self.ctx.start))
        self._reset()

    def _account(self, rng, person) -> None:
        student = hasattr(person, "cohort")
        y = self.c.year
        if student:
            opened = dt.date(person.cohort, 8, 25)
            closed = person.status in ("03", "04")
        else:
            opened = max(person.hired, dt.date(2008, 9, 1))
            closed = person.state != "在职"
        stu_emp = person.pid
        if self.c.mapping_missing("campus_card", person.pid):
            stu_emp = ""
            self.unmapped.add(person.acc_num)
            self.c.log_noise(
                "missing_mapping", "campus_card", "accounts", person.pid, "StuEmpNo", person.pid, ""
            )
        ts = (
            office_ts(rng, opened)
            if opened.year == y
            else any_ts(rng, dt.date(y - 1, 9, 1), dt.date(y, 7, 1))
        )
        if closed:
            ts = any_ts(rng, dt.date(y, 7, 1), dt.date(y, 8, 1))
        self.put(
            "accounts",
            person.acc_num,
            ts,
            {
                "AccNum": person.acc_num,
                "CardNo": person.card_no,
                "StuEmpNo": stu_emp,
                "CustName": self.c.served_name(person, "campus_card", "accounts"),
                "CustType": "1" if student else "2",
                "DeptCode": person.klass.major.jgdm if student else person.dept,
                "CardStatus": "4" if closed else "1",
                "CardBalance": rng.randint(0, 300) * 100,
                "OpenDate": f"{opened:%Y%m%d}",
            },
        )

    # ---- transactions ---------------------------------------------------------------

    def _reset(self) -> None:
        """Forget generated transactions (record-level faults changed): replay from start."""
        accounts = self.table("accounts")
        self.balance = {p.acc_num: accounts[p.acc_num][1]["CardBalance"] for p, _, _ in self.people}
        self.pending: dict[dt.date, list] = {}  # booking day -> offline rows waiting to upload
        self.blobs: dict[dt.date, DayBlob] = {}
        self.latest: dict[str, tuple[int, int]] = {}  # AccNum -> (last booking, CardBalance)
        self.fault_key = None
        cards = []
        for person, _, _ in self.people:
            stu_emp = person.pid if person.acc_num not in self.unmapped else ""
            cards.append((person.acc_num, person.card_no, stu_emp))
        self.render = Renderer(self.seed, cards)
        self.who = {acc: n for n, (acc, _, _) in enumerate(cards)}

    def _occur(self, d: dt.date) -> None:
        """Generate the transactions that happen on ``d``; file them under their booking day.

        This is the hot loop of the whole sandbox (about 50,000 rows a day at the default
        scale), hence the local aliases and plain tuples.
        """
        rng = stream(self.seed, "card", d)
        rand = rng.random
        base = day_start(d)
        factor = 0.7 if d.weekday() >= 5 else 1.0
        balance, pending, by_kind = self.balance, self.pending, self.by_kind
        prefix = f"{d:%Y%m%d}"
        seq = 0
        for person, habits, first in self.people:
            if d < first:
                continue
            acc = person.acc_num
            events = [
                (
                    base + int((lo + (hi - lo) * rand()) * 3600),
                    kind,
                    amin + int((amax - amin) * rand()),
                )
                for kind, p, lo, hi, amin, amax in habits
                if rand() < p * factor
            ]
            events.sort()
            for when, kind, amount in events:
                pool = by_kind[kind]
                merchant = pool[int(rand() * len(pool))]
                if balance[acc] < amount:  # top up at a kiosk first
                    top = TOP_UPS[int(rand() * len(TOP_UPS))]
                    balance[acc] += top
                    seq += 1
                    at = when - 60 - int(840 * rand())
                    row = (
                        at + int(3 * rand()),
                        f"{prefix}{seq:07d}",
                        acc,
                        person,
                        "30",
                        top,
                        balance[acc],
                        at,
                        "ZZ01",
                        "",
                        "0",
                    )
                    pending.setdefault(d, []).append(row)
                balance[acc] -= amount
                seq += 1
                offline = merchant[2]
                if offline:  # an offline terminal uploads in the small hours 1-3 days later
                    booked = base + UPLOAD_LAG[int(rand() * 5)] * DAY + 7200 + int(10800 * rand())
                else:
                    booked = min(when + int(6 * rand()), base + DAY - 1)
                row = (
                    booked,
                    f"{prefix}{seq:07d}",
                    acc,
                    person,
                    "15",
                    amount,
                    balance[acc],
                    when,
                    merchant[3][int(rand() * 3)],
                    merchant[0],
                    "1" if offline else "0",
                )
                pending.setdefault(to_date(booked) if offline else d, []).append(row)
                if kind == "食堂" and rand() < 0.002:  # 退费: a wrong charge refunded
                    balance[acc] += amount
                    seq += 1
                    later = when + 60 + int(540 * rand())
                    row = (
                        min(later, base + DAY - 1),
                        f"{prefix}{seq:07d}",
                        acc,
                        person,
                        "23",
                        amount,
                        balance[acc],
                        later,
                        merchant[3][0],
                        merchant[0],
                        "0",
                    )
                    pending[d].append(row)

    def _ensure(self, upto: dt.date, faults) -> None:
        """Generate booking days up to (excluding) ``upto``."""
        key = faults.record_rates()
        if self.fault_key != key:
            self._reset()
            self.fault_key = key
        d = self.ctx.start + dt.timedelta(days=len(self.blobs))
        while d < upto:
            self._occur(d)
            self.blobs[d] = self._book(sorted(self.pending.pop(d, []), key=lambda r: r[:2]), faults)
            d += dt.timedelta(days=1)

    def _book(self, rows: list[tuple], faults) -> DayBlob:
        spec = self.spec["transactions"]
        clean = not any(faults.record_rates())
        render, who, latest = self.render, self.who, self.latest
        blob = DayBlob(render)
        for n, (booked, back, acc, _, code, amount, bal, when, term, merc, offline) in enumerate(
            rows
        ):
            place = render.place(code, term, merc, offline)
            blob.add(booked, back, who[acc], place, amount, bal, when)
            latest[acc] = (booked, bal)
            if clean:
                continue
            values = render.values(back, who[acc], place, amount, bal, when, booked)
            record, defect = faults.apply(
                spec, self.vendor, back, dict(zip(spec.fields, values, strict=True))
            )
            if defect:
                blob.defects.append(
                    {
                        "key": None if defect["defect_class"] == "missing_key" else back,
                        "truth_key": back,
                        **defect,
                    }
                )
            served = dumps(record).decode()
            if served != TEMPLATE % values:
                blob.overrides[n] = served
        return blob

    def custom_view(self, spec: Spec, sandbox):
        if spec.resource == "merchants":
            return None
        self._ensure(sandbox._next_day, sandbox.faults)
        days = sorted(self.blobs.items())
        if spec.resource == "transactions":
            return TransactionView(days)
        latest = self.latest
        table = {}
        for acc, (ts, record) in self.table("accounts").items():
            if acc in latest and latest[acc][0] > ts:
                ts = latest[acc][0]
                record = dict(record, CardBalance=latest[acc][1], UpdateTime=fmt_compact(ts))
            table[acc] = (ts, record)
        return View(spec, self.vendor, table, sandbox.faults)

    # ---- each day -------------------------------------------------------------------

    def day(self, d: dt.date) -> None:
        """挂失 and 解挂: card status changes (transactions are generated lazily)."""
        rng = stream(self.seed, "card-status", d)
        accounts = self.table("accounts")
        for _ in range(poisson(rng, self.c.scale * 0.0004)):
            person = rng.choice(self.people)[0]
            record = dict(accounts[person.acc_num][1], CardStatus="2")
            ts = office_ts(rng, d, 8, 22)
            self.put("accounts", person.acc_num, ts, record)
            self.at(ts + rng.randint(1, 3) * DAY, self._found, person.acc_num)
        self.run_due(d)

    def _found(self, ts: int, acc: str) -> None:
        self.put("accounts", acc, ts, dict(self.get("accounts", acc), CardStatus="1"))
