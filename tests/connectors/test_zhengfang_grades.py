"""A 正方-style grade query (tests/fakes/zhengfang.py), read as a subsystem file describes it.

The login is the real system's: a 302 and a session cookie (`auth.success: {status: 302}`);
an expired session answers 302 to the login page (a `refresh` rule); the academic years to
read are a fixed list (`for_each.values`), the term left empty for both.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from connectors.client import Client, Credentials
from connectors.extract import Extractor
from connectors.validate import Validator
from include import settings
from include.registry import load_registry
from tests.fakes.zhengfang import ZhengfangFake

API = """
connection: xiaoben_academic
rate_limit: 200
auth:
  type: session
  login: {method: POST, path: /jwglxt/xtgl/login_slogin.html, form: {yhm: "{key}", mm: "{secret}"}}
  success: {status: 302}                   # 正方: a redirect into the system and a JSESSIONID
responses:
  rules:
    - {status: 302, action: refresh}      # the session timed out: log in again
defaults: {method: POST, body: form}
resources:
  grades:
    path: /jwglxt/cjcx/cjcx_cxDgXscj.html?doType=query&gnmkdm=N305005
    params: {xqm: ""}
    for_each: {values: ["2024", "2025"], param: xnm}
    pagination: {type: page_number, page_param: queryModel.currentPage,
                 size_param: queryModel.showCount, size: 15, records: items,
                 total: totalCount, pages: totalPage}
    primary_key: [xh, jxb_id, ksxzdm]
    required: [xh, jxb_id, kch, cj, ksxzdm]
"""


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake():
    fake = ZhengfangFake()
    server, fake.base = fake.serve()
    yield fake
    server.shutdown()
    server.server_close()


def grades_spec(tmp_path: Path):
    folder = tmp_path / "subsystems"
    shutil.copytree(settings.SUBSYSTEMS_DIR, folder)
    path = folder / "academic.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["api"] = yaml.safe_load(API)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_registry(folder, settings.DEPARTMENTS_FILE).subsystems["academic"].api


def read(fake: ZhengfangFake, spec) -> tuple[Client, list[str], list[dict]]:
    res = spec.resources["grades"]
    client = Client(spec, Credentials(fake.base, fake.user, fake.password), sleep=Sleeps())
    key = Validator(res).key
    records = [r for page in Extractor(client, spec, key).pages(res, None) for r in page.records]
    return client, [key(r) for r in records], records


@pytest.mark.parametrize("expire_every", [0, 9], ids=["steady", "sessions_time_out"])
def test_grades_of_every_configured_year_arrive_exactly_once(fake, tmp_path, expire_every):
    fake.expire_every = expire_every
    client, keys, records = read(fake, grades_spec(tmp_path))
    assert len(keys) == len(set(keys)) and set(keys) == fake.truth()
    assert sorted(records, key=str) == sorted(fake.grades, key=str)  # byte for byte
    if expire_every:
        assert client.stats.refreshes > 0 and fake.logins > 1
    else:
        assert fake.logins == 1 and client.stats.refreshes == 0
