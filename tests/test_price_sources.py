"""Price sources: a tier's rate from a provider's price list over HTTP (a recorded answer).

A new rate is a new tier_rates row; an open run keeps the rate it started with; a
malformed, failing or unreachable list keeps the last good rate and says so, also
after a restart.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import GRANT_A, HEARTBEAT

from jupyterlab_compute_panel.domain.catalog import Catalog, parse_catalog
from jupyterlab_compute_panel.ledger import Ledger
from jupyterlab_compute_panel.metering.prices import PriceListError, parse_price_list, with_last_good_rates

FIXTURES = Path(__file__).parent / "fixtures" / "prices"
RECORDED = (FIXTURES / "provider-2026-11-20.json").read_bytes()
CLOUD = "compute-panel-cloud-rtx-python3"


class PriceListServer:
    """Serves whatever ``answer`` holds: (HTTP status, body). It starts failing, so that the
    server's own reading at start-up leaves the catalog's rate until a test serves the list."""

    def __init__(self) -> None:
        self.answer: tuple[int, bytes] = (503, b"{}")
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = owner.answer
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/prices.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def price_server():
    server = PriceListServer()
    yield server
    server.close()


def tiers(url: str) -> list[dict]:
    return [
        {
            "id": "local-cpu",
            "label": "Local CPU",
            "reliability": "local",
            "price": {"per_hour": "0", "currency": "USD"},
        },
        {
            "id": "cloud-rtx",
            "label": "Cloud RTX",
            "reliability": "community",
            "price": {
                "per_hour": "0.50",
                "currency": "USD",
                "source": "catalog fallback",
                "date": "2026-11-01",
                "list": {"url": url, "item": "rtx4090"},
            },
        },
    ]


@pytest.fixture
def panel_config(db_url, price_server):
    return {
        "db_url": db_url,
        "heartbeat_interval": HEARTBEAT,
        "owner": "alice",
        "default_grant": GRANT_A["id"],
        "capture_environment": False,
        "price_refresh_interval": 3600,
        "tiers": tiers(price_server.url),
    }


async def cloud_tier(api) -> dict:
    status, body = await api("GET", "compute-panel/tiers")
    assert status == 200, body
    return next(t for t in body["tiers"] if t["id"] == "cloud-rtx")


def test_the_documented_format_parses_exactly():
    prices = parse_price_list(RECORDED)
    assert (prices.currency, str(prices.date)) == ("USD", "2026-11-20")
    assert prices.prices == {"rtx4090": 440_000, "h200-sxm": 3_290_000, "l40s": 860_000}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ((FIXTURES / "malformed.json").read_bytes(), "is not valid JSON"),
        (b"[]", "is not a JSON object"),
        (RECORDED.replace(b"compute-panel-prices/1", b"v2"), "has format 'v2', expected 'compute-panel-prices/1'"),
        (RECORDED.replace(b'"0.44"', b'"0.1234567"'), "has a bad price for 'rtx4090'"),
        (RECORDED.replace(b'"USD"', b'"dollars"'), "has a bad currency"),
    ],
)
def test_malformed_lists_say_what_is_wrong(text, problem):
    with pytest.raises(PriceListError) as error:
        parse_price_list(text)
    assert str(error.value).startswith(problem)


async def test_a_price_list_sets_the_rate_and_open_runs_keep_theirs(
    jp_fetch, api, grants, service, ledger, price_server
):
    assert (await cloud_tier(api))["price"]["per_hour"] == "0.50"
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": CLOUD}))
    kernel_id = json.loads(response.body)["id"]
    _, before = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert before["rate"] == {"amount": "0.50", "currency": "USD"}

    price_server.answer = (200, RECORDED)
    await service.prices.refresh()
    tier = await cloud_tier(api)
    assert tier["price"]["per_hour"] == "0.44" and tier["price"]["date"] == "2026-11-20"
    assert tier["price"]["source"].startswith("Example GPU cloud, public on-demand prices (http://127.0.0.1:")
    assert tier["price_list"]["ok"] is True and tier["price_list"]["message"] is None
    assert [rate for rate, _, _ in ledger.rate_history("cloud-rtx")] == [500_000, 440_000]

    _, still = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert still["rate"] == {"amount": "0.50", "currency": "USD"}, "a run keeps the rate it started with"
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": CLOUD}))
    new_kernel = json.loads(response.body)["id"]
    _, new_run = await api("GET", f"compute-panel/kernels/{new_kernel}/run")
    assert new_run["rate"] == {"amount": "0.44", "currency": "USD"}
    await jp_fetch("api", "kernels", new_kernel, method="DELETE")

    await service.prices.refresh()  # the same list again: no new rate row
    assert len(ledger.rate_history("cloud-rtx")) == 2


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        ((200, (FIXTURES / "malformed.json").read_bytes()), "is not valid JSON"),
        ((503, b"{}"), "answered HTTP 503"),
        ((200, RECORDED.replace(b'"rtx4090"', b'"rtx5090"')), "has no price for 'rtx4090'"),
        ((200, RECORDED.replace(b'"USD"', b'"EUR"')), "is in EUR, but Cloud RTX is priced in USD"),
        (None, "cannot be reached"),
    ],
)
async def test_a_bad_price_list_keeps_the_last_good_rate_and_says_so(
    api, grants, service, ledger, price_server, answer, problem
):
    price_server.answer = (200, RECORDED)
    await service.prices.refresh()
    assert (await cloud_tier(api))["price"]["per_hour"] == "0.44"
    if answer is None:
        price_server.close()
    else:
        price_server.answer = answer
    await service.prices.refresh()
    tier = await cloud_tier(api)
    assert tier["price"]["per_hour"] == "0.44"
    status = tier["price_list"]
    assert status["ok"] is False
    assert status["message"].startswith(f"The price list {price_server.url} {problem}"[: len("The price list ") + 20])
    assert problem in status["message"]
    assert status["message"].endswith(
        ": Cloud RTX keeps its last good rate, 0.44 USD/h "
        f"(Example GPU cloud, public on-demand prices ({price_server.url}), 2026-11-20)."
    )
    assert [rate for rate, _, _ in ledger.rate_history("cloud-rtx")] == [500_000, 440_000]


def test_a_restart_starts_from_the_last_good_rate(db_url):
    ledger = Ledger(db_url)
    ledger.migrate()
    catalog = parse_catalog(tiers("http://127.0.0.1:9/prices.json"))
    assert with_last_good_rates(catalog, ledger.last_rate).get("cloud-rtx").rate_micros_per_hour == 500_000
    listed = Catalog(
        tuple(
            t
            if t.id != "cloud-rtx"
            else t.__class__(**{**t.__dict__, "rate_micros_per_hour": 440_000, "price_source": "list"})
            for t in catalog
        )
    )
    ledger.sync_tiers(listed)
    restarted = with_last_good_rates(catalog, ledger.last_rate).get("cloud-rtx")
    assert (restarted.rate_micros_per_hour, restarted.price_source) == (440_000, "list")
    ledger.dispose()
