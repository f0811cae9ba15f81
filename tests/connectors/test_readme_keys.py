"""connectors/README.md documents every key the `api:` parser accepts, with an example each.

The parser names each mapping's keys in a `*_FIELDS` set (connectors/spec.py); the README's
"Every key" section has one table per mapping. A key the parser accepts but the table lacks
(or a table row without an example) fails here, naming the key and the table.
"""

from __future__ import annotations

import re

from connectors import auth, paginators, spec
from include import settings

README = settings.ROOT / "connectors" / "README.md"
TABLES = {  # spec.py set → the README heading of its table
    "API_FIELDS": "`api:`",
    "DEFAULTS_FIELDS": "`api.defaults:`",
    "RESOURCE_FIELDS": "`api.resources.<name>:`",
    "AUTH_FIELDS": "`auth:`",
    "LOGIN_FIELDS": "`auth.login:`",
    "SEND_FIELDS": "`auth.send:`",
    "SIGNATURE_FIELDS": "`auth.signature:`",
    "RESPONSES_FIELDS": "`responses:`",
    "MATCH_FIELDS": "a match",
    "PAGINATION_FIELDS": "`pagination:`",
    "CURSOR_FIELDS": "`cursor:`",
    "FIELD_HINT_FIELDS": "`fields.<name>:`",
    "FOR_EACH_FIELDS": "`for_each:`",
    "DETAIL_FIELDS": "`detail:`",
    "RECURSE_FIELDS": "`recurse:`",
}


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


def test_every_key_the_parser_accepts_is_documented_with_an_example():
    sets = {name for name in dir(spec) if name.endswith("_FIELDS")}
    assert sets == set(TABLES), "a new *_FIELDS set needs its table in connectors/README.md"
    found = tables()
    problems = []
    for name, title in TABLES.items():
        table = next((t for h, t in found.items() if h.startswith(title)), None)
        if table is None:
            problems.append(f"README has no '#### {title}' table (spec.{name})")
            continue
        for key in sorted(getattr(spec, name)):
            row = table.get(key)
            if row is None:
                problems.append(f"README table {title} lacks `{key}` (spec.{name})")
            elif not row[-1].strip("` ") or key not in row[-1]:
                problems.append(f"README table {title}: `{key}` has no example")
        for key in set(table) - set(getattr(spec, name)):
            problems.append(f"README table {title} documents `{key}`, which the parser refuses")
    assert not problems, "\n".join(problems)


def test_every_pagination_and_auth_type_is_documented():
    text = README.read_text(encoding="utf-8")
    for kind in (*paginators.PAGINATORS, *auth.AUTH_METHODS):
        assert re.search(rf"^\| `{kind}` \|", text, re.M), f"README: no row for type `{kind}`"
