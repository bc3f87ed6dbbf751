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

    with pytest.raises(GrantError, match=r"^The title is not valid Unicode \(it holds a lone surrogate\)$"):
        parse_grant({**GRANT_A, "title": "a\ud800b"})
    with pytest.raises(GrantError, match=r"^The funder is longer than 200 characters$"):
        parse_grant({**GRANT_A, "funder": "F" * 201})
    with pytest.raises(GrantError, match=r"^A member's user name is not valid Unicode"):
        parse_grant({**GRANT_A, "members": [{"user": "b\udc00b", "role": "member"}]})


# -- NUL and bytes that are not UTF-8, anywhere in a request --------------------------
# PostgreSQL stores no NUL in text (psycopg refuses the query), SQLite would keep it: the
# edge refuses it on both, so these run on each ledger.
@pytest.fixture
def db_url(any_db_url):
    return any_db_url


async def test_a_nul_in_a_body_string_or_field_name_is_400_and_nothing_is_written(api, grants, ledger):
    before = ledger.get_grant(ACTIVE)
    status, answer = await api("PATCH", f"compute-panel/grants/{ACTIVE}", '{"title": "Robust \\u0000 models"}')
    assert_refused(status, answer, 400, "title holds a NUL character", "title")
    status, answer = await api("PUT", "compute-panel/bindings", '{"path": "a.ipynb", "grant_id": null, "\\u0000": 1}')
    assert_refused(status, answer, 400, "A field name in the request body holds a NUL character")
    assert ledger.get_grant(ACTIVE) == before


@pytest.mark.parametrize(
    ("path_and_query", "contains", "field"),
    [
        ("compute-panel/runs?q=a%00b", "Query parameter 'q' holds a NUL character", "q"),
        ("compute-panel/bindings?path=a%00.ipynb", "Query parameter 'path' holds a NUL character", "path"),
        ("compute-panel/runs?user=%ff", "Query parameter 'user' is not valid UTF-8", "user"),
        (f"compute-panel/grants/{ACTIVE}/export/runs.csv?notebook=%00", "'notebook' holds a NUL", "notebook"),
        ("compute-panel/grants/a%00b", "grant_id holds a NUL character", "grant_id"),
        ("compute-panel/runs/%ff%fe", "run_id is not valid UTF-8", "run_id"),
        ("compute-panel/kernels/k%00/run", "kernel_id holds a NUL character", "kernel_id"),
        (f"compute-panel/grants/{ACTIVE}/members/b%00b", "user holds a NUL character", "user"),
    ],
)
async def test_a_nul_or_bad_utf8_in_a_query_or_path_is_400_naming_it(raw, grants, path_and_query, contains, field):
    method = "PUT" if "/members/" in path_and_query else "GET"
    status, _, answer = await raw(method, path_and_query, body="{}" if method == "PUT" else None)
    assert_refused(status, answer, 400, contains, field)


# -- money is a decimal string, spelled plainly ----------------------------------------
@pytest.mark.parametrize(
    ("budget", "contains"),
    [
        ("0", 'must be a decimal string such as "2500.00", not a JSON number'),
        ("12.5", 'must be a decimal string such as "2500.00", not a JSON number'),
        ('"1e3"', "must be written with digits and a point only"),
        ('" 5"', "must be written with digits and a point only"),
        ('"-1"', "budget: must not be negative"),
        ('"0.0000001"', "budget: has more than 6 decimal places"),
        ("true", 'budget: must be a decimal amount such as "0.50", got True'),
    ],
)
async def test_a_budget_that_is_not_a_plain_decimal_string_is_422_and_kept(api, grants, ledger, budget, contains):
    before = ledger.get_grant(ACTIVE)
    status, answer = await api("PUT", f"compute-panel/grants/{ACTIVE}/budget", f'{{"budget": {budget}}}')
    assert_refused(status, answer, 422, contains, "budget")
    # A JSON 0 once set the budget to nothing, and the hard stop then stopped its kernels.
    assert ledger.get_grant(ACTIVE) == before


# -- what the router answers -------------------------------------------------------------
async def test_a_method_the_route_lacks_is_405_with_allow(raw, service):
    status, headers, answer = await raw("DELETE", "compute-panel/tiers")
    assert status == 405 and answer["message"]
    assert headers["Allow"] == "GET, OPTIONS"
    status, headers, _ = await raw("PUT", f"compute-panel/grants/{ACTIVE}")
    assert status == 405 and headers["Allow"] == "GET, PATCH, OPTIONS"


@pytest.mark.parametrize(
    ("name", "contains", "field"),
    [
        ("0.0", "'0' is not an export", "table"),
        ("runs", "'runs' is not an export: name one as <table>.<format>", "table"),
        ("runs.xlsx", "'xlsx' is not an export format", "format"),
    ],
)
async def test_an_unknown_export_is_a_json_404(raw, grants, name, contains, field):
    status, _, answer = await raw("GET", f"compute-panel/grants/{ACTIVE}/export/{name}")
    assert_refused(status, answer, 404, contains, field)


async def test_a_member_put_may_have_no_body(raw, grants):
    status, _, answer = await raw("PUT", f"compute-panel/grants/{ACTIVE}/members/bob")
    assert status == 200, answer
    assert {"user": "bob", "role": "member"} in answer["members"]


@pytest.mark.parametrize("runs", ["a,,b", ",a,b", "a,a", "a", "a,b,c,d,e,f,g"])
async def test_a_compare_list_with_an_empty_repeated_or_lone_id_is_422(api, service, runs):
    status, answer = await api("GET", "compute-panel/compare", params={"runs": runs})
    assert_refused(status, answer, 422, "runs must list 2 to 6 different run ids", "runs")


@pytest.mark.parametrize(
    ("change", "contains", "field"),
    [
        ({"sensitive": "yes"}, "sensitive must be true or false, got 'yes'", "sensitive"),
        ({"hard_stop": 1}, "hard_stop must be true or false, got 1", "hard_stop"),
        ({"alert_thresholds": [50.7]}, "alert_thresholds must be a list of whole numbers", "alert_thresholds"),
        ({"alert_thresholds": "50;80"}, "alert_thresholds must be a list of whole numbers", "alert_thresholds"),
        ({"allowed_tiers": "h200;rtx4090"}, "allowed_tiers must be a list of strings", "allowed_tiers"),
        ({"title": ["a"]}, "title must be a string", "title"),
    ],
)
async def test_a_grant_field_of_another_json_type_is_422_and_kept(api, grants, ledger, change, contains, field):
    # A grant file may say "yes" or "a;b"; the API takes the JSON types of its spec only
    # (50.7 % was read as 50).
    before = ledger.get_grant(ACTIVE)
    status, answer = await api("PATCH", f"compute-panel/grants/{ACTIVE}", change)
    assert_refused(status, answer, 422, contains, field)
    assert ledger.get_grant(ACTIVE) == before
