"""The price list document of our own format, and what every price list is read into.

``prices.py`` reads lists and applies their rates; ``provider_prices.py`` reads providers'
own answers into the same ``PriceList``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal

from ..domain.money import MoneyError, parse_amount, parse_currency

PRICE_LIST_FORMAT = "compute-panel-prices/1"


class PriceListError(ValueError):
    """Why a price list was not used; one clause, completed by the caller."""


@dataclasses.dataclass(frozen=True)
class PriceList:
    source: str
    date: dt.date
    currency: str
    prices: dict[str, int]  # item -> micro-units per hour


def parse_price_list(text: bytes | str) -> PriceList:
    try:
        data = json.loads(text, parse_float=Decimal)
    except ValueError as e:
        raise PriceListError(f"is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise PriceListError("is not a JSON object")
    if data.get("format") != PRICE_LIST_FORMAT:
        raise PriceListError(f"has format {data.get('format')!r}, expected {PRICE_LIST_FORMAT!r}")
    source = data.get("source")
    if not isinstance(source, str) or not source.strip():
        raise PriceListError("has no source")
    try:
        date = dt.date.fromisoformat(str(data.get("date")))
    except ValueError:
        raise PriceListError(f"has no date such as 2026-11-20 (got {data.get('date')!r})") from None
    try:
        currency = parse_currency(data.get("currency"))
    except MoneyError as e:
        raise PriceListError(f"has a bad currency ({e})") from None
    prices = data.get("prices")
    if not isinstance(prices, dict) or not prices:
        raise PriceListError("has no prices")
    parsed = {}
    for item, amount in prices.items():
        try:
            parsed[str(item)] = parse_amount(amount)
        except MoneyError as e:
            raise PriceListError(f"has a bad price for {item!r} ({e})") from None
    return PriceList(source.strip(), date, currency, parsed)
