"""Who answers for a dataset, who is warned, and to whom a warning escalates (Table 1, Art. 3).

Data warnings go to the subsystem's collectors (those with a mailbox) and the quality
administrators of its managing and organising departments. Where Table 1 names a whole group
as organising department (资产 "各部门", 教师发展 "全部部门"), all of those departments'
administrators would be mailed about every record; the managing department's administrator
routes those instead (Art. 3: each department audits its own data, the managing department
answers for the platform). Escalation goes to the heads of the managing departments.
"""

from __future__ import annotations

from include.registry import Registry, registry

GROUP_LIMIT = 3  # more organising departments than this = a group (各部门/各院系): managing routes


def _person(name: str, email: str, role: str, department: str | None) -> dict:
    return {"name": name, "email": email, "role": role, "department": department}


def departments(subsystem_id: str, reg: Registry | None = None) -> list[str]:
    s = (reg or registry()).subsystems[subsystem_id]
    return list(dict.fromkeys(s.managing_departments + s.organising_departments))


def warned(subsystem_id: str, reg: Registry | None = None) -> list[dict]:
    """Collectors and quality administrators of one subsystem, one entry per mailbox."""
    reg = reg or registry()
    s = reg.subsystems[subsystem_id]
    people = [
        _person(c.name, c.email, f"数据采集员（{c.role}）", c.department)
        for c in s.collectors
        if c.email and c.name
    ]
    organising = s.organising_departments if len(s.organising_departments) <= GROUP_LIMIT else ()
    for dept in dict.fromkeys(s.managing_departments + organising):
        for qa in reg.departments[dept].quality_administrators:
            role = f"质量管理员（{qa.line}线）" if qa.line else "质量管理员"
            people.append(_person(qa.name, qa.email, role, dept))
    return unique(people)


def department_administrators(department: str, reg: Registry | None = None) -> list[dict]:
    reg = reg or registry()
    dept = reg.departments[department]
    return [
        _person(
            qa.name, qa.email, f"质量管理员（{qa.line}线）" if qa.line else "质量管理员", department
        )
        for qa in dept.quality_administrators
    ]


def heads(department_names: list[str], reg: Registry | None = None) -> list[dict]:
    reg = reg or registry()
    return unique(
        [
            _person(reg.departments[d].head.name, reg.departments[d].head.email, "部门负责人", d)
            for d in department_names
            if d in reg.departments
        ]
    )


def managing_heads(subsystem_id: str, reg: Registry | None = None) -> list[dict]:
    reg = reg or registry()
    return heads(list(reg.subsystems[subsystem_id].managing_departments), reg)


def unique(people: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for p in people:
        if p["email"] in seen:
            # one mailbox, several roles (黄晓燕 is both 教务员 and 教务处 quality administrator)
            if p["role"] not in seen[p["email"]]["role"]:
                seen[p["email"]]["role"] += "、" + p["role"]
        else:
            seen[p["email"]] = dict(p)
    return list(seen.values())
