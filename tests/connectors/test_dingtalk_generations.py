"""The connector keys that a DingTalk app needs, against a fake written from DingTalk's docs.

`tests/fakes/dingtalk.py` serves DingTalk's old OAPI and its v1.0 API over real HTTP. One
subsystem file speaks both: the old generation is the file's `auth`/`responses`, the v1.0
resource brings its own (`resources.<name>.auth` / `.responses`). Approval process codes are
configured per app (`for_each.values`), with no template-listing call; the v1.0 details are
read with `detail.method: GET`.
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import yaml

from connectors.client import ApiError, Client, Credentials
from connectors.extract import Extractor
from connectors.validate import Validator
from include import settings
from include.registry import RegistryError, load_registry
from include.rules.dates import TZ
from tests.fakes.dingtalk import PROCESS_CODES, DingTalkFake

# The README's example of a two-generation file (connectors/README.md, "Two API generations").
API = """
connection: xiaoben_dingtalk
rate_limit: 200
auth:                                  # the old OAPI: access_token query parameter
  type: token
  login: {method: GET, path: /gettoken, params: {appkey: "{key}", appsecret: "{secret}"}}
  success: {path: errcode, equals: 0}
  token_path: access_token
  send: {query: access_token}
responses:                             # … and errcode/errmsg in an HTTP 200 answer
  success: {path: errcode, equals: 0}
  message_path: errmsg
  rules:
    - {path: errcode, in: [40014, 42001], action: refresh}
    - {path: errcode, in: [88, 90018], action: retry, wait: 1}
defaults: {method: POST, body: json}
resources:
  approvals:
    path: /topapi/processinstance/listids
    for_each: {values: [PROC-LEAVE-0001, PROC-PURCHASE-0002], param: process_code}
    pagination: {type: cursor, cursor_param: cursor, start: 0, size_param: size, size: 20,
                 records: result.list, next_cursor: result.next_cursor}
    detail: {path: /topapi/processinstance/get, id_param: process_instance_id,
             records: process_instance}
    key_from: id
    primary_key: [process_instance_id]
    cursor: {field: create_time, format: yyyy-MM-dd HH:mm:ss, param_format: epoch_ms,
             since_param: start_time, until_param: end_time, max_span: 120d,
             initial: "2026-08-01"}
  approvals_v1:
    path: /v1.0/workflow/processes/instanceIds/query
    auth:                              # the v1.0 API: its own login and header
      type: token
      login: {method: POST, path: /v1.0/oauth2/accessToken,
              json: {appKey: "{key}", appSecret: "{secret}"}}
      token_path: accessToken
      send: {header: x-acs-dingtalk-access-token}
    responses:                         # … and HTTP 4xx with code/message
      success: {path: success, equals: true}
      message_path: message
    for_each: {values: [PROC-LEAVE-0001, PROC-PURCHASE-0002], param: processCode}
    pagination: {type: cursor, cursor_param: nextToken, start: 0, size_param: maxResults,
                 size: 20, records: result.list, next_cursor: result.nextToken}
    detail: {method: GET, body: query, path: /v1.0/workflow/processInstances,
             id_param: processInstanceId, records: result}
    key_from: id
    primary_key: [processInstanceId]
    cursor: {field: createTime, format: iso, param_format: epoch_ms, since_param: startTime,
             until_param: endTime, max_span: 120d, initial: "2026-08-01"}
"""


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def spec_with(tmp_path: Path, change=None):
    """The shipped dingtalk.yml with the `api:` above (changed by `change`), parsed."""
    folder = tmp_path / "subsystems"
    shutil.copytree(settings.SUBSYSTEMS_DIR, folder)
    path = folder / "dingtalk.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["api"] = yaml.safe_load(API)
    if change:
        change(data["api"])
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_registry(folder, settings.DEPARTMENTS_FILE).subsystems["dingtalk"].api


@pytest.fixture
def fake():
    with DingTalkFake().running() as fake:
        yield fake


def read(fake: DingTalkFake, spec, resource: str) -> tuple[Client, list, list]:
    """(client, source keys, records) of a full pull of one resource."""
    res = spec.resources[resource]
    client = Client(spec, Credentials(fake.base, fake.app_key, fake.app_secret), sleep=Sleeps())
    window = (datetime(2026, 8, 1, tzinfo=TZ), datetime.now(TZ) + timedelta(days=1))
    keys, records = [], []
    for page in Extractor(client, spec, Validator(res).key).pages(res, window):
        keys += page.keys
        records += page.records
    return client, keys, records


def test_one_file_reads_both_generations_for_configured_process_codes(fake, tmp_path):
    spec = spec_with(tmp_path)
    _, old_keys, old = read(fake, spec, "approvals")
    _, new_keys, new = read(fake, spec, "approvals_v1")
    assert sorted(old_keys) == sorted(new_keys) == sorted(fake.truth())
    assert old == [fake.get(k).oapi() for k in old_keys]
    assert new == [fake.get(k).v1() for k in new_keys]
    assert fake.logins == {"oapi": 1, "v1": 1}  # one login per generation, then cached
    paths = {r["path"] for r in fake.requests}
    assert paths == {
        "/gettoken",
        "/topapi/processinstance/listids",
        "/topapi/processinstance/get",
        "/v1.0/oauth2/accessToken",
        "/v1.0/workflow/processes/instanceIds/query",
        "/v1.0/workflow/processInstances",
    }  # fmt: skip  (no template listing: the codes come from the file)
    lists = [r for r in fake.requests if "instanceIds" in r["path"] or "listids" in r["path"]]
    listed = {r["body"].get("process_code") or r["body"].get("processCode") for r in lists}
    assert listed == set(PROCESS_CODES)
    for r in fake.requests:
        if r["path"].startswith("/topapi/"):
            assert r["query"].get("access_token") and r["header_token"] is None
        elif r["path"].startswith("/v1.0/workflow/"):
            assert r["header_token"] and "access_token" not in r["query"]
    gets = [r for r in fake.requests if r["path"] == "/v1.0/workflow/processInstances"]
    assert all(r["method"] == "GET" and r["query"]["processInstanceId"] for r in gets)


def test_expired_tokens_of_each_generation_are_renewed_by_its_own_login(fake, tmp_path):
    fake.expire_every = 7
    spec = spec_with(tmp_path)
    old_client, old_keys, _ = read(fake, spec, "approvals")
    new_client, new_keys, _ = read(fake, spec, "approvals_v1")
    assert set(old_keys) == set(new_keys) == fake.truth()
    assert old_client.stats.refreshes > 0 and new_client.stats.refreshes > 0
    assert fake.logins["oapi"] > 1 and fake.logins["v1"] > 1


def test_a_4xx_answer_names_subsystem_resource_method_and_url(fake, tmp_path):
    spec = spec_with(tmp_path)
    res = spec.resources["approvals_v1"]
    big = dataclasses.replace(res, pagination=dataclasses.replace(res.pagination, size=50))
    spec = dataclasses.replace(spec, resources={**spec.resources, "approvals_v1": big})
    with pytest.raises(ApiError) as err:
        read(fake, spec, "approvals_v1")
    message = str(err.value)
    url = f"{fake.base}/v1.0/workflow/processes/instanceIds/query"
    assert message.startswith(f"dingtalk.approvals_v1: POST {url} 请求被拒绝 HTTP 400")
    assert "maxResults不能大于20" in message and "\n" not in message
    # the old generation: an unknown path, and the token is never in the message
    client = Client(spec, Credentials(fake.base, fake.app_key, fake.app_secret))
    with pytest.raises(ApiError) as err:
        client.request("POST", "/topapi/no/such/call", resource=spec.resources["approvals"])
    message = str(err.value)
    assert f"dingtalk.approvals: POST {fake.base}/topapi/no/such/call" in message
    assert "HTTP 404" in message and "access_token=" not in message


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda a: a["resources"]["approvals"]["for_each"].update(resource="approvals_v1"),
         "api.resources.approvals.for_each: 同时给了 values 与 resource"),
        (lambda a: a["resources"]["approvals"]["for_each"].update(values=[]),
         "api.resources.approvals.for_each.values"),
        (lambda a: a["resources"]["approvals_v1"]["auth"].update(type="oauth3"),
         "api.resources.approvals_v1.auth.type"),
        (lambda a: a["resources"]["approvals_v1"]["auth"].pop("token_path"),
         "api.resources.approvals_v1.auth.token_path"),
        (lambda a: a["resources"]["approvals_v1"]["responses"].update(mesage_path="x"),
         "did you mean 'message_path'"),
        (lambda a: a["resources"]["approvals"]["detail"].update(method="DELETE"),
         "api.resources.approvals.detail.method"),
    ],
)  # fmt: skip
def test_bad_new_keys_are_refused_naming_the_field(tmp_path, change, expected):
    with pytest.raises(RegistryError) as err:
        spec_with(tmp_path, change)
    assert expected in str(err.value) and "\n" not in str(err.value)
