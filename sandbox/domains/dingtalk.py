"""钉钉: departments, users (userid <-> 工号), approval instances and attendance results.

Shapes follow the old server API (oapi.dingtalk.com): keys absent rather than null,
instance times as "yyyy-MM-dd HH:mm:ss", attendance times in epoch ms.
"""

from __future__ import annotations

import datetime as dt

from .. import codes
from ..rng import stream, unit
from ..spec import Spec
from ..timefmt import DATE_MS, DATETIME, day_start, fmt_compact, fmt_datetime
from .base import DINGTALK, Domain, days, office_ts, weekday

SPECS = (
    Spec(
        "dingtalk",
        "departments",
        "/dingtalk/topapi/v2/department/listsub",
        ("dept_id",),
        "",
        "",
        ("dept_id", "name", "parent_id"),
        ("dept_id", "name"),
        method="POST",
        full_refresh=True,
        stamp=False,
        text_fields=("name",),
    ),
    Spec(
        "dingtalk",
        "users",
        "/dingtalk/topapi/v2/user/list",
        ("userid",),
        "",
        "",
        tuple("userid unionid name job_number title dept_id_list mobile hired_date active".split()),
        ("userid", "name"),
        method="POST",
        full_refresh=True,
        stamp=False,
        text_fields=("title",),
    ),
    Spec(
        "dingtalk",
        "approvals",
        "/dingtalk/topapi/processinstance/get",
        ("process_instance_id",),
        "create_time",
        DATETIME,
        tuple(
            "title create_time finish_time originator_userid originator_dept_id "
            "originator_dept_name status result business_id biz_action "
            "attached_process_instance_ids approver_userids cc_userids form_component_values "
            "operation_records tasks".split()
        ),
        ("title", "create_time", "originator_userid", "status"),
        method="POST",
        codes={"status": "DONE"},
        dates={"finish_time": "2026-02-30 10:00:00"},
        text_fields=("title",),
        key_in_record=False,
        stamp=False,
    ),
    Spec(
        "dingtalk",
        "attendance",
        "/dingtalk/attendance/list",
        ("id",),
        "workDate",
        DATE_MS,
        tuple(
            "id userId workDate checkType timeResult locationResult baseCheckTime "
            "userCheckTime sourceType procInstId groupId planId recordId".split()
        ),
        ("id", "userId", "workDate", "checkType", "timeResult"),
        method="POST",
        codes={"timeResult": "Unknown", "checkType": "Duty"},
        stamp=False,
    ),
)
TEMPLATES = {
    "PROC-QJ-2026": "请假",
    "PROC-CC-2026": "出差",
    "PROC-YY-2026": "用印申请",
    "PROC-CG-2026": "采购申请",
    "PROC-BK-2026": "补卡申请",
}
RATES = {"PROC-QJ-2026": 0.02, "PROC-CC-2026": 0.006, "PROC-YY-2026": 0.004, "PROC-CG-2026": 0.003}
ROOT = 1
APPROVAL_HISTORY_FROM = (3, 1)  # month, day of the calendar year the term starts in


def dept_id(code: str) -> int:
    return 100 + int(code)


class DingTalk(Domain):
    subsystem = "dingtalk"
    vendor = DINGTALK
    specs = SPECS

    def build(self) -> None:
        rng = stream(self.seed, "dingtalk", "base")
        # the root (dept_id 1, the college itself) is not listed: listsub returns children only
        for code, name, _, _ in codes.UNITS:
            self.put(
                "departments",
                dept_id(code),
                0,
                {"dept_id": dept_id(code), "name": name, "parent_id": ROOT},
            )
        self.members = []  # (userid, staff) of people with a DingTalk account
        for s in sorted(self.c.staff.values(), key=lambda s: s.pid):
            if s.state != "在职":
                continue
            if self.c.mapping_missing("dingtalk-absent", s.pid):
                self.c.log_noise("missing_mapping", "dingtalk", "users", s.pid, "userid", s.pid, "")
                continue
            record = {
                "userid": s.userid,
                "unionid": f"{unit(self.seed, 'union', s.pid):.16f}"[2:],
                "name": self.c.served_name(s, "dingtalk", "users"),
                "job_number": s.pid,
                "title": s.title if s.post == "专任教师" else s.post,
                "dept_id_list": [dept_id(s.dept)],
                "mobile": s.mobile,
                "hired_date": day_start(s.hired) * 1000,
                "active": True,
            }
            if self.c.mapping_missing("dingtalk", s.pid):
                del record["job_number"]
                self.c.log_noise(
                    "missing_mapping", "dingtalk", "users", s.pid, "job_number", s.pid, ""
                )
            self.put("users", s.userid, 0, record)
            self.members.append((s.userid, s))
        for n in range(max(2, len(self.members) // 50)):  # 外聘 teachers: no roster entry
            userid = str(rng.randrange(10**15, 10**16))
            record = {
                "userid": userid,
                "unionid": f"{rng.random():.16f}"[2:],
                "name": f"外聘{rng.choice('张王李刘陈')}老师{n + 1}",
                "title": "外聘教师",
                "dept_id_list": [dept_id(rng.choice(codes.SCHOOLS))],
                "mobile": "1" + rng.choice("3579") + f"{rng.randrange(10**9):09d}",
                "hired_date": day_start(self.ctx.start) * 1000 - 86400000 * rng.randint(10, 400),
                "active": True,
            }
            if n % 2:
                record["job_number"] = f"WP{n + 1:04d}"
            self.put("users", userid, 0, record)
        self.instances = 0
        self.ids: dict[str, int] = {}  # instance id -> create time
        self.process_code: dict[str, str] = {}  # instance id -> template, for listids
        self.fixes: dict[str, int] = {}  # 补卡 instance id -> the attendance result it fixes
        history = dt.date(self.ctx.start.year, *APPROVAL_HISTORY_FROM)
        for d in days(history, self.ctx.start):
            self._approvals(d)

    # ---- approvals ------------------------------------------------------------------

    def _instance_id(self, rng) -> str:
        h = f"{rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def _form(self, rng, code: str, ts: int, extra: dict) -> list[dict]:
        if "form" in extra:  # a revocation repeats the form of the instance it revokes
            return extra["form"]
        day = fmt_datetime(ts)[:10]
        if code == "PROC-QJ-2026":
            n = rng.choice([0.5, 1, 1, 2, 3])
            values = [
                (
                    "请假类型",
                    rng.choices(["事假", "病假", "年假", "调休", "婚假"], [35, 30, 20, 12, 3])[0],
                ),
                ("开始时间", f"{day} 08:00"),
                ("结束时间", f"{day} 17:30"),
                ("时长(天)", str(n)),
                (
                    "请假事由",
                    rng.choice(["家中有事", "身体不适，需就医", "陪同家人看病", "", "个人事务"]),
                ),
            ]
        elif code == "PROC-CC-2026":
            values = [
                ("出差地点", rng.choice(["北京", "上海", "景德镇", "深圳", "醴陵", "杭州"])),
                ("开始时间", day),
                ("结束时间", day),
                ("出差事由", "参加专业建设研讨会"),
            ]
        elif code == "PROC-YY-2026":
            values = [
                ("用印文件", rng.choice(["校企合作协议", "实习协议", "证明材料"])),
                ("印章类型", rng.choice(["学校公章", "合同专用章"])),
                ("份数", str(rng.randint(1, 6))),
            ]
        elif code == "PROC-CG-2026":
            values = [
                ("采购内容", rng.choice(["实训耗材", "陶艺泥料", "绘画颜料", "摄影器材配件"])),
                ("预算金额(元)", str(rng.randint(5, 500) * 100)),
                ("预算项目编号", ""),
            ]
        else:
            values = [
                ("补卡时间", extra["when"]),
                ("补卡原因", rng.choice(["忘记打卡", "考勤机故障", "外出办事"])),
            ]
        out = []
        for n, (name, value) in enumerate(values):
            item = {"name": name, "id": f"TextField-{n:04d}", "component_type": "TextField"}
            if value != "":  # empty form fields carry no value key at all
                item["value"] = value
            out.append(item)
        return out

    def _start(self, rng, code: str, ts: int, who, extra: dict | None = None) -> str:
        userid, staff = who
        pid = self._instance_id(rng)
        self.instances += 1
        approvers = [
            u for u, _ in rng.sample(self.members, k=min(len(self.members), rng.randint(1, 3)))
        ]
        instance = {
            "title": f"{staff.name}提交的{TEMPLATES[code]}",
            "create_time": fmt_datetime(ts),
            "originator_userid": userid,
            "originator_dept_id": str(dept_id(staff.dept)) if rng.random() > 0.05 else "-1",
            "originator_dept_name": codes.UNIT_NAME[staff.dept],
            "status": "RUNNING",
            "result": "",
            "business_id": f"{fmt_compact(ts)[:12]}{self.instances % 100:02d}",
            "biz_action": (extra or {}).get("biz_action", "NONE"),
            "attached_process_instance_ids": (extra or {}).get("attached", []),
            "approver_userids": ",".join(approvers) if rng.random() < 0.5 else approvers,
            "cc_userids": "",
            "form_component_values": self._form(rng, code, ts, extra or {}),
            "operation_records": [
                {
                    "userid": userid,
                    "date": fmt_datetime(ts),
                    "operation_type": "START_PROCESS_INSTANCE",
                    "operation_result": "NONE",
                }
            ],
            "tasks": [],
        }
        for n, approver in enumerate(approvers):
            task = {
                "taskid": int(f"{ts % 10**8}{n}"),
                "userid": approver,
                "task_status": "RUNNING" if n == 0 else "NEW",
            }
            if rng.random() > 0.1:  # real payloads sometimes lack a task's create_time
                task["create_time"] = fmt_datetime(ts)
            instance["tasks"].append(task)
        self.ids[pid] = ts
        if extra and "fix" in extra:
            self.fixes[pid] = extra["fix"]
        self._put_instance(pid, code, instance)
        finish = ts + rng.randint(600, 3 * 86400)
        roll = rng.random()
        outcome = "terminate" if roll < 0.05 else ("refuse" if roll < 0.12 else "agree")
        self.at(finish, self._finish, pid, code, outcome, rng.random())
        return pid

    def _put_instance(self, pid: str, code: str, instance: dict) -> None:
        self.process_code[pid] = code
        self.put("approvals", pid, self.ids[pid], instance)

    def _finish(self, ts: int, pid: str, code: str, outcome: str, roll: float) -> None:
        instance = self.get("approvals", pid)
        instance = {
            **instance,
            "tasks": [dict(t) for t in instance["tasks"]],
            "operation_records": list(instance["operation_records"]),
        }
        instance["finish_time"] = fmt_datetime(ts)
        if outcome == "terminate":
            instance.update(status="TERMINATED", result="")
            instance["operation_records"].append(
                {
                    "userid": instance["originator_userid"],
                    "date": fmt_datetime(ts),
                    "operation_type": "TERMINATE_PROCESS_INSTANCE",
                    "operation_result": "NONE",
                    "remark": "撤销",
                }
            )
            for task in instance["tasks"]:
                task["task_status"] = "CANCELED"
        else:
            instance.update(status="COMPLETED", result=outcome)
            for n, task in enumerate(instance["tasks"]):
                last = n == len(instance["tasks"]) - 1
                task.update(
                    task_status="COMPLETED",
                    task_result="AGREE" if outcome == "agree" or not last else "REFUSE",
                    finish_time=fmt_datetime(ts),
                )
                instance["operation_records"].append(
                    {
                        "userid": task["userid"],
                        "date": fmt_datetime(ts),
                        "operation_type": "EXECUTE_TASK_NORMAL",
                        "operation_result": task["task_result"],
                        "remark": "同意" if task["task_result"] == "AGREE" else "不同意",
                    }
                )
        self._put_instance(pid, code, instance)
        if outcome == "agree" and code == "PROC-BK-2026":
            self._fixed_punch(ts, pid)
        if outcome == "agree" and instance["biz_action"] == "NONE" and roll < 0.015:
            # revoking an approved instance creates a new, attached instance
            rng = stream(self.seed, "revoke", pid)
            who = next(m for m in self.members if m[0] == instance["originator_userid"])
            when = ts + rng.randint(1, 10) * 86400
            extra = {
                "biz_action": "REVOKE",
                "attached": [pid],
                "form": instance["form_component_values"],
            }
            self.at(when, lambda t: self._start(rng, code, t, who, extra))

    def _approvals(self, d: dt.date) -> None:
        if not weekday(d) or not self.members:
            return
        rng = stream(self.seed, "approvals", d)
        for code, rate in RATES.items():
            for _ in range(sum(rng.random() < rate for _ in range(len(self.members)))):
                self._start(rng, code, office_ts(rng, d), rng.choice(self.members))

    # ---- attendance -----------------------------------------------------------------

    def _punches(self, d: dt.date) -> None:
        if not weekday(d):
            return
        rng = stream(self.seed, "punches", d)
        base = day_start(d)
        for n, (userid, staff) in enumerate(self.members):
            for check, hour in (("OnDuty", 8 * 3600), ("OffDuty", 17 * 3600 + 1800)):
                planned = base + hour
                roll = rng.random()
                if roll < 0.025:
                    result, actual, where = "NotSigned", planned, "NotSigned"
                elif roll < 0.055:
                    result = "Late" if check == "OnDuty" else "Early"
                    actual = planned + (1 if check == "OnDuty" else -1) * rng.randint(60, 1800)
                    where = "Normal"
                elif roll < 0.06:
                    result, actual, where = (
                        ("SeriousLate" if check == "OnDuty" else "Early"),
                        planned + (1 if check == "OnDuty" else -1) * rng.randint(1800, 7200),
                        "Normal",
                    )
                else:
                    result = "Normal"
                    actual = planned + (-1 if check == "OnDuty" else 1) * rng.randint(0, 2400)
                    where = "Normal" if rng.random() > 0.03 else "Outside"
                rid = int(f"{d:%y%m%d}{n:05d}{0 if check == 'OnDuty' else 1}")
                record = {
                    "id": rid,
                    "userId": userid,
                    "workDate": base * 1000,
                    "checkType": check,
                    "timeResult": result,
                    "locationResult": where,
                    "baseCheckTime": planned * 1000,
                    "userCheckTime": actual * 1000,
                    "sourceType": rng.choices(
                        ["ATM", "DING_ATM", "USER", "BEACON"], [50, 20, 25, 5]
                    )[0],
                    "groupId": 1000 + int(staff.dept),
                    "planId": int(f"{d:%y%m%d}{n:05d}"),
                    "recordId": rid + 7,
                }
                if result == "NotSigned":
                    del record["recordId"]
                    if rng.random() < 0.4:  # a 补卡 request follows within two days
                        when = office_ts(rng, d + dt.timedelta(days=rng.randint(0, 2)), 9, 17)
                        self.at(
                            max(when, planned + 600),
                            self._request_fix,
                            (userid, staff),
                            rid,
                            planned,
                        )
                if record["sourceType"] == "ATM" and rng.random() < 0.02:
                    # an offline attendance machine syncs days later: the result arrives late
                    sync = office_ts(rng, d + dt.timedelta(days=rng.randint(1, 3)))
                    self.at(sync, self._put_punch, record)
                else:
                    self._put_punch(actual, record)

    def _put_punch(self, _ts: int, record: dict) -> None:
        self.put("attendance", record["id"], record["workDate"] // 1000, record)

    def _request_fix(self, ts: int, who, rid: int, planned: int) -> None:
        rng = stream(self.seed, "fix", rid)
        self._start(rng, "PROC-BK-2026", ts, who, {"when": fmt_datetime(planned), "fix": rid})

    def _fixed_punch(self, ts: int, pid: str) -> None:
        rid = self.fixes.get(pid)
        record = self.get("attendance", rid) if rid else None
        if record is None:
            return
        record = dict(
            record,
            timeResult="Normal",
            locationResult="Normal",
            sourceType="APPROVE",
            procInstId=pid,
            recordId=rid + 7,
        )
        self._put_punch(ts, record)

    def day(self, d: dt.date) -> None:
        self._approvals(d)
        self._punches(d)
        self.run_due(d)
