"""Budgets and grant policies enforced before launch, atomically, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading
import uuid

import pytest
from conftest import GRANT_A
from tornado.httpclient import HTTPClientError

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file
from jupyterlab_compute_panel.domain.grants import parse_grant
from jupyterlab_compute_panel.domain.policy import budget_sentence, launch_refusal
from jupyterlab_compute_panel.ledger import BudgetExhausted, Ledger, RunFilter, utcnow

CATALOG = read_catalog_file(DEMO_CATALOG)
RTX, H200 = CATALOG.get("rtx4090"), CATALOG.get("h200")
TODAY = dt.date(2026, 11, 23)


def grant_view(**changes):
    ledger_free = parse_grant({**GRANT_A, **changes})
    from jupyterlab_compute_panel.ledger import GrantView

    members = tuple(ledger_free.pop("members", None) or ())
    allowed = ledger_free.pop("allowed_tiers", None)
    thresholds = ledger_free.pop("alert_thresholds", (50, 80, 100))
    policies = {k: ledger_free.pop(k) for k in ("sensitive", "hard_stop", "min_runtime_s") if k in ledger_free}
    return GrantView(
        **ledger_free,
        allowed_tiers=tuple(allowed) if allowed else None,
        alert_thresholds=tuple(thresholds),
        members=tuple(sorted({(GRANT_A["pi"], "pi"), *members})),
        **policies,
    )


@pytest.mark.parametrize(
    ("changes", "user", "tier", "sentence"),
    [
        (
            {},
            "mallory",
            RTX,
            "You are not a member of grant NSF CNS-2401234, so you cannot charge it: ask its PI (alice) to add you, or choose another grant.",
        ),
        (
            {"members": [{"user": "vic", "role": "viewer"}]},
            "vic",
            RTX,
            "You can view grant NSF CNS-2401234 but not charge it: ask its PI (alice) to make you a member, or choose another grant.",
        ),
        (
            {"start_date": "2020-01-01", "end_date": "2021-01-01"},
            "alice",
            RTX,
            "Grant NSF CNS-2401234 is not active today (it runs from 2020-01-01 to 2021-01-01): choose another grant to use RTX 4090 prototyping.",
        ),
        (
            {"currency": "EUR"},
            "alice",
            H200,
            "Grant NSF CNS-2401234 is in EUR but H200 training is priced in USD: choose a grant in USD.",
        ),
        (
            {"allowed_tiers": ["rtx4090"]},
            "alice",
            H200,
            "Grant NSF CNS-2401234 does not pay for H200 training (it allows rtx4090): choose another tier, or ask its PI to allow this one.",
        ),
        (
            {"sensitive": True},
            "alice",
            RTX,
            "Grant NSF CNS-2401234 holds sensitive data, which may not run on community nodes such as RTX 4090 prototyping: choose a datacenter or local tier.",
        ),
    ],
)
def test_each_policy_refusal_is_one_sentence(changes, user, tier, sentence):
    assert launch_refusal(grant_view(**changes), tier, user, TODAY) == sentence


def test_members_and_co_pis_may_charge():
    grant = grant_view(co_pis=["carol"], members=["bob:member"], sensitive=True)
    for user in ("alice", "carol", "bob"):
        assert launch_refusal(grant, H200, user, TODAY) is None


@pytest.fixture
def ledger(any_db_url):
    ledger = Ledger(any_db_url)
    ledger.migrate()
    ledger.sync_tiers(CATALOG)
    yield ledger
    ledger.dispose()


def reserve(ledger, grant_id, tier=H200, now=None):
    return ledger.reserve_run(
        kernel_id=uuid.uuid4().hex, kernelspec="k", tier=tier, grant_id=grant_id, user="alice", notebook=None, now=now
    )


def test_budget_covers_minimum_runtimes_then_refuses(ledger):
    # 15 minutes on H200 cost 0.875 USD: a 3.00 USD budget pays for 3 minimum runtimes.
    ledger.upsert_grant(parse_grant({**GRANT_A, "budget": "3.00"}))
    now = utcnow()
    runs = [reserve(ledger, GRANT_A["id"], now=now) for _ in range(3)]
    with pytest.raises(BudgetExhausted) as refused:
        reserve(ledger, GRANT_A["id"], now=now)
    assert (refused.value.left_micros, refused.value.committed_micros, refused.value.needed_micros) == (
        3_000_000,
        2_625_000,
        875_000,
    )
    assert budget_sentence(refused.value, H200) == (
        "Grant NSF CNS-2401234 has 0.375 USD left after 2.625 USD committed to its running kernels, "
        "less than 15 minutes on H200 training (0.875 USD): ask its PI to raise the budget, or choose a cheaper tier."
    )
    # Said to the reader in their role: a PI is not told to ask its PI.
    assert budget_sentence(refused.value, H200, "bob") == budget_sentence(refused.value, H200)
    assert budget_sentence(refused.value, H200, GRANT_A["pi"]).endswith(
        "(0.875 USD): raise its budget on its dashboard (you are its PI), or choose a cheaper tier."
    )
    # A closed run frees its commitment: what it cost is spent, the rest is available again.
    ledger.close_run(runs[0].id, "shutdown", at=now + dt.timedelta(minutes=6))
    reserve(ledger, GRANT_A["id"], now=now + dt.timedelta(minutes=6))


@pytest.mark.parametrize("starts", [20])
def test_simultaneous_starts_never_overcommit(ledger, starts):
    """20 starts at the same moment on a grant that can pay for 5 minimum runtimes: at most 5 start."""
    ledger.upsert_grant(parse_grant({**GRANT_A, "budget": "4.375"}))  # exactly 5 x 0.875
    barrier = threading.Barrier(starts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def start():
        barrier.wait()
        try:
            reserve(ledger, GRANT_A["id"])
            result = "started"
        except BudgetExhausted:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=start) for _ in range(starts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("started") == 5
    assert outcomes.count("refused") == starts - 5
    assert ledger.list_runs(RunFilter(grant=GRANT_A["id"], status="open"))[1] == 5


async def test_twenty_kernels_at_once_through_the_server_start_at_most_five(jp_fetch, service, ledger_for_server):
    """The same through POST /api/kernels: the provisioner's reservation is the check."""
    service.ledger.upsert_grant(parse_grant({**GRANT_A, "budget": "0.625"}))  # 5 x 15 min on RTX (0.125)
    service.default_grant = GRANT_A["id"]

    async def start():
        try:
            response = await jp_fetch(
                "api", "kernels", method="POST", body=json.dumps({"name": "compute-panel-rtx4090-python3"})
            )
            return json.loads(response.body)["id"]
        except HTTPClientError as e:
            assert e.code == 403, e
            return json.loads(e.response.body)["message"]

    results = await asyncio.gather(*(start() for _ in range(20)))
    started = [r for r in results if "Grant" not in r]
    refused = [r for r in results if r.startswith("Grant NSF CNS-2401234 has ")]
    assert (len(started), len(refused)) == (5, 15)
    for kernel_id in started:
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


@pytest.fixture
def ledger_for_server(jp_serverapp):
    return jp_serverapp


async def test_a_viewer_is_refused_through_the_server(jp_fetch, service):
    service.ledger.upsert_grant(parse_grant({**GRANT_A, "pi": "someone-else", "members": ["alice:viewer"]}))
    service.default_grant = GRANT_A["id"]
    with pytest.raises(HTTPClientError) as refused:
        await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "compute-panel-h200-python3"}))
    assert refused.value.code == 403
    assert json.loads(refused.value.response.body)["message"].startswith(
        "You can view grant NSF CNS-2401234 but not charge it"
    )
    assert service.ledger.list_runs(RunFilter(grant=GRANT_A["id"]))[1] == 0
