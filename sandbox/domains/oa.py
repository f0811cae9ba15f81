"""OA办公系统: official documents and their approval trails."""

from __future__ import annotations

import datetime as dt

from .. import codes
from ..rng import stream
from ..spec import Spec
from ..timefmt import ISO_LOCAL, fmt_iso_local
from .base import NEXT_LINK, Domain, days, office_ts, poisson, weekday

SPECS = (
    Spec(
        "oa",
        "documents",
        "/oa/api/v1/documents",
        ("wjid",),
        "modified",
        ISO_LOCAL,
        tuple("wjid bt wh wjlx fwbmdm fwbmmc ngrgh ngrxm ngsj jjcd zt bjsj modified".split()),
        tuple("wjid bt wjlx ngrgh ngsj".split()),
        codes={"wjlx": "其他"},
        dates={"ngsj": "2026-02-30T09:00:00"},
        text_fields=("bt",),
    ),
    Spec(
        "oa",
        "approval_steps",
        "/oa/api/v1/approval-steps",
        ("lzid",),
        "modified",
        ISO_LOCAL,
        tuple("lzid wjid bzxh hjmc clrgh clrxm clsj cljg clyj modified".split()),
        tuple("lzid wjid bzxh clrgh".split()),
        codes={"cljg": "未知"},
        text_fields=("clyj",),
    ),
)
TOPICS = [
    "关于做好{y}年秋季学期开学工作的通知",
    "关于开展教学工作诊断与改进自查的通知",
    "关于印发《校本数据采集管理办法》的通知",
    "关于{y}年国庆节放假安排的通知",
    "关于申报{y}年度省级教学改革研究项目的通知",
    "关于组织参加全国职业院校技能大赛的请示",
    "关于采购专业实训设备的签报",
    "关于召开{y}年学生工作会议的通知",
    "关于开展师德师风专题教育的通知",
    "关于报送质量年报数据的通知",
]
STEPS = ["拟稿", "部门审核", "办公室核稿", "会签", "领导签发", "分发阅知"]
OPINIONS = [
    "同意",
    "同意，请按程序办理",
    "拟同意，请领导审定",
    "已阅",
    "请修改后再报",
    "同意，抓好落实",
]


class OA(Domain):
    subsystem = "oa"
    vendor = NEXT_LINK
    specs = SPECS

    def build(self) -> None:
        self.n_docs = 0
        active = [s for s in self.c.staff.values() if s.state == "在职"]
        self.leaders = sorted(
            (s for s in active if s.dept in ("201", "202", "203")), key=lambda s: s.pid
        )
        self.active = active
        for d in days(dt.date(self.c.year, 3, 1), self.ctx.start):
            self._documents(d)

    def _documents(self, d: dt.date) -> None:
        if not weekday(d):
            return
        rng = stream(self.seed, "oa", d)
        for _ in range(poisson(rng, 2 + self.c.scale * 0.0004)):
            author = rng.choice(self.active)
            kind = rng.choices(["发文", "收文", "签报"], [45, 30, 25])[0]
            self.n_docs += 1
            key = f"OA{d:%Y%m%d}{self.n_docs:05d}"
            ts = office_ts(rng, d)
            record = {
                "wjid": key,
                "bt": rng.choice(TOPICS).format(y=d.year),
                "wh": f"湘工艺院发〔{d.year}〕{self.n_docs % 300 + 1}号"
                if kind == "发文"
                else None,
                "wjlx": kind,
                "fwbmdm": author.dept,
                "fwbmmc": codes.UNIT_NAME[author.dept],
                "ngrgh": author.pid,
                "ngrxm": author.name,
                "ngsj": fmt_iso_local(ts),
                "jjcd": rng.choices(["平件", "急件", "特急"], [80, 17, 3])[0],
                "zt": "办理中",
                "bjsj": None,
            }
            self.put("documents", key, ts, record)
            n_steps = rng.randint(3, len(STEPS))
            handlers = [author] + [
                rng.choice(self.leaders or self.active) for _ in range(n_steps - 1)
            ]
            self._step(ts, key, 1, handlers, "同意", None)
            when = ts
            for step in range(2, n_steps + 1):
                when += rng.randint(1, 60) * 3600
                withdrawn = rng.random() < 0.02
                result = (
                    "退回" if withdrawn else ("已阅" if STEPS[step - 1] == "分发阅知" else "同意")
                )
                self.at(when, self._step, key, step, handlers, result, rng.choice(OPINIONS))
                if withdrawn:
                    self.at(when + 3600, self._finish, key, "已撤回")
                    break
            else:
                self.at(when + 600, self._finish, key, "已办结")

    def _step(self, ts: int, key: str, step: int, handlers, result: str, opinion) -> None:
        who = handlers[step - 1]
        self.put(
            "approval_steps",
            f"{key}-{step:02d}",
            ts,
            {
                "lzid": f"{key}-{step:02d}",
                "wjid": key,
                "bzxh": step,
                "hjmc": STEPS[step - 1],
                "clrgh": who.pid,
                "clrxm": who.name,
                "clsj": fmt_iso_local(ts),
                "cljg": result,
                "clyj": opinion,
            },
        )
        if step < len(handlers) and result != "退回":
            nxt = handlers[step]
            self.put(
                "approval_steps",
                f"{key}-{step + 1:02d}",
                ts,
                {
                    "lzid": f"{key}-{step + 1:02d}",
                    "wjid": key,
                    "bzxh": step + 1,
                    "hjmc": STEPS[step],
                    "clrgh": nxt.pid,
                    "clrxm": nxt.name,
                    "clsj": None,
                    "cljg": "待处理",
                    "clyj": None,
                },
            )

    def _finish(self, ts: int, key: str, status: str) -> None:
        record = dict(self.get("documents", key))
        record.update(zt=status, bjsj=fmt_iso_local(ts))
        self.put("documents", key, ts, record)

    def day(self, d: dt.date) -> None:
        self._documents(d)
        self.run_due(d)
