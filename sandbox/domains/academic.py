"""教务管理系统 (正方-style): organisation, students, courses, sections, timetable, grades,
classroom attendance. Every value is a string, "" for null."""

from __future__ import annotations

import datetime as dt

from .. import codes
from ..college import STATUS
from ..rng import stream, unit
from ..spec import Spec
from ..teaching import NATURE, Section, Teaching
from ..timefmt import DATETIME
from .base import ZHENGFANG, Domain, any_ts, office_ts, poisson, weekday

P = "/academic/jwglxt"
BAD_SEX, BAD_NATION, BAD_POLITICAL = (codes.INVALID[k] for k in ("sex", "nation", "political"))


def _spec(resource, path, key, fields, required, **kw) -> Spec:
    return Spec(
        "academic",
        resource,
        f"{P}/{path}",
        key,
        "gxsj",
        DATETIME,
        tuple(fields.split()),
        tuple(required.split()),
        method="POST",
        **kw,
    )


SPECS = (
    _spec(
        "departments",
        "jgxx/jgxx_cxJgxx.html",
        ("jgdm",),
        "jgdm jgmc jgjc jglbmc sfyx gxsj",
        "jgdm jgmc",
        text_fields=("jgjc",),
    ),
    _spec(
        "majors",
        "zygl/zyxx_cxZyxx.html",
        ("zyh_id",),
        "zyh_id zydm zymc jgdm zyqdm zyqmc xz ccmc jlny sfzs gxsj",
        "zyh_id zydm zymc jgdm",
        text_fields=("zymc",),
    ),
    _spec(
        "classes",
        "bjgl/bjxx_cxBjxx.html",
        ("bh_id",),
        "bh_id bj njdm_id zyh_id zydm jgdm fdy_gh rs gxsj",
        "bh_id bj njdm_id zyh_id",
        text_fields=("bj",),
    ),
    _spec(
        "students",
        "xsxxgl/xsxxcx_cxXsxx.html",
        ("xh",),
        "xh xm xbm csrq mzm zzmmm sfzjh njdm_id jgdm zyh_id zydm bh_id xjztdm xjztmc rxrq "
        "sjhm syd gxsj",
        "xh xm xbm sfzjh zydm bh_id",
        codes={"xbm": BAD_SEX, "mzm": BAD_NATION, "zzmmm": BAD_POLITICAL},
        dates={"csrq": "20060231", "rxrq": "20250931"},
        id_fields=("sfzjh",),
        text_fields=("xm",),
    ),
    _spec(
        "courses",
        "kcgl/kcxx_cxKcxx.html",
        ("kch",),
        "kch kcmc xf zxs kcxzdm kcxzmc kclbmc kkbm gxsj",
        "kch kcmc xf",
        codes={"kcxzdm": "99"},
        text_fields=("kcmc",),
    ),
    _spec(
        "sections",
        "jxbgl/jxb_cxJxb.html",
        ("jxb_id",),
        "jxb_id jxbmc kch kcmc xnm xqm jsgh jsxm bh_id jxbrs gxsj",
        "jxb_id kch xnm xqm",
        text_fields=("jxbmc",),
        filters=("xnm", "xqm"),
    ),
    _spec(
        "timetable",
        "kbcx/kbcx_cxKbxx.html",
        ("kb_id",),
        "kb_id jxb_id kch xnm xqm xqj jcs zcd cdmc jsgh gxsj",
        "kb_id jxb_id xqj jcs",
        codes={"xqj": "8"},
        text_fields=("cdmc",),
        filters=("xnm", "xqm"),
    ),
    _spec(
        "grades",
        "cjcx/cjcx_cxDgXscj.html",
        ("xh", "jxb_id", "ksxzdm"),
        "xh xm jxb_id kch kcmc xnm xqm xf cj jd ksxzdm ksxz kcxzmc cjbz gxsj",
        "xh jxb_id kch cj ksxzdm",
        codes={"ksxzdm": "99"},
        text_fields=("kcmc", "cjbz"),
        filters=("xnm", "xqm"),
    ),
    _spec(
        "attendance",
        "kqgl/kqxx_cxXskq.html",
        ("kq_id",),
        "kq_id xh jxb_id kch kqrq jcs kqlxdm kqlxmc jlrgh gxsj",
        "kq_id xh jxb_id kqrq kqlxdm",
        codes={"kqlxdm": "9"},
        dates={"kqrq": "2026-09-31"},
    ),
)
EXAM = {"01": "正常考试", "11": "补考", "16": "重修"}
ABSENCE = {"1": "迟到", "2": "早退", "3": "旷课", "4": "事假", "5": "病假"}
FIVE_LEVEL = [(90, "优秀", 95), (80, "良好", 85), (70, "中等", 75), (60, "及格", 65)]


def grade_text(score: int, category: str) -> tuple[str, str]:
    """成绩 and 绩点 as 正方 shows them; C类 courses use the five-level scale."""
    point = f"{max(0.0, (score - 50) / 10):.2f}" if score >= 60 else "0.00"
    if category != "C":
        return str(score), point
    for floor, label, _ in FIVE_LEVEL:
        if score >= floor:
            return label, point
    return "不及格", point


class Academic(Domain):
    subsystem = "academic"
    vendor = ZHENGFANG
    specs = SPECS

    def __init__(self, ctx):
        super().__init__(ctx)
        self.t = Teaching(self.c)
        self.c.teaching = self.t
        self.failed: dict[str, list[tuple[str, int]]] = {}  # jxb_id -> [(xh, score)]
        self._absences: dict[dt.date, list] = {}

    # ---- before start ---------------------------------------------------------------

    def build(self) -> None:
        rng = stream(self.seed, "academic", "base")
        y = self.c.year
        old = dt.date(y - 1, 3, 1)
        for code, name, short, kind in codes.UNITS:
            self.put(
                "departments",
                code,
                any_ts(rng, old, dt.date(y - 1, 9, 1)),
                {"jgdm": code, "jgmc": name, "jgjc": short, "jglbmc": kind, "sfyx": "1"},
            )
        for major in self.c.majors:
            ts = any_ts(rng, dt.date(y, 3, 1), dt.date(y, 6, 1))
            self.put("majors", major.zyh_id, ts, self._major(major))
        for klass in self.c.classes:
            ts = any_ts(rng, dt.date(klass.cohort, 8, 20), dt.date(klass.cohort, 8, 30))
            self.put("classes", klass.bh_id, ts, self._class(klass))
        for s in self.c.students.values():
            self.put("students", s.pid, self._student_base_ts(rng, s), self._student(s))
        for course in self.t.courses.values():
            ts = any_ts(rng, dt.date(y - 1, 6, 1), dt.date(y - 1, 8, 1))
            self.put("courses", course.kch, ts, self._course(course))
        for section in self.t.sections:
            opens = (
                dt.date(section.xnm, 6, 15)
                if section.xqm == "3"
                else dt.date(section.xnm + 1, 1, 5)
            )
            self.put(
                "sections",
                section.jxb_id,
                any_ts(rng, opens, opens + dt.timedelta(days=30)),
                self._section(section),
            )
        for section in self.t.current():
            for n, slot in enumerate(section.slots):
                ts = any_ts(rng, dt.date(y, 8, 10), dt.date(y, 8, 28))
                self.put("timetable", f"{section.jxb_id[:12]}{n}", ts, self._slot(section, n, slot))
        for section in self.t.sections:
            if (section.xnm, section.xqm) != self.t.terms[-1]:
                self._publish_grades(section, None)

    def _student_base_ts(self, rng, s) -> int:
        if s.cohort == self.c.year:
            return office_ts(rng, dt.date(self.c.year, 8, 25))  # imported from admissions
        if s.status == "04":
            return office_ts(rng, dt.date(self.c.year, 6, 30))
        return any_ts(rng, dt.date(s.cohort, 9, 10), dt.date(self.c.year, 8, 1))

    def _major(self, major) -> dict:
        return {
            "zyh_id": major.zyh_id,
            "zydm": major.zydm,
            "zymc": major.zymc,
            "jgdm": major.jgdm,
            "zyqdm": f"ZYQ{major.jgdm}",
            "zyqmc": codes.CLUSTER_NAMES[major.jgdm],
            "xz": "3",
            "ccmc": "专科",
            "jlny": str(major.founded),
            "sfzs": "1" if major.enrolling else "0",
        }

    def _class(self, klass) -> dict:
        m = klass.major
        return {
            "bh_id": klass.bh_id,
            "bj": klass.name,
            "njdm_id": str(klass.cohort),
            "zyh_id": m.zyh_id,
            "zydm": m.zydm,
            "jgdm": m.jgdm,
            "fdy_gh": klass.counsellor,
            "rs": str(len(klass.students)),
        }

    def _student(self, s) -> dict:
        m = s.klass.major
        return {
            "xh": s.pid,
            "xm": s.name,
            "xbm": s.sex,
            "csrq": s.birth.strftime("%Y%m%d"),
            "mzm": s.nation,
            "zzmmm": s.political,
            "sfzjh": s.id_number,
            "njdm_id": str(s.cohort),
            "jgdm": m.jgdm,
            "zyh_id": m.zyh_id,
            "zydm": m.zydm,
            "bh_id": s.klass.bh_id,
            "xjztdm": s.status,
            "xjztmc": STATUS[s.status],
            "rxrq": f"{s.cohort}09{5 + int(s.pid[-2:]) % 5:02d}",
            "sjhm": s.mobile,
            "syd": s.area,
        }

    def _course(self, co) -> dict:
        return {
            "kch": co.kch,
            "kcmc": co.name,
            "xf": f"{co.credits:.1f}",
            "zxs": str(co.hours),
            "kcxzdm": co.nature,
            "kcxzmc": NATURE[co.nature],
            "kclbmc": f"{co.category}类",
            "kkbm": co.unit,
        }

    def _section(self, se: Section) -> dict:
        teacher = self.c.staff[se.teacher]
        return {
            "jxb_id": se.jxb_id,
            "jxbmc": se.name,
            "kch": se.course.kch,
            "kcmc": se.course.name,
            "xnm": str(se.xnm),
            "xqm": se.xqm,
            "jsgh": teacher.pid,
            "jsxm": teacher.name,
            "bh_id": se.klass.bh_id,
            "jxbrs": str(len(se.klass.students)),
        }

    def _slot(self, se: Section, n: int, slot) -> dict:
        day, period, weeks, room = slot
        return {
            "kb_id": f"{se.jxb_id[:12]}{n}",
            "jxb_id": se.jxb_id,
            "kch": se.course.kch,
            "xnm": str(se.xnm),
            "xqm": se.xqm,
            "xqj": str(day),
            "jcs": period,
            "zcd": weeks,
            "cdmc": room,
            "jsgh": se.teacher,
        }

    # ---- grades ---------------------------------------------------------------------

    def _grade(self, se: Section, xh: str, score: int, exam: str, ts: int, note: str = "") -> None:
        s = self.c.students[xh]
        cj, jd = grade_text(score, se.course.category)
        if note == "缺考":
            cj, jd = "0", "0.00"
        self.put(
            "grades",
            (xh, se.jxb_id, exam),
            ts,
            {
                "xh": xh,
                "xm": s.name,
                "jxb_id": se.jxb_id,
                "kch": se.course.kch,
                "kcmc": se.course.name,
                "xnm": str(se.xnm),
                "xqm": se.xqm,
                "xf": f"{se.course.credits:.1f}",
                "cj": cj,
                "jd": jd,
                "ksxzdm": exam,
                "ksxz": EXAM[exam],
                "kcxzmc": NATURE[se.course.nature],
                "cjbz": note,
            },
        )

    def _publish_grades(self, se: Section, d: dt.date | None) -> None:
        """Normal-exam grades of one section; ``d`` None = the end of a past term."""
        rng = stream(self.seed, "grades", se.jxb_id)
        if d is None:
            end = dt.date(se.xnm + 1, 1, 8) if se.xqm == "3" else dt.date(se.xnm + 1, 6, 28)
            ts = any_ts(rng, end, end + dt.timedelta(days=12))
        else:
            ts = office_ts(rng, d)
        difficulty = rng.gauss(0, 4)
        failed = []
        for xh in se.klass.students:
            s = self.c.students[xh]
            if s.status in ("03", "06") and s.cohort >= se.xnm:
                continue
            score = round(min(100, max(0, 76 + 8 * s.ability + difficulty + rng.gauss(0, 8))))
            note = "缺考" if rng.random() < 0.005 else ""
            self._grade(se, xh, score, "01", ts, note)
            if score < 60 or note:
                failed.append((xh, 0 if note else score))
        self.failed[se.jxb_id] = failed
        if d is None and se.xqm == "3":
            # the first term's make-up exams took place in March
            for xh, _ in failed:
                self._grade(
                    se,
                    xh,
                    rng.randint(45, 85),
                    "11",
                    any_ts(rng, dt.date(se.xnm + 1, 3, 2), dt.date(se.xnm + 1, 3, 20)),
                )

    def _makeup_day(self, se: Section) -> dt.date:
        """Make-up exams for last term's failures: weeks 2-3 of this term."""
        return self.ctx.start + dt.timedelta(
            days=7 + int(unit(self.seed, "makeup", se.jxb_id) * 10)
        )

    # ---- each day -------------------------------------------------------------------

    def day(self, d: dt.date) -> None:
        rng = stream(self.seed, "academic", d)
        self._registrations(rng, d)
        self._status_changes(rng, d)
        if weekday(d):
            self._makeups(d)
            self._amendments(rng, d)
            self._attendance(d)
            self._timetable_changes(rng, d)
        end = self.ctx.start + dt.timedelta(weeks=18)
        for se in self.t.current():
            publish = end + dt.timedelta(days=3 + int(unit(self.seed, "publish", se.jxb_id) * 12))
            if publish == d:
                self._publish_grades(se, d)

    def registration(self, xh: str) -> tuple[dt.date, str]:
        """When a freshman registers (01) or gives up the place (06); shared with admissions."""
        u = unit(self.seed, "register", xh)
        if u < 0.03:
            return self.ctx.start + dt.timedelta(days=14), "06"
        return self.ctx.start + dt.timedelta(days=int(u * 1000) % 10), "01"

    def _registrations(self, rng, d: dt.date) -> None:
        if d > self.ctx.start + dt.timedelta(days=14):
            return
        for s in self.c.students.values():
            if s.cohort == self.c.year and s.status == "05":
                when, status = self.registration(s.pid)
                if when == d:
                    self._set_status(rng, s, status, d)

    def _set_status(self, rng, s, status: str, d: dt.date) -> None:
        s.status = status
        record = dict(self.get("students", s.pid))
        record.update(xjztdm=status, xjztmc=STATUS[status])
        self.put("students", s.pid, office_ts(rng, d), record)

    def _status_changes(self, rng, d: dt.date) -> None:
        pool = [s for s in self.c.in_school() if s.status == "01" and s.cohort < self.c.year]
        for _ in range(poisson(rng, self.c.scale * 0.00006)):
            if pool:
                self._set_status(rng, rng.choice(pool), rng.choice(["02", "03"]), d)
        for _ in range(poisson(rng, self.c.scale * 0.0003) if pool else 0):
            s = rng.choice(pool)
            record = dict(self.get("students", s.pid))
            record["sjhm"] = "1" + rng.choice("35789") + f"{rng.randrange(10**9):09d}"
            self.put("students", s.pid, office_ts(rng, d), record)

    def _makeups(self, d: dt.date) -> None:
        last = self.t.terms[-2]
        for se in self.t.sections:
            if (
                (se.xnm, se.xqm) == last
                and self.failed.get(se.jxb_id)
                and self._makeup_day(se) == d
            ):
                rng = stream(self.seed, "makeup-grades", se.jxb_id)
                ts = office_ts(rng, d)
                for xh, score in self.failed[se.jxb_id]:
                    if self.c.students[xh].status in ("01", "02"):
                        new = min(100, max(score, 50) + rng.randint(-5, 25))
                        absent = rng.random() < 0.05
                        self._grade(se, xh, new, "11", ts, "缺考" if absent else "")
                        if new >= 60 and not absent:  # the original row is annotated too
                            original = dict(self.get("grades", (xh, se.jxb_id, "01")))
                            original["cjbz"] = "补考通过"
                            self.put("grades", (xh, se.jxb_id, "01"), ts, original)

    def _amendments(self, rng, d: dt.date) -> None:
        """成绩更正: a teacher fixes a mis-typed normal-exam grade."""
        grades = self.table("grades")
        if not grades:
            return
        keys = list(grades)
        for _ in range(poisson(rng, max(1.0, self.c.scale * 0.0004))):
            key = rng.choice(keys)
            record = dict(grades[key][1])
            if record["cj"].isdigit() and record["cjbz"] == "":
                score = min(100, int(record["cj"]) + rng.randint(1, 6))
                record["cj"], record["jd"] = grade_text(score, "A")
                self.put("grades", key, office_ts(rng, d), record)

    def _absences_on(self, day: dt.date) -> list[tuple[int, dict]]:
        """Attendance exceptions of one teaching day, each with the entry lag in days."""
        if day in self._absences:
            return self._absences[day]
        rng = stream(self.seed, "absences", day)
        out = []
        if weekday(day) and day >= self.ctx.start:
            for se in self.t.current():
                for day_no, period, _weeks, _room in se.slots:
                    if day_no != day.isoweekday():
                        continue
                    for xh in se.klass.students:
                        if rng.random() >= 0.03 or self.c.students[xh].status != "01":
                            continue
                        kind = rng.choices("12345", [40, 8, 30, 12, 10])[0]
                        lag = rng.choices([0, 1, 2, 3], [60, 25, 10, 5])[0]
                        out.append(
                            (
                                lag,
                                {
                                    "kq_id": f"KQ{day:%Y%m%d}{len(out):06d}",
                                    "xh": xh,
                                    "jxb_id": se.jxb_id,
                                    "kch": se.course.kch,
                                    "kqrq": day.isoformat(),
                                    "jcs": period,
                                    "kqlxdm": kind,
                                    "kqlxmc": ABSENCE[kind],
                                    "jlrgh": se.teacher,
                                },
                            )
                        )
        self._absences[day] = out
        self._absences.pop(day - dt.timedelta(days=8), None)
        return out

    def _attendance(self, d: dt.date) -> None:
        rng = stream(self.seed, "attendance-entry", d)
        for lag in range(4):
            for entry_lag, record in self._absences_on(d - dt.timedelta(days=lag)):
                if entry_lag == lag:  # late entries are stamped the day they are typed in
                    self.put("attendance", record["kq_id"], office_ts(rng, d, 9, 21), record)
        # a leave approved afterwards turns 旷课 into 事假/病假
        for _, record in self._absences_on(d - dt.timedelta(days=5)):
            if record["kqlxdm"] == "3" and unit(self.seed, "excused", record["kq_id"]) < 0.15:
                kind = rng.choice("45")
                self.put(
                    "attendance",
                    record["kq_id"],
                    office_ts(rng, d),
                    dict(record, kqlxdm=kind, kqlxmc=ABSENCE[kind]),
                )

    def _timetable_changes(self, rng, d: dt.date) -> None:
        """调课: a room change now and then."""
        table = self.table("timetable")
        if table and rng.random() < 0.5:
            key = rng.choice(sorted(table))
            record = dict(table[key][1])
            record["cdmc"] = (
                f"{rng.choice(['综合楼', '艺术楼A'])}{rng.randint(1, 5)}{rng.randint(1, 20):02d}"
            )
            self.put("timetable", key, office_ts(rng, d), record)
