"""The human steps of a correction as Airflow human-in-the-loop tasks (standard provider).

`SignStep` is a `HITLOperator` whose assigned user, subject and body come from the request at
run time (the DAG is one for every request): the signer chooses 同意 or 不同意 and writes an
opinion (`params`). On Airflow 3.3 the task waits in `awaiting_input`; the signer answers in
the UI (Browse → Required Actions) or by `PATCH .../taskInstances/{task}/-1/hitlDetails`, and
only the assigned user may (others get 403).

- a step that is not part of this request's chain (the two heads coincide) or whose request is
  already closed (refused, timed out) skips itself, so the DAG's shape is fixed;
- a refusal closes the request, and the filler is told the reason;
- no answer within `response_timeout`: the first time a reminder goes to the signer and the
  task retries (a new wait); the second time the request times out and is escalated to the
  vice-president in charge and 质管办.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.providers.standard.operators.hitl import HITLOperator
from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowSkipException

from include import display
from include.corrections import connect, dingtalk, workflow
from include.corrections.chain import signers
from include.corrections.requests import load
from include.registry import registry

APPROVE, REFUSE = "同意", "不同意"
DEFAULT_TIMEOUT = timedelta(days=2)


def request_of(context) -> dict:
    request_id = context["ti"].xcom_pull(task_ids="submit")["request_id"]
    with connect() as conn:
        return load(conn, request_id)


def step_timeout(context) -> timedelta:
    seconds = (context["dag_run"].conf or {}).get("step_timeout_seconds")
    return timedelta(seconds=float(seconds)) if seconds else DEFAULT_TIMEOUT


class SignStep(HITLOperator):
    def __init__(self, *, step: str, **kwargs) -> None:
        kwargs.update(
            options=[APPROVE, REFUSE],
            subject="数据采集更正表待签",
            params={"opinion": Param("", type="string", title="意见 (opinion)")},
            retries=2,  # a timeout's retry is the reminder's new wait; the next one escalates
            retry_delay=timedelta(seconds=1),
        )
        super().__init__(**kwargs)
        self.step = step

    def _signer(self, request: dict):
        chain = signers(request["subsystem"], request["reporting_department"])
        return next((s for s in chain if s.step == self.step), None)

    def execute(self, context):
        request = request_of(context)
        if request["status"] not in ("submitted", "approved"):
            raise AirflowSkipException(f"更正表 {request['form_no']} 已办结（{request['status']}）")
        signer = self._signer(request)
        if signer is None:
            raise AirflowSkipException("本申请的审批链不含此步（组织与归口管理部门负责人为同一人）")
        self.assigned_users = [signer.hitl_user()]
        self.response_timeout = step_timeout(context)
        again = context["ti"].try_number > 1
        v = display.shown  # values a subsystem sent or a person typed: marked and cut
        items = "；".join(
            f"{i['resource']} {v(i['source_key'])} {i['field']}："
            f"{v(i['old_value'] or '（空）')} → {v(i['new_value'])}"
            for i in request["items"]
        )
        self.subject = (
            f"{'【催办】' if again else ''}数据采集更正表 {request['form_no']} 待{signer.title}签署"
        )
        self.body = (
            f"报送部门：{v(request['reporting_department'])}；子系统：{request['subsystem']}\n\n"
            f"更正内容：{items}\n\n更正理由：{v(request['reason'])}\n\n"
            f"填报人：{v(request['filler_name'])}。请选择“{APPROVE}”或“{REFUSE}”并填写意见。"
        )
        workflow.notify(
            [(signer.name, signer.email)],
            self.subject,
            f"{signer.name}：\n\n{self.body}\n\n请在数据中心界面 浏览 → 待办操作 中办理。",
        )
        if signer.dingtalk:
            dingtalk.work_notice([signer.dingtalk], f"{self.subject}\n{self.body}")
        return super().execute(context)

    def execute_complete(self, context, event):
        request = request_of(context)
        signer = self._signer(request)
        rid = request["request_id"]
        who = {"assignee_user": signer.user, "assignee_name": signer.name}
        if request["status"] not in ("submitted", "approved") and "error" in event:
            raise AirflowSkipException(f"更正表 {request['form_no']} 已办结，此步不再等待")
        if "error" in event and event.get("error_type") == "timeout":
            if context["ti"].try_number == 1:
                note = f"{signer.title}逾期未签，已催办"
                workflow.record_step(rid, "reminder", "remind", opinion=note, **who)
                return super().execute_complete(context, event)  # raises: the task retries
            self._escalate(request, signer)
            raise AirflowSkipException(f"{signer.title} {signer.name} 逾期未签，已升级")
        result = super().execute_complete(context, event)
        chosen = result["chosen_options"][0]
        opinion = (result["params_input"] or {}).get("opinion") or ""
        by = result["responded_by_user"]
        decision = "approve" if chosen == APPROVE else "refuse"
        workflow.record_step(
            rid, self.step, decision, responded_by=by["id"], opinion=opinion, **who,
            dag_id=self.dag_id, airflow_run_id=context["run_id"],
        )  # fmt: skip
        if request["status"] not in ("submitted", "approved"):
            return {"decision": decision, "by": by["id"], "note": "已办结，仅记录"}
        if decision == "refuse":
            reason = f"{signer.title} {signer.name} 不同意：{opinion or '未写意见'}"
            workflow.close(rid, "refused", reason)
            if request["filler_email"]:
                filler = request["filler_name"]
                workflow.notify(
                    [(filler, request["filler_email"])],
                    f"数据采集更正表 {request['form_no']} 已退回",
                    f"{filler}：\n\n您提交的更正表 {request['form_no']} 已退回。\n原因：{reason}",
                )
        elif self.step == "vice_president":
            workflow.approve(rid)
        elif self.step == "quality_office":
            workflow.verify(rid)
        return {"decision": decision, "by": by["id"], "opinion": opinion}

    def _escalate(self, request: dict, signer) -> None:
        rid = request["request_id"]
        reg = registry()
        qo = reg.departments[reg.quality_office]
        to = [(qo.head.name, qo.head.email)]
        vp = reg.departments[signer.department].vice_president
        if vp.login != signer.user:
            to.append((vp.name, vp.email))
        note = f"{signer.title}两次逾期未签，已升级至 {'、'.join(n for n, _ in to)}"
        workflow.record_step(rid, "escalation", "escalate", assignee_user=signer.user,
                             assignee_name=signer.name, opinion=note)  # fmt: skip
        workflow.close(rid, "timed_out", f"{signer.title} {signer.name} 逾期未签")
        workflow.notify(
            to,
            f"【升级】数据采集更正表 {request['form_no']} 逾期未签",
            f"{signer.title} {signer.name} 两次逾期未签更正表 {request['form_no']}，"
            "流程已终止，请督办。",
        )


REVIEWED = "提交审核结果"


class ReviewStep(HITLOperator):
    """The department review: one form listing the flagged items; `returned` names the item
    numbers sent back to the filler, every other item is confirmed."""

    def __init__(self, **kwargs) -> None:
        kwargs.update(
            options=[REVIEWED],
            subject="部门数据审核",
            params={
                "returned": Param([], type="array", title="退回填报人的项目编号 (returned items)"),
                "comment": Param("", type="string", title="审核意见 (comment)"),
            },
        )
        super().__init__(**kwargs)

    def execute(self, context):
        review = context["ti"].xcom_pull(task_ids="open_review")
        self.assigned_users = [{"id": review["reviewer"], "name": review["reviewer_name"]}]
        self.response_timeout = step_timeout(context)
        conf = context["dag_run"].conf
        self.subject = (
            f"部门数据审核：{conf['subsystem']} {conf['period']}（{review['department']}）"
        )
        lines = "\n".join(f"{i['no']}. {i['text']}" for i in review["items"]) or "本期无问题项。"
        self.body = f"请逐项核对；需退回填报人的项目，在 returned 中填其编号。\n\n{lines}"
        return super().execute(context)

    def execute_complete(self, context, event):
        from include.corrections import review

        result = super().execute_complete(context, event)
        opened = context["ti"].xcom_pull(task_ids="open_review")
        params = result["params_input"] or {}
        returned = list(params.get("returned") or [])
        by = result["responded_by_user"]["id"]
        return review.decide(
            opened["review_id"], by, returned, params.get("comment") or "",
            dag_id=self.dag_id, airflow_run_id=context["run_id"],
        )  # fmt: skip
