"""Providers' own price answers read as price lists (``price.list.format`` in the catalog).

Each parser turns one provider's answer into a ``PriceList`` (item -> micro-units per
hour), so that a tier priced from it goes through ``prices.PriceSources`` like any list:
a new rate is a new ``tier_rates`` row, a run keeps the rate it started with, and a list
that cannot be read or is malformed keeps the tier's last good rate and says so.

The items each format offers, as a tier's ``price.list.item`` names them:

- ``runpod-gpu-types``: RunPod's GraphQL answer to its ``gpuTypes`` query
  (``{"data": {"gpuTypes": [{"id", "securePrice", "communityPrice"}]}}``): ``<id>`` is the
  secure-cloud price, ``<id>@community`` the community-cloud one, per GPU and hour.
- ``vast-offers``: Vast.ai's offer search answer (``{"offers": [{"gpu_name",
  "num_gpus", "dph_total"}]}``): ``<gpu_name>`` is the lowest ``dph_total`` among the
  one-GPU offers, ``<gpu_name> x<n>`` among the n-GPU ones (a whole machine's hour).
- ``aws-price-list``: an AWS Price List offer file for EC2 (one region): ``<instance
  type>`` (``trn1.2xlarge``, ``inf2.xlarge``) is its on-demand hour, Linux, shared tenancy,
  no pre-installed software.
- ``json-items``: any JSON answer holding a list of priced items: ``items`` is the dotted
  path of the list, ``key`` and ``price`` the fields of an item, ``currency`` the list's
  currency. Theta EdgeCloud's machine types are read this way (docs/deployment.md).

JSON numbers are read as Decimal, never as binary floats; a price with more places than
the ledger keeps is rounded half-up to one micro-unit (``money.quoted_amount``).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from ..domain.catalog import PriceListRef
from ..domain.money import MoneyError, quoted_amount
from .price_lists import PRICE_LIST_FORMAT, PriceList, PriceListError, parse_price_list


def _json(text: bytes | str) -> Any:
    try:
        return json.loads(text, parse_float=Decimal)
    except ValueError as e:
        raise PriceListError(f"is not valid JSON ({e})") from None


def _price(value: Any, what: str) -> int:
    try:
        return quoted_amount(value)
    except MoneyError as e:
        raise PriceListError(f"has a bad price for {what!r} ({e})") from None


def _list(data: Any, path: str) -> list:
    node = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise PriceListError(f"has no {path!r}")
        node = node[part]
    if not isinstance(node, list):
        raise PriceListError(f"has no list at {path!r}")
    return node


def _finish(source: str, date: dt.date, currency: str, prices: dict[str, int]) -> PriceList:
    if not prices:
        raise PriceListError("has no prices")
    return PriceList(source, date, currency, prices)


def parse_runpod(text: bytes | str, today: dt.date) -> PriceList:
    data = _json(text)
    if isinstance(data, dict) and data.get("errors"):
        raise PriceListError("is an error answer from RunPod")
    prices: dict[str, int] = {}
    for gpu in _list(data, "data.gpuTypes"):
        if not isinstance(gpu, dict) or not isinstance(gpu.get("id"), str):
            raise PriceListError("has a GPU type without an id")
        gpu_id = gpu["id"]
        for field, key in (
            ("securePrice", gpu_id),
            ("securePrice", f"{gpu_id}@secure"),
            ("communityPrice", f"{gpu_id}@community"),
        ):
            # A GPU type not offered on a cloud has no price there (null or 0).
            if gpu.get(field) not in (None, 0):
                prices[key] = _price(gpu[field], key)
    return _finish("RunPod GPU types", today, "USD", prices)


def parse_vast(text: bytes | str, today: dt.date) -> PriceList:
    data = _json(text)
    prices: dict[str, int] = {}
    for offer in _list(data, "offers"):
        if not isinstance(offer, dict) or not isinstance(offer.get("gpu_name"), str):
            raise PriceListError("has an offer without a gpu_name")
        count = offer.get("num_gpus", 1)
        if isinstance(count, bool) or not isinstance(count, (int, Decimal)) or count < 1 or count != int(count):
            raise PriceListError(f"has an offer of {offer['gpu_name']!r} with a bad num_gpus")
        key = offer["gpu_name"] if int(count) == 1 else f"{offer['gpu_name']} x{int(count)}"
        price = _price(offer.get("dph_total"), key)
        prices[key] = min(price, prices.get(key, price))
    return _finish("Vast.ai offers (lowest)", today, "USD", prices)


_AWS_WANTED = {"operatingSystem": "Linux", "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}


def _aws_products(data: Any) -> list[tuple[dict, dict, str]]:
    """(attributes, on-demand terms, publication date) of each product, from an offer file
    (``products`` and ``terms``) or a Price List API ``GetProducts`` answer (``PriceList``:
    one JSON document per product, as ``aws pricing get-products`` prints it)."""
    if isinstance(data, dict) and isinstance(data.get("PriceList"), list):
        found = []
        for entry in data["PriceList"]:
            item = _json(entry) if isinstance(entry, str) else entry
            if not isinstance(item, dict) or not isinstance(item.get("product"), dict):
                raise PriceListError("has a PriceList entry without a product")
            on_demand = item.get("terms", {}).get("OnDemand", {})
            found.append((item["product"].get("attributes", {}), on_demand, str(item.get("publicationDate", ""))))
        return found
    if not isinstance(data, dict) or not isinstance(data.get("products"), dict):
        raise PriceListError("is neither an AWS Price List offer file nor a GetProducts answer")
    terms = data.get("terms")
    on_demand = terms.get("OnDemand") if isinstance(terms, dict) else None
    if not isinstance(on_demand, dict):
        raise PriceListError("has no on-demand terms")
    published = str(data.get("publicationDate", ""))
    return [
        (product.get("attributes", {}), on_demand.get(sku) or {}, published)
        for sku, product in data["products"].items()
        if isinstance(product, dict)
    ]


def parse_aws(text: bytes | str, today: dt.date) -> PriceList:
    prices: dict[str, int] = {}
    dates, regions = set(), set()
    for attributes, on_demand, published in _aws_products(_json(text)):
        instance = attributes.get("instanceType")
        if not instance or any(attributes.get(k) != v for k, v in _AWS_WANTED.items()):
            continue
        for term in on_demand.values():
            for dimension in term.get("priceDimensions", {}).values():
                if dimension.get("unit") == "Hrs" and "USD" in dimension.get("pricePerUnit", {}):
                    prices[instance] = _price(dimension["pricePerUnit"]["USD"], instance)
                    dates.add(published[:10])
                    regions.add(attributes.get("regionCode"))
    try:
        date = dt.date.fromisoformat(max(dates)) if dates else today
    except ValueError:
        date = today
    regions.discard(None)
    source = f"AWS Price List ({', '.join(sorted(regions))})" if regions else "AWS Price List"
    return _finish(source, date, "USD", prices)


def parse_json_items(text: bytes | str, ref: PriceListRef, today: dt.date) -> PriceList:
    assert ref.items and ref.key and ref.price and ref.currency
    prices: dict[str, int] = {}
    for entry in _list(_json(text), ref.items):
        if not isinstance(entry, dict) or not isinstance(entry.get(ref.key), str):
            raise PriceListError(f"has an item without a {ref.key!r}")
        prices[entry[ref.key]] = _price(entry.get(ref.price), entry[ref.key])
    return _finish("JSON price list", today, ref.currency, prices)


def parse_for(ref: PriceListRef, text: bytes | str, today: dt.date | None = None) -> PriceList:
    """The list ``ref`` names, read in its format."""
    today = today or dt.datetime.now(dt.timezone.utc).date()
    if ref.format == PRICE_LIST_FORMAT:
        return parse_price_list(text)
    if ref.format == "runpod-gpu-types":
        return parse_runpod(text, today)
    if ref.format == "vast-offers":
        return parse_vast(text, today)
    if ref.format == "aws-price-list":
        return parse_aws(text, today)
    if ref.format == "json-items":
        return parse_json_items(text, ref, today)
    raise PriceListError(f"is in an unknown format {ref.format!r}")
