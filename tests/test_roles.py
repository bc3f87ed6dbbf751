"""Roles on the server: who sees, charges and edits a grant, with two users sharing one ledger."""

from __future__ import annotations

import datetime as dt
import signal

import pytest
from conftest import GRANT_A, HEARTBEAT
from servers import Server

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file
from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.ledger import Ledger, RunFilter, utcnow

G = GRANT_A["id"]
OTHER = {**GRANT_A, "id": "other-grant", "award_number": "OTHER-1", "pi": "erin"}
H200 = read_catalog_file(DEMO_CATALOG).get("h200")


def seed(ledger: Ledger) -> None:
    ledger.sync_tiers(read_catalog_file(DEMO_CATALOG))
    ledger.upsert_grant(parse_grant({**GRANT_A, "members": ["bob:member", "carol:viewer"]}))
    ledger.upsert_grant(parse_grant(OTHER))
    start = utcnow() - dt.timedelta(hours=1)
    for user, grant in (("alice", G), ("bob", G), ("erin", OTHER["id"])):
        run = ledger.open_run(
            kernel_id=f"k-{user}",
            kernelspec="x",
            tier=H200,
            grant_id=grant,
            user=user,
            notebook=f"{user}.ipynb",
            now=start,
        )
        ledger.close_run(run.id, "shutdown", at=start + dt.timedelta(minutes=10))


# who: (grants listed, users whose runs of G are visible, GET G, PUT budget, PUT member, bind G)
MATRIX = {
    "alice": ([G], ["alice", "bob"], 200, 200, 200, 200),  # PI: sees all, edits, charges
    "bob": ([G], ["bob"], 200, 403, 403, 200),  # member: own runs, charges, no edit
    "carol": ([G], ["alice", "bob"], 200, 403, 403, 403),  # viewer: sees all, no charge, no edit
    "dave": ([], [], 404, 404, 404, 404),  # no role: the grant does not exist for him
    "root": (
        [G, "other-grant"],
        ["alice", "bob"],
        200,
        200,
        200,
        403,
    ),  # admin: sees all, edits; charges only as member
}


@pytest.mark.parametrize("who", list(MATRIX))
async def test_role_matrix(who, api, service, ledger):
    seed(ledger)
    service.owner = who
    service.admins = {"root"}
    grants, run_users, read, budget, member, bind = MATRIX[who]

    status, body = await api("GET", "compute-panel/grants")
    assert status == 200 and [g["id"] for g in body["grants"]] == sorted(grants)
    status, body = await api("GET", "compute-panel/runs", params={"grant": G})
    assert status == 200 and sorted(r["user"] for r in body["runs"]) == run_users
    assert body["count"] == len(run_users)
    status, _ = await api("GET", f"compute-panel/grants/{G}")
    assert status == read
    status, body = await api("PUT", f"compute-panel/grants/{G}/budget", {"budget": "4000.00"})
    assert status == budget, body
    if status == 403:
        assert body == {
            "message": "Only the PI of grant NSF CNS-2401234 (alice) or an admin may change it",
            "field": "grant_id",
        }
    status, body = await api("PUT", f"compute-panel/grants/{G}/members/frank", {"role": "member"})
    assert status == member, body
    status, body = await api("PUT", "compute-panel/bindings", {"path": "x.ipynb", "grant_id": G})
    assert status == bind, body
    # A run is visible by id exactly when it is listed.
    for user in ("alice", "bob"):
        [run] = ledger.list_runs(RunFilter(user=user))[0]
        status, _ = await api("GET", f"compute-panel/runs/{run.id}")
        assert status == (200 if user in run_users else 404)


async def test_member_edits_are_checked(api, service, ledger):
    seed(ledger)
    service.owner = "alice"
    status, body = await api("PUT", f"compute-panel/grants/{G}/budget", {"budget": 12.5})
    assert (status, body["field"]) == (422, "budget")
    status, body = await api("PUT", f"compute-panel/grants/{G}/members/bob", {"role": "owner"})
    assert (status, body["field"]) == (422, "role")
    status, body = await api("DELETE", f"compute-panel/grants/{G}/members/alice")
    assert status == 409 and "is its PI and cannot be removed" in body["message"]
    status, body = await api("DELETE", f"compute-panel/grants/{G}/members/bob")
    assert status == 200 and {m["user"] for m in body["members"]} == {"alice", "carol"}
    status, body = await api("PUT", f"compute-panel/grants/{G}/budget", {"budget": "4000.00"})
    assert status == 200 and body["budget"] == "4000.00"


@pytest.mark.slow
def test_two_users_share_one_ledger(tmp_path, db_url):
    """Two servers (alice the PI, bob a member) on one ledger: the rules hold across them."""
    ledger = Ledger(db_url)
    ledger.migrate()
    seed(ledger)
    common = {"db_url": db_url, "heartbeat_interval": HEARTBEAT, "default_grant": G}
    alice = Server(tmp_path / "alice", {**common, "owner": "alice"}).start()
    bob = Server(tmp_path / "bob", {**common, "owner": "bob"}).start()
    try:
        status, kernel = bob.request("POST", "/api/kernels", {"name": "compute-panel-rtx4090-python3"})
        assert status == 201, kernel
        status, body = alice.request("GET", f"/compute-panel/runs?grant={G}&status=open")
        assert [(r["user"], r["kernel_id"]) for r in body["runs"]] == [("bob", kernel["id"])]
        status, body = bob.request("GET", f"/compute-panel/runs?grant={G}")
        assert {r["user"] for r in body["runs"]} == {"bob"}
        assert bob.request("PUT", f"/compute-panel/grants/{G}/budget", {"budget": "1.00"})[0] == 403
        assert alice.request("PUT", f"/compute-panel/grants/{G}/budget", {"budget": "4321.00"})[0] == 200
        status, grant = bob.request("GET", f"/compute-panel/grants/{G}")
        assert grant["budget"] == "4321.00" and grant["role"] == "member"
        assert bob.request("DELETE", f"/api/kernels/{kernel['id']}")[0] == 204
    finally:
        for server in (alice, bob):
            server.stop(signal.SIGTERM)
            server.close()
        ledger.dispose()
