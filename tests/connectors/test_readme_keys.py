"""connectors/README.md documents every key the `api:` validator accepts, with an example each.

The keys a mapping accepts are the fields of its pydantic model in `include/registry.py` (the
one validator); the README's "Every key" section has one table per model. A key a model accepts
but the table lacks (or a table row without an example) fails here, naming the key and the
table, and so does a model under `api:` that has no table.
"""

from __future__ import annotations

import re
import typing

from pydantic import BaseModel

from connectors import auth, paginators
from include import registry, settings

README = settings.ROOT / "connectors" / "README.md"
TABLES = {  # model → the README heading of its table
    registry.ApiIn: "`api:`",
    registry.DefaultsIn: "`api.defaults:`",
    registry.ResourceIn: "`api.resources.<name>:`",
    registry.AuthIn: "`auth:`",
    registry.LoginIn: "`auth.login:`",
    registry.SendIn: "`auth.send:`",
    registry.SignatureIn: "`auth.signature:`",
    registry.ResponsesIn: "`responses:`",
    registry.MatchIn: "a match",
    registry.RuleIn: "a match",
    registry.PaginationIn: "`pagination:`",
    registry.CursorIn: "`cursor:`",
    registry.FieldIn: "`fields.<name>:`",
    registry.DerivedColumnIn: "`derived_columns:`",
    registry.ForEachIn: "`for_each:`",
    registry.DetailIn: "`detail:`",
    registry.ConditionIn: "`detail.final:`",
    registry.RecurseIn: "`recurse:`",
}


def keys(model: type[BaseModel]) -> set[str]:
    """The keys a model accepts, as the file writes them (`in`, `json`: aliases)."""
    return {f.alias or name for name, f in model.model_fields.items()}


def models_under(model: type[BaseModel], seen: set | None = None) -> set[type[BaseModel]]:
    """Every model reachable from `model` through its fields' types."""
    seen = set() if seen is None else seen
    seen.add(model)
    todo = [f.annotation for f in model.model_fields.values()]
    while todo:
        tp = todo.pop()
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            if tp not in seen:
                models_under(tp, seen)
        else:
            todo.extend(typing.get_args(tp))
    return seen


def tables() -> dict[str, dict[str, list[str]]]:
    """README heading → {key: the row's cells} for every `#### ` table."""
    out: dict[str, dict[str, list[str]]] = {}
    heading = None
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("#### "):
            heading = line[5:].strip()
            out[heading] = {}
        elif line.startswith("#"):
            heading = None
        elif heading and (m := re.match(r"\|\s*`([a-z_]+)`\s*\|(.*)\|\s*$", line)):
            out[heading][m.group(1)] = [c.strip() for c in m.group(2).split("|")]
    return out


def test_every_key_the_validator_accepts_is_documented_with_an_example():
    missing = models_under(registry.ApiIn) - set(TABLES)
    assert not missing, f"a model under api: needs its table in connectors/README.md: {missing}"
    accepted: dict[str, set[str]] = {}
    for model, title in TABLES.items():
        accepted.setdefault(title, set()).update(keys(model))
    found = tables()
    problems = []
    for title, names in accepted.items():
        table = next((t for h, t in found.items() if h.startswith(title)), None)
        if table is None:
            problems.append(f"README has no '#### {title}' table")
            continue
        for key in sorted(names):
            row = table.get(key)
            if row is None:
                problems.append(f"README table {title} lacks `{key}`")
            elif not row[-1].strip("` ") or key not in row[-1]:
                problems.append(f"README table {title}: `{key}` has no example")
        for key in set(table) - names:
            problems.append(f"README table {title} documents `{key}`, which the validator refuses")
    assert not problems, "\n".join(problems)


def test_every_pagination_and_auth_type_is_documented():
    text = README.read_text(encoding="utf-8")
    for kind in (*paginators.PAGINATORS, *auth.AUTH_METHODS):
        assert re.search(rf"^\| `{kind}` \|", text, re.M), f"README: no row for type `{kind}`"
