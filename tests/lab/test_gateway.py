"""The compute gateway under a real JupyterHub: who a request is, and what it may reach."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.lab


def test_tiers_answer_a_users_hub_token(gateway, tokens):
    status, tiers = gateway.request("GET", "/compute-panel/tiers", token=tokens["alice"])
    assert status == 200, tiers
    assert [t["id"] for t in tiers["tiers"]] == ["h200"]
