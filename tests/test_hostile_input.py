"""Hostile request bodies through a real server: each refused with 4xx and a JSON message
that names the problem, and nothing written to the ledger."""

from __future__ import annotations

import json

import pytest
from conftest import GRANT_A

ACTIVE = GRANT_A["id"]


def assert_refused(status: int, body: dict, expected: int, contains: str, field: str | None = None) -> None:
    assert status == expected, body
    assert isinstance(body, dict) and contains in body["message"], body
    assert "\n" not in body["message"] and "Traceback" not in body["message"]
    assert body.get("field") == field, body


# Every route that reads a JSON body, with a path that exists once the grants are in.
BODY_ROUTES = [
    ("PUT", "compute-panel/bindings"),
    ("POST", "compute-panel/grants"),
    ("PATCH", f"compute-panel/grants/{ACTIVE}"),
    ("PUT", f"compute-panel/grants/{ACTIVE}/budget"),
    ("PUT", f"compute-panel/grants/{ACTIVE}/members/bob"),
    ("POST", "compute-panel/reruns"),
]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_body_nested_too_deeply_is_400_not_a_recursion_error(api, grants, method, path):
    body = '{"path": ' + "[" * 100_000 + "]" * 100_000 + "}"
    status, answer = await api(method, path, body)
    assert_refused(status, answer, 400, "nested more than 16 levels deep")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_body_nested_past_the_limit_but_parseable_is_400(api, grants, method, path):
    body = json.dumps({"title": [[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]})
    status, answer = await api(method, path, body)
    assert_refused(status, answer, 400, "nested more than 16 levels deep", "title")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_body_over_the_size_limit_is_413(api, grants, method, path):
    body = json.dumps({"title": "x" * 300_000})
    status, answer = await api(method, path, body)
    assert_refused(status, answer, 413, "at most 262144 are accepted")


async def test_a_lone_surrogate_in_a_grant_field_is_400_and_nothing_is_written(api, grants, service, ledger):
    before = ledger.get_grant(ACTIVE)
    status, answer = await api("PATCH", f"compute-panel/grants/{ACTIVE}", '{"title": "Robust \\ud800 models"}')
    # alice is the PI of the active grant: the edge refuses the text before any policy.
    assert_refused(status, answer, 400, "title is not valid Unicode (it holds a lone surrogate)", "title")
    assert ledger.get_grant(ACTIVE) == before


async def test_a_lone_surrogate_in_a_field_name_is_400(api, grants):
    status, answer = await api("PUT", "compute-panel/bindings", '{"\\udfff": 1, "path": "a.ipynb", "grant_id": null}')
    assert_refused(status, answer, 400, "A field name in the request body is not valid Unicode")


async def test_a_lone_surrogate_in_a_list_names_its_field(api, grants):
    status, answer = await api("PATCH", f"compute-panel/grants/{ACTIVE}", '{"allowed_tiers": ["h200", "\\ud83d"]}')
    assert_refused(status, answer, 400, "allowed_tiers[1] is not valid Unicode", "allowed_tiers")


def test_an_imported_grant_with_a_lone_surrogate_or_an_overlong_name_is_refused_whole():
    from jupyterlab_compute_panel.domain.grants import GrantError, parse_grant

    with pytest.raises(GrantError, match=r"^title: is not valid Unicode \(it holds a lone surrogate\)$"):
        parse_grant({**GRANT_A, "title": "a\ud800b"})
    with pytest.raises(GrantError, match=r"^funder: is longer than 200 characters$"):
        parse_grant({**GRANT_A, "funder": "F" * 201})
    with pytest.raises(GrantError, match=r"^members: a member's user is not valid Unicode"):
        parse_grant({**GRANT_A, "members": [{"user": "b\udc00b", "role": "member"}]})
