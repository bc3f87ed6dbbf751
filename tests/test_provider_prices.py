"""Providers' own price answers as price lists: RunPod, Vast.ai, AWS (trn1, inf2), and
Theta EdgeCloud's machine types through the json-items format.

Each answer is parsed exactly (JSON numbers as Decimal, rounded half-up to one
micro-unit); a malformed one says what is wrong; served over HTTP to a real server, a
provider's answer sets its tier's rate and a broken one keeps the last good rate.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import GRANT_A, HEARTBEAT
from test_price_sources import PriceListServer

from jupyterlab_compute_panel.domain.catalog import CatalogError, PriceListRef, parse_catalog
from jupyterlab_compute_panel.domain.money import MoneyError, quoted_amount
from jupyterlab_compute_panel.metering.prices import PriceListError
from jupyterlab_compute_panel.metering.provider_prices import parse_for

FIXTURES = Path(__file__).parent / "fixtures" / "prices"
TODAY = dt.date(2026, 12, 5)
THETA = PriceListRef(
    "file:///prices/theta.json",
    "",
    "json-items",
    items="body.machine_types",
    key="name",
    price="price_per_hour",
    currency="USD",
)


def read(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def ref(list_format: str) -> PriceListRef:
    return PriceListRef("file:///prices.json", "", list_format)


def test_quoted_amounts_round_half_up_to_one_micro_unit_never_through_a_float():
    assert quoted_amount("0.3486666666666667") == 348_667
    assert quoted_amount("0.0000005") == 1
    assert quoted_amount("0.00000049") == 0
    assert quoted_amount("1.3437500000") == 1_343_750
    for bad in (0.5, True, None, "-1", "NaN", "cheap"):
        with pytest.raises(MoneyError):
            quoted_amount(bad)


def test_runpod_gpu_types_secure_and_community():
    prices = parse_for(ref("runpod-gpu-types"), read("runpod-gpu-types.json"), TODAY)
    assert prices.currency == "USD" and prices.date == TODAY and prices.source == "RunPod GPU types"
    assert prices.prices["NVIDIA GeForce RTX 4090"] == 690_000
    assert prices.prices["NVIDIA GeForce RTX 4090@secure"] == 690_000
    assert prices.prices["NVIDIA GeForce RTX 4090@community"] == 340_000
    assert prices.prices["NVIDIA H200"] == 3_990_000
    # Not offered on the community cloud: no price there rather than a price of 0.
    assert "NVIDIA H200@community" not in prices.prices


def test_vast_offers_lowest_per_gpu_count():
    prices = parse_for(ref("vast-offers"), read("vast-offers.json"), TODAY)
    assert prices.prices == {
        "RTX 4090": 348_667,  # the cheaper of two one-GPU offers, 0.34866666... rounded half-up
        "RTX 4090 x2": 723_333,
        "RTX 3090": 180_100,
        "H200": 2_667_500,
    }


def test_aws_get_products_linux_on_demand_only():
    prices = parse_for(ref("aws-price-list"), read("aws-get-products.json"), TODAY)
    # The Windows and the capacity-reservation products of inf2.xlarge are not its price.
    assert prices.prices == {"trn1.2xlarge": 1_343_750, "trn1.32xlarge": 21_500_000, "inf2.xlarge": 758_200}
    assert prices.date == dt.date(2026, 11, 20) and prices.source == "AWS Price List (us-east-1)"


def test_aws_offer_file_shape_too():
    answer = json.loads(read("aws-get-products.json"))
    products, on_demand = {}, {}
    for entry in answer["PriceList"]:
        item = json.loads(entry)
        sku = item["product"]["sku"]
        products[sku] = item["product"]
        on_demand[sku] = item["terms"]["OnDemand"]
    offer_file = {"publicationDate": "2026-11-20T00:00:00Z", "products": products, "terms": {"OnDemand": on_demand}}
    prices = parse_for(ref("aws-price-list"), json.dumps(offer_file), TODAY)
    assert prices.prices["inf2.xlarge"] == 758_200


def test_theta_machine_types_through_json_items():
    prices = parse_for(THETA, read("theta-machine-types.json"), TODAY)
    assert prices.prices == {
        "G-RTX4090-x1": 400_000,
        "G-A100_80GB-x1": 1_390_000,
        "G-H100_80GB-x2": 5_980_000,
        "G-H200-x1": 3_590_000,
    }


@pytest.mark.parametrize(
    ("list_ref", "text", "problem"),
    [
        (ref("runpod-gpu-types"), b'{"errors": [{"message": "Unauthorized"}]}', "is an error answer from RunPod"),
        (ref("runpod-gpu-types"), b'{"data": {}}', "has no 'data.gpuTypes'"),
        (ref("runpod-gpu-types"), b'{"data": {"gpuTypes": [{"securePrice": 1}]}}', "has a GPU type without an id"),
        (ref("vast-offers"), b'{"offers": [{"gpu_name": "RTX 4090", "dph_total": "cheap"}]}', "has a bad price for"),
        (
            ref("vast-offers"),
            b'{"offers": [{"gpu_name": "RTX 4090", "num_gpus": 0, "dph_total": 1}]}',
            "with a bad num_gpus",
        ),
        (ref("vast-offers"), b'{"offers": []}', "has no prices"),
        (ref("aws-price-list"), b"{}", "is neither an AWS Price List offer file"),
        (ref("aws-price-list"), read("aws-get-products.json")[:200], "is not valid JSON"),
        (THETA, b'{"body": {"machine_types": [{"price_per_hour": "1"}]}}', "has an item without a 'name'"),
        (THETA, b'{"body": {}}', "has no 'body.machine_types'"),
    ],
)
def test_malformed_provider_answers_say_what_is_wrong(list_ref, text, problem):
    with pytest.raises(PriceListError) as error:
        parse_for(list_ref, text, TODAY)
    assert problem in str(error.value)


def catalog_tier(price_list: dict) -> dict:
    return {
        "id": "cloud-rtx",
        "label": "Cloud RTX",
        "reliability": "community",
        "price": {
            "per_hour": "0.50",
            "currency": "USD",
            "source": "catalog fallback",
            "date": "2026-11-01",
            "list": price_list,
        },
    }


@pytest.mark.parametrize(
    ("price_list", "field", "problem"),
    [
        ({"url": "file:///p.json", "item": "x", "format": "csv"}, "price.list.format", "must be one of"),
        ({"url": "file:///p.json", "item": "x", "format": "json-items"}, "price.list.items", "is needed by"),
        ({"url": "file:///p.json", "item": "x", "key": "name"}, "price.list.key", "json-items format only"),
        (
            {
                "url": "file:///p.json",
                "item": "x",
                "format": "json-items",
                "items": "a",
                "key": "k",
                "price": "p",
                "currency": "usd",
            },
            "price.list.currency",
            "three-letter",
        ),
    ],
)
def test_the_catalog_checks_a_list_format(price_list, field, problem):
    with pytest.raises(CatalogError) as error:
        parse_catalog([catalog_tier(price_list)])
    assert field in str(error.value) and problem in str(error.value)


@pytest.fixture
def price_server():
    server = PriceListServer()
    yield server
    server.close()


@pytest.fixture
def panel_config(db_url, price_server):
    return {
        "db_url": db_url,
        "heartbeat_interval": HEARTBEAT,
        "owner": "alice",
        "default_grant": GRANT_A["id"],
        "capture_environment": False,
        "price_refresh_interval": 3600,
        "tiers": [
            {
                "id": "local-cpu",
                "label": "Local CPU",
                "reliability": "local",
                "price": {"per_hour": "0", "currency": "USD"},
            },
            catalog_tier({"url": price_server.url, "item": "RTX 4090", "format": "vast-offers"}),
        ],
    }


async def test_a_providers_answer_prices_a_tier_and_a_broken_one_keeps_the_last_good_rate(
    api, grants, service, ledger, price_server
):
    price_server.answer = (200, read("vast-offers.json"))
    await service.prices.refresh()
    _, body = await api("GET", "compute-panel/tiers")
    tier = next(t for t in body["tiers"] if t["id"] == "cloud-rtx")
    assert tier["price"]["per_hour"] == "0.348667"
    assert tier["price"]["source"].startswith("Vast.ai offers (lowest) (http://127.0.0.1:")
    assert [rate for rate, _, _ in ledger.rate_history("cloud-rtx")] == [500_000, 348_667]

    price_server.answer = (200, b'{"offers": [{"gpu_name": "RTX 4090", "num_gpus": 1}]}')
    await service.prices.refresh()
    _, body = await api("GET", "compute-panel/tiers")
    tier = next(t for t in body["tiers"] if t["id"] == "cloud-rtx")
    assert tier["price"]["per_hour"] == "0.348667"
    assert tier["price_list"]["ok"] is False
    assert "has a bad price for 'RTX 4090'" in tier["price_list"]["message"]
    assert "keeps its last good rate" in tier["price_list"]["message"]
