"""The REST API under /compute-panel/, through a real Jupyter server (see openapi.yaml):
version, tiers, grants, bindings and authentication (the runs: test_api_runs.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import yaml
from conftest import GRANT_A, GRANT_EXPIRED, assert_error

from jupyterlab_compute_panel import __version__
from jupyterlab_compute_panel.ledger import utcnow

ACTIVE, EXPIRED = GRANT_A["id"], GRANT_EXPIRED["id"]


# -- version and tiers ------------------------------------------------------------
async def test_version(api, service):
    status, body = await api("GET", "compute-panel/version")
    assert status == 200
    assert body == {"version": __version__, "api": 1, "owner": "alice", "admin": False, "catalog_error": None}


async def test_tiers(api, service):
    status, body = await api("GET", "compute-panel/tiers")
    assert status == 200
    tiers = body["tiers"]
    assert [t["id"] for t in tiers] == ["local-cpu", "rtx4090", "h200"]
    local, rtx, h200 = tiers
    for tier in tiers:
        assert tier["kernelspecs"] == {"python3": f"compute-panel-{tier['id']}-python3"}
        assert tier["running"] == 0
        assert tier["backend"] == {"provisioner": "local-provisioner"}
    assert local["free"] is True
    assert local["price"]["per_hour"] == "0.00"
    assert local["simulated"] is False
    assert local["hardware"]["gpu"] is None
    assert rtx == {
        "id": "rtx4090",
        "label": "RTX 4090 prototyping",
        "description": rtx["description"],
        "hardware": {
            "gpu": {"model": "NVIDIA GeForce RTX 4090", "count": 1, "memory_gb": 24},
            "cpu_cores": 8,
            "memory_gb": 32,
        },
        "price": {"per_hour": "0.50", "currency": "USD", "source": rtx["price"]["source"], "date": "2026-11-01"},
        "free": False,
        "reliability": "community",
        "simulated": True,
        "sensitive_data_allowed": False,
        "idle_timeout_s": 1800,
        "backend": {"provisioner": "local-provisioner"},
        "kernelspecs": {"python3": "compute-panel-rtx4090-python3"},
        "running": 0,
        "availability": None,  # nothing to check on a local backend
        "price_list": None,  # priced by the catalog
    }
    assert rtx["price"]["source"]
    assert h200["price"] == {
        "per_hour": "3.50",
        "currency": "USD",
        "source": h200["price"]["source"],
        "date": "2026-11-01",
    }
    assert h200["reliability"] == "datacenter" and h200["simulated"] is True


async def test_tiers_refuse_query_parameters(api, service):
    status, body = await api("GET", "compute-panel/tiers", params={"x": "1"})
    assert_error(status, body, 400, "x", "Unknown query parameter 'x'")


async def test_running_counts_open_runs(api, service, ledger):
    h200 = service.catalog.get("h200")
    ledger.open_run(
        kernel_id="k-open",
        kernelspec="compute-panel-h200-python3",
        tier=h200,
        grant_id=None,
        user="alice",
        notebook=None,
    )
    status, body = await api("GET", "compute-panel/tiers")
    assert status == 200
    assert {t["id"]: t["running"] for t in body["tiers"]} == {"local-cpu": 0, "rtx4090": 0, "h200": 1}


# -- grants -----------------------------------------------------------------------
async def test_grants(api, grants):
    status, body = await api("GET", "compute-panel/grants")
    assert status == 200
    assert [g["id"] for g in body["grants"]] == sorted([ACTIVE, EXPIRED])  # by id
    by_id = {g["id"]: g for g in body["grants"]}
    assert by_id[ACTIVE] == {
        "id": ACTIVE,
        "award_number": GRANT_A["award_number"],
        "title": GRANT_A["title"],
        "funder": GRANT_A["funder"],
        "pi": "alice",
        "budget": "5000.00",
        "currency": "USD",
        "start_date": "2025-09-01",
        "end_date": "2028-08-31",
        "active": True,
        "spent": "0.00",
        "allowed_tiers": None,
        "sensitive": False,
        "alert_thresholds": [50, 80, 100],
        "hard_stop": True,
        "min_runtime_minutes": 15.0,
        "members": [{"user": "alice", "role": "pi"}],
        "role": "pi",  # the server's user's role on the grant
    }
    assert by_id[EXPIRED]["active"] is False


async def test_grants_active_filter(api, grants):
    for value, expected in (("true", [ACTIVE]), ("1", [ACTIVE]), ("false", [EXPIRED]), ("0", [EXPIRED])):
        status, body = await api("GET", "compute-panel/grants", params={"active": value})
        assert status == 200
        assert [g["id"] for g in body["grants"]] == expected, value
    for value in ("x", "yes", "", "True"):
        status, body = await api("GET", "compute-panel/grants", params={"active": value})
        assert_error(status, body, 422, "active", "active must be true or false")


async def test_grants_unknown_and_repeated_parameters(api, raw, grants):
    status, body = await api("GET", "compute-panel/grants", params={"mine": "true"})
    assert_error(status, body, 400, "mine", "Unknown query parameter 'mine'")
    status, _, body = await raw("GET", "compute-panel/grants?active=true&active=false")
    assert_error(status, body, 400, "active", "given more than once")


async def test_one_grant(api, grants):
    status, body = await api("GET", f"compute-panel/grants/{ACTIVE}")
    assert status == 200
    assert body["id"] == ACTIVE and body["active"] is True and body["spent"] == "0.00"


async def test_unknown_grant_is_404(api, grants):
    for grant_id in ("nope", "a b", "100%", "ümlaut"):
        status, body = await api("GET", f"compute-panel/grants/{grant_id}")
        assert_error(status, body, 404, "grant_id", f"No grant {grant_id!r}")


# -- bindings -----------------------------------------------------------------------
async def test_binding_requires_path(api, service):
    status, body = await api("GET", "compute-panel/bindings")
    assert_error(status, body, 400, "path", "'path' is required")


async def test_binding_is_null_when_none(api, service):
    status, body = await api("GET", "compute-panel/bindings", params={"path": "dir/nb.ipynb"})
    assert status == 200
    assert body == {"path": "dir/nb.ipynb", "grant_id": None, "tier_id": None, "updated": None}


async def test_put_binding_then_get_it(api, grants):
    status, body = await api(
        "PUT", "compute-panel/bindings", {"path": "dir/nb.ipynb", "grant_id": ACTIVE, "tier_id": "rtx4090"}
    )
    assert status == 200, body
    assert body["path"] == "dir/nb.ipynb"
    assert (body["grant_id"], body["tier_id"]) == (ACTIVE, "rtx4090")
    updated = dt.datetime.fromisoformat(body["updated"].replace("Z", "+00:00"))
    assert abs(updated.replace(tzinfo=None) - utcnow()) < dt.timedelta(seconds=30)

    status, got = await api("GET", "compute-panel/bindings", params={"path": "dir/nb.ipynb"})
    assert status == 200
    assert got == body

    # A normalised path is the same notebook.
    status, got = await api("GET", "compute-panel/bindings", params={"path": "dir/.//nb.ipynb"})
    assert status == 200 and got["grant_id"] == ACTIVE and got["path"] == "dir/nb.ipynb"

    # null forgets the grant.
    status, body = await api("PUT", "compute-panel/bindings", {"path": "dir/nb.ipynb", "grant_id": None})
    assert status == 200
    assert (body["grant_id"], body["tier_id"]) == (None, None)


PUT_BINDING_REFUSALS = [
    ("{not json", 400, None, "not valid JSON"),
    ("", 400, None, "must be a JSON object"),
    ("[]", 400, None, "must be a JSON object"),
    ('"nb.ipynb"', 400, None, "must be a JSON object"),
    ({"path": "nb.ipynb", "grant_id": None, "color": "red"}, 400, "color", "'color' is not a binding field"),
    ({"path": "nb.ipynb"}, 400, "grant_id", "grant_id is required"),
    ({"grant_id": None}, 400, "path", "path is required"),
    ({"path": "../x.ipynb", "grant_id": None}, 422, "path", "must stay inside the server root"),
    ({"path": "a/../../x.ipynb", "grant_id": None}, 422, "path", "must stay inside the server root"),
    ({"path": "/etc/x.ipynb", "grant_id": None}, 422, "path", "must stay inside the server root"),
    ({"path": "", "grant_id": None}, 422, "path", "must be a notebook path"),
    ({"path": 5, "grant_id": None}, 422, "path", "must be a notebook path"),
    ({"path": "x" * 1025, "grant_id": None}, 422, "path", "longer than 1024"),
    ({"path": "nb.ipynb", "grant_id": 5}, 422, "grant_id", "grant_id must be a grant id or null"),
    ({"path": "nb.ipynb", "grant_id": ""}, 422, "grant_id", "grant_id must be a grant id or null"),
    ({"path": "nb.ipynb", "grant_id": "nope"}, 404, "grant_id", "No grant 'nope'"),
    ({"path": "nb.ipynb", "grant_id": EXPIRED}, 409, "grant_id", "is not active today"),
    ({"path": "nb.ipynb", "grant_id": ACTIVE, "tier_id": "tpu"}, 404, "tier_id", "'tpu' is not a tier"),
    ({"path": "nb.ipynb", "grant_id": ACTIVE, "tier_id": 3}, 422, "tier_id", "tier_id must be a tier id or null"),
    ({"path": "nb.ipynb", "grant_id": ACTIVE, "tier_id": ""}, 422, "tier_id", "tier_id must be a tier id or null"),
]


async def test_put_binding_refusals(api, grants):
    for body, status, field, contains in PUT_BINDING_REFUSALS:
        got_status, got = await api("PUT", "compute-panel/bindings", body)
        assert_error(got_status, got, status, field, contains)
    # Nothing was stored.
    _, binding = await api("GET", "compute-panel/bindings", params={"path": "nb.ipynb"})
    assert binding["grant_id"] is None


async def test_get_binding_refuses_paths_outside_the_root(api, service):
    # No '..' segment at all, even one that stays inside ("a/../b"): the spec's pattern says so.
    for path in ("../x", "/abs/x.ipynb", "..", "a/../../x", "a/../b.ipynb", "a/.."):
        status, body = await api("GET", "compute-panel/bindings", params={"path": path})
        assert_error(status, body, 422, "path", "must stay inside the server root")


# -- authentication ---------------------------------------------------------------------
SPEC = yaml.safe_load((Path(__file__).resolve().parents[1] / "jupyterlab_compute_panel" / "openapi.yaml").read_text())
# A value for each path parameter of the spec; real where a lookup could come first.
PATH_VALUES = {"grant_id": ACTIVE, "user": "bob", "table": "tier", "format": "csv"}


def spec_operations() -> list[tuple[str, str]]:
    """Every operation of openapi.yaml, as (method, path under the server's base URL)."""
    found = []
    for template, item in SPEC["paths"].items():
        path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "abc"), template)
        found += [(method.upper(), f"compute-panel{path}") for method in item]
    return found


def test_the_spec_requires_the_token_of_every_operation():
    """The contract says what the server does: no operation is public (schemathesis'
    ignored_auth check, tests/test_api_fuzz.py, reads this to probe each one)."""
    assert SPEC["security"] == [{"token": []}]
    scheme = SPEC["components"]["securitySchemes"]["token"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    for template, item in SPEC["paths"].items():
        for method, operation in item.items():
            assert operation.get("security", SPEC["security"]) == SPEC["security"], (method, template)
            assert "403" in operation["responses"], (method, template)
    assert len(spec_operations()) > 20


async def test_every_operation_refuses_unauthenticated_requests(raw, grants):
    for method, path in spec_operations():
        for authorization in (None, "", "token not-the-token"):
            headers = {} if authorization is None else {"Authorization": authorization}
            body = json.dumps({"path": "nb.ipynb", "grant_id": ACTIVE}) if method in ("PUT", "POST", "PATCH") else None
            if method != "GET":
                # Pass the XSRF check, so that it is authentication that refuses the request.
                headers.update({"Cookie": "_xsrf=abc", "X-XSRFToken": "abc"})
            status, response_headers, payload = await raw(method, path, body=body, headers=headers, auth=False)
            # jupyter_server's APIHandler answers 403 (not a login redirect) to unauthenticated API calls.
            assert status == 403, (method, path, authorization, payload)
            assert response_headers["Content-Type"].startswith("application/json")
            assert payload == {"message": "Forbidden", "reason": None}, (method, path, authorization)


async def test_unauthenticated_put_changes_nothing(raw, api, grants):
    body = json.dumps({"path": "nb.ipynb", "grant_id": ACTIVE})
    status, _, _ = await raw("PUT", "compute-panel/bindings", body=body, auth=False)
    assert status == 403
    _, binding = await api("GET", "compute-panel/bindings", params={"path": "nb.ipynb"})
    assert binding["grant_id"] is None


async def test_unsupported_method_is_json(raw, service):
    status, _, body = await raw("DELETE", "compute-panel/tiers")
    assert status == 405
    assert body["message"]
