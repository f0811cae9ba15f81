"""Who signs a correction (Annex 1) and who answers a department review, as Airflow users.

The organising department is the reporting department when it organises the subsystem (several
departments may), else the subsystem's first; the managing department likewise. Their heads
sign in either order — once when they are the same person — then the vice-president in charge
of the managing department, then 质管办 verifies. Everyone here gets an Airflow user (role
`user`) named by `Person.login`; the simple auth manager's passwords file holds their
generated passwords (mode 0600).
"""

from __future__ import annotations

from dataclasses import dataclass

from include.registry import Registry, registry


@dataclass(frozen=True)
class Signer:
    step: str  # corrections.steps.step_kind
    title: str  # what the form prints
    department: str
    name: str
    user: str
    email: str
    dingtalk: str | None = None

    def hitl_user(self) -> dict:
        return {"id": self.user, "name": self.name}


def _pick(preferred: str, departments: tuple[str, ...]) -> str:
    return preferred if preferred in departments else departments[0]


def signers(subsystem: str, reporting_department: str, reg: Registry | None = None) -> list[Signer]:
    """The approval chain of a request, in order (the two heads are parallel)."""
    reg = reg or registry()
    s = reg.subsystems[subsystem]
    org = reg.departments[_pick(reporting_department, s.organising_departments)]
    man = reg.departments[_pick(reporting_department, s.managing_departments)]
    vp = man.vice_president
    qo = reg.departments[reg.quality_office]
    qo_person = qo.quality_administrators[0] if qo.quality_administrators else qo.head
    chain = []
    if org.head.login == man.head.login:
        chain.append(
            Signer("department_heads", "组织及归口管理部门负责人", org.name, org.head.name,
                   org.head.login, org.head.email, org.head.dingtalk)
        )  # fmt: skip
    else:
        chain += [
            Signer("organising_head", "组织部门负责人", org.name, org.head.name, org.head.login,
                   org.head.email, org.head.dingtalk),
            Signer("managing_head", "归口管理部门负责人", man.name, man.head.name, man.head.login,
                   man.head.email, man.head.dingtalk),
        ]  # fmt: skip
    chain.append(Signer("vice_president", vp.title, man.name, vp.name, vp.login, vp.email,
                        vp.dingtalk))  # fmt: skip
    chain.append(Signer("quality_office", "质管办核验", qo.name, qo_person.name, qo_person.login,
                        qo_person.email, qo_person.dingtalk))  # fmt: skip
    return chain


def airflow_users(reg: Registry | None = None) -> dict[str, str]:
    """login -> display name of every person who may sign or review (department heads,
    vice-presidents, quality administrators)."""
    reg = reg or registry()
    users: dict[str, str] = {}
    for d in reg.departments.values():
        users.setdefault(d.head.login, d.head.name)
        for q in d.quality_administrators:
            users.setdefault(q.login, q.name)
    for vp in reg.vice_presidents.values():
        users.setdefault(vp.login, vp.name)
    return users
