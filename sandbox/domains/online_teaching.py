"""网络教学平台 (中国大学MOOC-style): online courses and course quality-control points."""

from __future__ import annotations

import datetime as dt

from ..rng import stream, unit
from ..spec import Spec
from ..timefmt import EPOCH_MS
from .base import MOOC, Domain, any_ts, office_ts, weekday

P = "/online_teaching/openapi/course"
SPECS = (
    Spec(
        "online_teaching",
        "courses",
        f"{P}/list",
        ("courseId",),
        "updateTime",
        EPOCH_MS,
        tuple(
            "courseId name kch schoolCode leaderGh level status resourceCount videoMinutes "
            "studentCount createTime updateTime".split()
        ),
        ("courseId", "name", "kch", "leaderGh"),
        codes={"level": "世界级"},
        text_fields=("name",),
    ),
    Spec(
        "online_teaching",
        "course_control_points",
        f"{P}/controlpoint/list",
        ("id",),
        "updateTime",
        EPOCH_MS,
        tuple(
            "id courseId termCode pointCode pointName target actual status filledBy "
            "updateTime".split()
        ),
        ("id", "courseId", "pointCode"),
        codes={"pointCode": "KC99", "status": "done"},
    ),
)
# 课程质控点 [I]: code, name, target
POINTS = [
    ("KC01", "课程标准", 1),
    ("KC02", "授课计划", 1),
    ("KC03", "教案", 16),
    ("KC04", "课件", 16),
    ("KC05", "作业", 8),
    ("KC06", "在线测验", 4),
    ("KC07", "线上讨论", 10),
    ("KC08", "期末考核", 1),
]
TERM_LENGTH = 18 * 7


class OnlineTeaching(Domain):
    subsystem = "online_teaching"
    vendor = MOOC
    specs = SPECS

    def build(self) -> None:
        rng = stream(self.seed, "online_teaching", "base")
        y = self.c.year
        teaching = self.c.teaching
        self.courses = []
        for kch in sorted(teaching.courses):
            course = teaching.courses[kch]
            if course.hours == 0 or unit(self.seed, "online", kch) > 0.4:
                continue
            cid = 100000 + len(self.courses) * 7 + rng.randint(0, 6)
            created = any_ts(rng, dt.date(y - 4, 3, 1), dt.date(y, 7, 1))
            leader = rng.choice(self.c.teachers(course.unit))
            students = sum(len(s.klass.students) for s in teaching.sections if s.course is course)
            record = {
                "courseId": cid,
                "name": course.name,
                "kch": kch,
                "schoolCode": course.unit,
                "leaderGh": leader.pid,
                "level": rng.choices(["校级", "省级精品在线开放课程", "国家级"], [80, 18, 2])[0],
                "status": rng.choice([1, 2, 2, 2]),
                "resourceCount": rng.randint(10, 300),
                "videoMinutes": rng.randint(0, 900),
                "studentCount": students,
                "createTime": created * 1000,
            }
            self.put("courses", cid, any_ts(rng, dt.date(y, 3, 1), self.ctx.start), record)
            self.courses.append((cid, course, leader.pid))
        for term, begins in (
            (f"{y - 1}-{y}-2", dt.date(y, 3, 2)),
            (f"{y}-{y + 1}-1", self.ctx.start),
        ):
            for cid, course, leader in self.courses:
                if course.term % 2 == (1 if term.endswith("-1") else 0):
                    for code, name, target in POINTS:
                        self._plan(term, begins, cid, leader, code, name, target)

    def _plan(self, term, begins: dt.date, cid: int, leader: str, code, name, target) -> None:
        """A control point fills up over the term: one update per step reached."""
        key = int(f"{cid}{POINTS.index((code, name, target)) + 1}{term[-1]}{term[2:4]}")
        steps = min(target, 4)
        for n in range(1, steps + 1):
            when = begins + dt.timedelta(
                days=int(TERM_LENGTH * n / (steps + 1)) + int(unit(key, n) * 5)
            )
            ts = office_ts(stream(self.seed, "ccp", key, n), when)
            actual = round(target * n / steps)
            self.at(
                ts,
                self._point,
                key,
                {
                    "id": key,
                    "courseId": cid,
                    "termCode": term,
                    "pointCode": code,
                    "pointName": name,
                    "target": target,
                    "actual": actual,
                    "status": "reached"
                    if actual >= target
                    else ("warning" if n < steps - 1 else "not_reached"),
                    "filledBy": leader,
                },
            )

    def _point(self, ts: int, key: int, record: dict) -> None:
        self.put("course_control_points", key, ts, record)

    def day(self, d: dt.date) -> None:
        if weekday(d) and self.courses:
            rng = stream(self.seed, "online_teaching", d)
            for cid, _, _ in rng.sample(self.courses, k=max(1, len(self.courses) // 8)):
                record = dict(self.get("courses", cid))
                record["resourceCount"] += rng.randint(1, 6)
                record["videoMinutes"] += rng.choice([0, 0, 5, 12, 20])
                self.put("courses", cid, office_ts(rng, d, 8, 23), record)
        self.run_due(d)
