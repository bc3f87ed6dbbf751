"""The REST API under /compute-panel/, through a real Jupyter server (see openapi.yaml)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal

import pytest
from conftest import GRANT_A, GRANT_EXPIRED

from jupyterlab_compute_panel import __version__
from jupyterlab_compute_panel.ledger import iso, utcnow

ACTIVE, EXPIRED = GRANT_A["id"], GRANT_EXPIRED["id"]


def assert_error(status: int, body: dict, expected_status: int, field: str | None = None, contains: str = ""):
    """Every refusal is JSON with a one-line message, and names the field at fault."""
    assert status == expected_status, body
    assert isinstance(body.get("message"), str) and body["message"], body
    assert "\n" not in body["message"]
    assert "Traceback" not in body["message"]
    assert body.get("field") == field, body
    assert contains in body["message"], body


@pytest.fixture
def raw(jp_serverapp, http_server_client, jp_base_url, jp_auth_header):
    """A request with a hand-written path and query (repeated parameters), and chosen headers."""

    async def call(method: str, path_and_query: str, body=None, headers=None, auth: bool = True):
        all_headers = dict(jp_auth_header) if auth else {}
        all_headers.update(headers or {})
        if body is None and method in ("PUT", "POST", "PATCH"):
            body = ""
        response = await http_server_client.fetch(
            jp_base_url + path_and_query,
            method=method,
            body=body,
            headers=all_headers,
            raise_error=False,
            follow_redirects=False,
        )
        try:
            payload = json.loads(response.body or b"null")
        except ValueError:
            payload = response.body
        return response.code, response.headers, payload

    return call


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
    status, got = await api("GET", "compute-panel/bindings", params={"path": "dir/./sub/../nb.ipynb"})
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
    ({"path": "nb.ipynb", "grant_id": ACTIVE, "tier_id": "tpu"}, 422, "tier_id", "'tpu' is not a tier"),
    ({"path": "nb.ipynb", "grant_id": ACTIVE, "tier_id": 3}, 422, "tier_id", "3 is not a tier"),
]


async def test_put_binding_refusals(api, grants):
    for body, status, field, contains in PUT_BINDING_REFUSALS:
        got_status, got = await api("PUT", "compute-panel/bindings", body)
        assert_error(got_status, got, status, field, contains)
    # Nothing was stored.
    _, binding = await api("GET", "compute-panel/bindings", params={"path": "nb.ipynb"})
    assert binding["grant_id"] is None


async def test_get_binding_refuses_paths_outside_the_root(api, service):
    for path in ("../x", "/abs/x.ipynb", "..", "a/../../x"):
        status, body = await api("GET", "compute-panel/bindings", params={"path": path})
        assert_error(status, body, 422, "path", "must stay inside the server root")


# -- runs -----------------------------------------------------------------------------
RUNS_QUERY_REFUSALS = [
    ({"colour": "red"}, 400, "colour"),
    ({"limit": "0"}, 422, "limit"),
    ({"limit": "1001"}, 422, "limit"),
    ({"limit": "ten"}, 422, "limit"),
    ({"limit": "1.5"}, 422, "limit"),
    ({"offset": "-1"}, 422, "offset"),
    ({"offset": "x"}, 422, "offset"),
    ({"status": "running"}, 422, "status"),
    ({"since": "yesterday"}, 422, "since"),
    ({"since": "2026-13-01"}, 422, "since"),
    ({"until": "2026-01-01T25:00"}, 422, "until"),
    # A valid instant whose UTC conversion leaves datetime's range: refused, not a 500.
    ({"since": "9999-12-31T23:59:59-01:00"}, 422, "since"),
    ({"until": "0001-01-01T00:00:00+01:00"}, 422, "until"),
]


async def test_runs_query_validation(api, service):
    for params, status, field in RUNS_QUERY_REFUSALS:
        got_status, body = await api("GET", "compute-panel/runs", params=params)
        assert_error(got_status, body, status, field, field)


async def test_runs_repeated_parameter(raw, service):
    status, _, body = await raw("GET", "compute-panel/runs?tier=rtx4090&tier=h200")
    assert_error(status, body, 400, "tier", "'tier' is given more than once")


async def test_runs_empty(api, service):
    status, body = await api("GET", "compute-panel/runs")
    assert status == 200
    assert body["runs"] == [] and body["count"] == 0 and body["totals"] == []
    assert body["server_time"].endswith("Z")


async def test_unknown_run_and_kernel(api, service):
    status, body = await api("GET", f"compute-panel/runs/{uuid.uuid4().hex}")
    assert_error(status, body, 404, "run_id", "No run")
    status, body = await api("GET", f"compute-panel/kernels/{uuid.uuid4()}/run")
    assert_error(status, body, 404, "kernel_id", "has no run: it was never started on a tier")


@pytest.fixture
def runs(service, grants, ledger):
    """Six runs in the server's ledger: five closed at known times, one open now."""
    rtx, h200, local = (service.catalog.get(t) for t in ("rtx4090", "h200", "local-cpu"))
    t0 = (utcnow() - dt.timedelta(days=10)).replace(microsecond=0)
    hour = dt.timedelta(hours=1)
    made = {}

    def run(name, tier, grant, user, notebook, start, length=None):
        view = ledger.open_run(
            kernel_id=f"kernel-{name}",
            kernelspec=f"compute-panel-{tier.id}-python3",
            tier=tier,
            grant_id=grant,
            user=user,
            notebook=notebook,
            now=start,
        )
        if length is not None:
            view = ledger.close_run(view.id, "shutdown", at=start + length)
        made[name] = view
        return view

    run("r1", rtx, ACTIVE, "alice", "a.ipynb", t0, hour)  # 0.50
    run("r2", h200, ACTIVE, "bob", "b.ipynb", t0 + dt.timedelta(days=1), hour / 2)  # 1.75
    run("r3", rtx, ACTIVE, "alice", "b.ipynb", t0 + dt.timedelta(days=2), dt.timedelta(seconds=7))  # 0.000972
    run("r4", local, None, "alice", "a.ipynb", t0 + dt.timedelta(days=3), 2 * hour)  # free
    run("r6", rtx, EXPIRED, "carol", "old.ipynb", t0 - dt.timedelta(days=30), 3 * hour)  # 1.50
    run("r5", h200, ACTIVE, "alice", "c.ipynb", utcnow())  # open: its cost grows until now
    return t0, made


async def list_runs(api, **params):
    status, body = await api("GET", "compute-panel/runs", params=params)
    assert status == 200, body
    return body


def names(body, made):
    by_id = {v.id: k for k, v in made.items()}
    return [by_id[r["id"]] for r in body["runs"]]


def assert_totals_are_the_sum(body):
    """The totals equal, exactly, the sum of the listed runs' costs, per currency."""
    sums: dict[str, Decimal] = {}
    for r in body["runs"]:
        sums[r["cost"]["currency"]] = sums.get(r["cost"]["currency"], Decimal(0)) + Decimal(r["cost"]["amount"])
    assert {t["currency"]: Decimal(t["amount"]) for t in body["totals"]} == sums


async def test_runs_list_and_filters(api, runs):
    t0, made = runs
    everything = await list_runs(api)
    assert names(everything, made) == ["r5", "r4", "r3", "r2", "r1", "r6"]  # newest first
    assert everything["count"] == 6
    assert_totals_are_the_sum(everything)

    closed = {r["id"]: r for r in everything["runs"] if r["status"] == "closed"}
    assert {r["cost"]["amount"] for r in closed.values()} == {"0.50", "1.75", "0.000972", "0.00", "1.50"}
    r1 = next(r for r in everything["runs"] if r["id"] == made["r1"].id)
    assert r1 == {
        "id": made["r1"].id,
        "kernel_id": "kernel-r1",
        "kernelspec": "compute-panel-rtx4090-python3",
        "tier_id": "rtx4090",
        "tier_label": "RTX 4090 prototyping",
        "grant_id": ACTIVE,
        "user": "alice",
        "notebook": "a.ipynb",
        "rate": {"amount": "0.50", "currency": "USD"},
        "started": iso(t0),
        "last_heartbeat": iso(t0),
        "ended": iso(t0 + dt.timedelta(hours=1)),
        "end_reason": "shutdown",
        "duration_s": 3600.0,
        "cost": {"amount": "0.50", "currency": "USD"},
        "status": "closed",
    }

    cases = [
        ({"notebook": "a.ipynb"}, ["r4", "r1"]),
        ({"notebook": "b.ipynb"}, ["r3", "r2"]),
        ({"tier": "h200"}, ["r5", "r2"]),
        ({"tier": "rtx4090", "user": "alice"}, ["r3", "r1"]),
        ({"grant": EXPIRED}, ["r6"]),
        ({"grant": ACTIVE}, ["r5", "r3", "r2", "r1"]),
        ({"user": "bob"}, ["r2"]),
        ({"kernel": "kernel-r3"}, ["r3"]),
        ({"status": "open"}, ["r5"]),
        ({"status": "closed"}, ["r4", "r3", "r2", "r1", "r6"]),
        # since: ended at or after the instant, or still open.
        ({"since": iso(t0 + dt.timedelta(days=1, minutes=31))}, ["r5", "r4", "r3"]),
        ({"since": iso(t0 + dt.timedelta(days=1, minutes=30))}, ["r5", "r4", "r3", "r2"]),
        # until: started before the instant.
        ({"until": iso(t0 + dt.timedelta(days=1))}, ["r1", "r6"]),
        ({"until": iso(t0 + dt.timedelta(days=1, milliseconds=1))}, ["r2", "r1", "r6"]),
        ({"since": iso(t0), "until": iso(t0 + dt.timedelta(days=2, hours=1))}, ["r3", "r2", "r1"]),
        ({"notebook": "nope.ipynb"}, []),
    ]
    for params, expected in cases:
        body = await list_runs(api, **params)
        assert names(body, made) == expected, params
        assert body["count"] == len(expected), params
        assert_totals_are_the_sum(body)


async def test_runs_instants_with_offsets_mean_the_same_instant(api, runs):
    t0, made = runs
    utc = t0 + dt.timedelta(days=1)
    plus_two = (utc + dt.timedelta(hours=2)).isoformat() + "+02:00"
    naive = utc.isoformat()
    expected = ["r1", "r6"]
    for value in (iso(utc), plus_two, naive):
        assert names(await list_runs(api, until=value), made) == expected, value


async def test_runs_totals_are_exact(api, runs):
    body = await list_runs(api, status="closed")
    assert body["totals"] == [{"amount": "3.750972", "currency": "USD"}]  # 0.50 + 1.75 + 0.000972 + 0 + 1.50
    body = await list_runs(api, grant=ACTIVE, status="closed")
    assert body["totals"] == [{"amount": "2.250972", "currency": "USD"}]
    body = await list_runs(api, tier="local-cpu")
    assert body["totals"] == [{"amount": "0.00", "currency": "USD"}]


async def test_runs_pagination(api, runs):
    _, made = runs
    pages = []
    for offset in (0, 2, 4, 6):
        body = await list_runs(api, limit="2", offset=str(offset))
        assert body["count"] == 6  # all matches, whatever the page
        pages.append(names(body, made))
    assert pages == [["r5", "r4"], ["r3", "r2"], ["r1", "r6"], []]
    # The totals cover every match, not only the page.
    closed_page = await list_runs(api, status="closed", limit="1", offset="1")
    assert names(closed_page, made) == ["r3"]
    assert closed_page["totals"] == [{"amount": "3.750972", "currency": "USD"}]
    assert (await list_runs(api, limit="1000"))["count"] == 6


async def test_one_run_and_kernel_run(api, runs):
    _, made = runs
    status, body = await api("GET", f"compute-panel/runs/{made['r2'].id}")
    assert status == 200
    assert body["cost"] == {"amount": "1.75", "currency": "USD"}
    assert body["user"] == "bob" and body["status"] == "closed"

    status, body = await api("GET", "compute-panel/kernels/kernel-r5/run")
    assert status == 200
    assert body["id"] == made["r5"].id and body["status"] == "open" and body["ended"] is None
    # A stopped kernel's current run is its last, closed run (its final cost).
    status, body = await api("GET", "compute-panel/kernels/kernel-r1/run")
    assert status == 200 and body["id"] == made["r1"].id and body["status"] == "closed"
    status, body = await api("GET", "compute-panel/kernels/never-metered/run")
    assert_error(status, body, 404, "kernel_id")


async def test_grant_spend_is_the_sum_of_its_runs(api, runs):
    status, body = await api("GET", f"compute-panel/grants/{EXPIRED}")
    assert status == 200
    assert body["spent"] == "1.50"
    runs_body = await list_runs(api, grant=EXPIRED)
    assert runs_body["totals"] == [{"amount": "1.50", "currency": "USD"}]


# -- authentication ---------------------------------------------------------------------
ENDPOINTS = [
    ("GET", "compute-panel/version"),
    ("GET", "compute-panel/tiers"),
    ("GET", "compute-panel/grants"),
    ("GET", f"compute-panel/grants/{ACTIVE}"),
    ("GET", "compute-panel/bindings?path=nb.ipynb"),
    ("PUT", "compute-panel/bindings"),
    ("GET", "compute-panel/runs"),
    ("GET", "compute-panel/runs/abc"),
    ("GET", "compute-panel/kernels/abc/run"),
    ("PUT", f"compute-panel/grants/{ACTIVE}/budget"),
    ("PUT", f"compute-panel/grants/{ACTIVE}/members/bob"),
    ("DELETE", f"compute-panel/grants/{ACTIVE}/members/bob"),
]


async def test_every_endpoint_refuses_unauthenticated_requests(raw, grants):
    for method, path in ENDPOINTS:
        for authorization in (None, "", "token not-the-token"):
            headers = {} if authorization is None else {"Authorization": authorization}
            body = json.dumps({"path": "nb.ipynb", "grant_id": ACTIVE}) if method == "PUT" else None
            if method in ("PUT", "DELETE"):
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
