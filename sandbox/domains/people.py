"""教师发展中心 (the staff roster, trainings, qualifications) and 学生发展中心 (self-assessment
questionnaires, counsellor records): both RuoYi-style platforms about people."""

from __future__ import annotations

import datetime as dt

from .. import codes
from ..rng import stream, unit
from ..spec import Spec
from ..timefmt import DATETIME, day_start, fmt_datetime, to_date
from .base import RUOYI, Domain, any_ts, office_ts, poisson, weekday

BAD = codes.INVALID
TEACHER_SPECS = (
    Spec(
        "teacher_development",
        "staff",
        "/teacher_development/jzg/list",
        ("GH",),
        "GXSJ",
        DATETIME,
        tuple(
            "GH XM XBM CSRQ MZM ZZMMM SFZJH BMDM BMMC GWLB ZCMC ZCJB XLDM SFSSX RZRQ RYZT SJHM "
            "GXSJ".split()
        ),
        ("GH", "XM", "XBM", "SFZJH", "BMDM"),
        codes={"XBM": BAD["sex"], "MZM": BAD["nation"], "ZZMMM": BAD["political"], "XLDM": "99"},
        dates={"CSRQ": "19850230", "RZRQ": "20101332"},
        id_fields=("SFZJH",),
        text_fields=("XM",),
    ),
    Spec(
        "teacher_development",
        "trainings",
        "/teacher_development/px/list",
        ("JLID",),
        "GXSJ",
        DATETIME,
        ("JLID", "GH", "PXXMMC", "PXLX", "ZBDW", "KSRQ", "JSRQ", "XS", "GXSJ"),
        ("JLID", "GH", "PXXMMC", "KSRQ"),
        dates={"KSRQ": "20260230"},
        text_fields=("PXXMMC",),
    ),
    Spec(
        "teacher_development",
        "qualifications",
        "/teacher_development/zs/list",
        ("JLID",),
        "GXSJ",
        DATETIME,
        ("JLID", "GH", "ZSLX", "ZSMC", "ZSBH", "FZJG", "HDRQ", "YXQZ", "GXSJ"),
        ("JLID", "GH", "ZSMC", "HDRQ"),
        dates={"HDRQ": "20250431"},
        text_fields=("ZSMC",),
    ),
)
TRAININGS = [
    ("国培", "职业院校教师素质提高计划国家级培训", "教育部教师工作司"),
    ("省培", "湖南省职业院校教师省级培训", "湖南省教育厅"),
    ("校本培训", "课程思政教学能力提升培训", "湖南工艺美术职业学院"),
    ("企业实践", "教师企业实践锻炼", "合作企业"),
    ("线上研修", "国家智慧教育平台暑期教师研修", "国家智慧教育公共服务平台"),
]
CERTS = [
    ("教师资格证", "高等学校教师资格证", "湖南省教育厅", False),
    ("职业资格证", "工艺美术师", "湖南省人力资源和社会保障厅", True),
    ("职业技能等级证书", "界面设计职业技能等级证书（高级）", "培训评价组织", True),
    ("职业技能等级证书", "数字创意建模职业技能等级证书（中级）", "培训评价组织", True),
    ("企业实践证明", "企业实践经历证明（6个月）", "合作企业", True),
]


class TeacherDevelopment(Domain):
    subsystem = "teacher_development"
    vendor = RUOYI
    specs = TEACHER_SPECS

    def build(self) -> None:
        rng = stream(self.seed, "teacher_development", "base")
        y = self.c.year
        self.n = {"trainings": 0, "qualifications": 0}
        for s in sorted(self.c.staff.values(), key=lambda s: s.pid):
            self.put(
                "staff", s.pid, any_ts(rng, dt.date(y - 1, 9, 1), self.ctx.start), self._staff(s)
            )
            for _ in range(rng.randint(1, 5) if s.post == "专任教师" else rng.randint(0, 2)):
                self._training(rng, s, any_ts(rng, dt.date(y - 3, 1, 1), self.ctx.start))
            for kind, name, issuer, dual in CERTS:
                if s.post == "专任教师" and (not dual or (s.dual and rng.random() < 0.5)):
                    self._cert(rng, s, (kind, name, issuer), any_ts(rng, s.hired, self.ctx.start))

    def _staff(self, s) -> dict:
        return {
            "GH": s.pid,
            "XM": s.name,
            "XBM": s.sex,
            "CSRQ": f"{s.birth:%Y%m%d}",
            "MZM": s.nation,
            "ZZMMM": s.political,
            "SFZJH": s.id_number,
            "BMDM": s.dept,
            "BMMC": codes.UNIT_NAME[s.dept],
            "GWLB": s.post,
            "ZCMC": s.title,
            "ZCJB": s.title_level,
            "XLDM": s.education,
            "SFSSX": "1" if s.dual else "0",
            "RZRQ": f"{s.hired:%Y%m%d}",
            "RYZT": s.state,
            "SJHM": s.mobile,
        }

    def _training(self, rng, s, ts: int, kind=None) -> None:
        kind, name, host = kind or rng.choice(TRAININGS)
        self.n["trainings"] += 1
        key = f"PX{self.n['trainings']:07d}"
        begin = to_date(ts) - dt.timedelta(days=rng.randint(5, 60))
        length = rng.choice([3, 5, 7, 14, 30])
        self.put(
            "trainings",
            key,
            ts,
            {
                "JLID": key,
                "GH": s.pid,
                "PXXMMC": name,
                "PXLX": kind,
                "ZBDW": host,
                "KSRQ": f"{begin:%Y%m%d}",
                "JSRQ": f"{begin + dt.timedelta(days=length):%Y%m%d}",
                "XS": str(length * 6),
            },
        )

    def _cert(self, rng, s, cert, ts: int) -> None:
        kind, name, issuer = cert
        self.n["qualifications"] += 1
        key = f"ZS{self.n['qualifications']:07d}"
        got = to_date(ts)
        self.put(
            "qualifications",
            key,
            ts,
            {
                "JLID": key,
                "GH": s.pid,
                "ZSLX": kind,
                "ZSMC": name,
                "ZSBH": f"{rng.randrange(10**11, 10**12)}",
                "FZJG": issuer,
                "HDRQ": f"{got:%Y%m%d}",
                "YXQZ": ""
                if kind in ("教师资格证", "企业实践证明")
                else f"{got.year + 5}{got:%m%d}",
            },
        )

    def day(self, d: dt.date) -> None:
        if not weekday(d):
            return
        rng = stream(self.seed, "teacher_development", d)
        teachers = sorted(
            (s for s in self.c.staff.values() if s.post == "专任教师" and s.state == "在职"),
            key=lambda s: s.pid,
        )
        # summer trainings are entered in the first weeks of term
        surge = 6 if d < self.ctx.start + dt.timedelta(days=21) else 1
        for _ in range(poisson(rng, len(teachers) * 0.004 * surge)):
            self._training(rng, rng.choice(teachers), office_ts(rng, d))
        for _ in range(poisson(rng, len(teachers) * 0.002)):
            s = rng.choice(teachers)
            ts = office_ts(rng, d)
            self._cert(rng, s, rng.choice(CERTS[1:])[:3], ts)
            if not s.dual:  # a new industry certificate makes the teacher 双师型
                s.dual = True
                self.put("staff", s.pid, ts + 60, self._staff(s))


STUDENT_SPECS = (
    Spec(
        "student_development",
        "questionnaires",
        "/student_development/wj/list",
        ("DJID",),
        "GXSJ",
        DATETIME,
        tuple("DJID XH WJDM WJMC TJSJ XXDL ZYRT SHSY XLJK ZYGH ZF GXSJ".split()),
        ("DJID", "XH", "WJDM", "TJSJ"),
        codes={"WJDM": "WJ0000"},
        dates={"TJSJ": "2026-09-31 20:00:00"},
        text_fields=("WJMC",),
    ),
    Spec(
        "student_development",
        "counsellor_records",
        "/student_development/fdy/thjl/list",
        ("JLID",),
        "GXSJ",
        DATETIME,
        ("JLID", "FDYGH", "XH", "THRQ", "THLX", "THNR", "GZDJ", "GXSJ"),
        ("JLID", "FDYGH", "XH", "THRQ"),
        codes={"GZDJ": "特级"},
        dates={"THRQ": "2026-06-31"},
        text_fields=("THNR",),
    ),
)
TALKS = {
    "学业": [
        "本学期有{n}门课程需补考，已督促制定复习计划",
        "专业课作业提交不及时，约定每周反馈进度",
    ],
    "心理": [
        "近期情绪低落、睡眠不好，已建议到心理咨询中心预约",
        "与室友关系紧张，进行疏导并持续关注",
    ],
    "就业": ["了解实习意向，推荐参加校企合作单位双选会", "讨论专升本与就业的选择，提供备考建议"],
    "资助": ["家庭经济困难，指导申请国家助学金", "了解勤工助学岗位需求"],
    "日常": ["查寝发现晚归，进行安全教育", "了解新学期适应情况，总体良好"],
}


class StudentDevelopment(Domain):
    subsystem = "student_development"
    vendor = RUOYI
    specs = STUDENT_SPECS

    def build(self) -> None:
        y = self.c.year
        self.n_talks = 0
        for code, opens, cohorts in (
            (f"WJ{y - 1}Q1", dt.date(y - 1, 9, 8), range(y - 3, y)),
            (f"WJ{y - 1}Q2", dt.date(y, 3, 2), range(y - 3, y)),
        ):
            for s in self.c.students.values():
                if s.cohort in cohorts:
                    self._answer(code, s, opens)
        rng = stream(self.seed, "student_development", "base")
        students = [s for s in self.c.students.values() if y - 3 <= s.cohort < y]
        for _ in range(round(len(students) * 1.5)):
            self._talk(
                rng, rng.choice(students), any_ts(rng, dt.date(y - 1, 9, 1), dt.date(y, 7, 1))
            )
        self.current = f"WJ{y}Q1"
        for s in self.c.in_school():
            self._answer(self.current, s, self.ctx.start)

    def _answer(self, code: str, s, opens: dt.date) -> None:
        u = unit(self.seed, "questionnaire", code, s.pid)
        if u > 0.88:
            return  # did not answer
        spread = (u / 0.88) ** 2 * 21  # most answer in the first days, within 08:00-23:00
        ts = day_start(opens) + int(spread) * 86400 + 8 * 3600 + int(spread % 1 * 15 * 3600)
        rng = stream(self.seed, "answers", code, s.pid)
        scores = [
            min(5, max(1, round(3.4 + 0.5 * s.ability + rng.gauss(0, 0.8)))) for _ in range(5)
        ]
        key = f"{code}-{s.pid}"
        self.at(ts, self._submit, key, code, s.pid, scores)

    def _submit(self, ts: int, key: str, code: str, xh: str, scores: list[int]) -> None:
        season = "秋季" if code.endswith("Q1") else "春季"
        self.put(
            "questionnaires",
            key,
            ts,
            {
                "DJID": key,
                "XH": xh,
                "WJDM": code,
                "WJMC": f"学生学习与发展自测问卷（{code[2:6]}年{season}）",
                "TJSJ": fmt_datetime(ts),
                "XXDL": str(scores[0]),
                "ZYRT": str(scores[1]),
                "SHSY": str(scores[2]),
                "XLJK": str(scores[3]),
                "ZYGH": str(scores[4]),
                "ZF": str(sum(scores)),
            },
        )

    def _talk(self, rng, s, ts: int) -> None:
        self.n_talks += 1
        kind = rng.choices(list(TALKS), [25, 15, 20, 10, 30])[0]
        key = f"TH{self.n_talks:08d}"
        self.put(
            "counsellor_records",
            key,
            ts,
            {
                "JLID": key,
                "FDYGH": s.klass.counsellor,
                "XH": s.pid,
                "THRQ": fmt_datetime(ts)[:10],
                "THLX": kind,
                "THNR": rng.choice(TALKS[kind]).format(n=rng.randint(1, 3)),
                "GZDJ": rng.choices(["无", "一般关注", "重点关注"], [80, 17, 3])[0],
            },
        )

    def day(self, d: dt.date) -> None:
        if weekday(d):
            rng = stream(self.seed, "student_development", d)
            students = self.c.in_school()
            for _ in range(poisson(rng, len(students) * 0.008)):
                self._talk(rng, rng.choice(students), office_ts(rng, d, 9, 21))
        self.run_due(d)
