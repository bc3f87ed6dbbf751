"""Price sources: a tier's hourly rate from a provider's price list.

A tier whose ``price.list`` names a price list (an http(s) endpoint, a ``file://`` URL
or a path) and its item in it takes its rate from that list, read at start-up and every
``ComputePanel.price_refresh_interval`` seconds. The document (``PRICE_LIST_FORMAT``)::

    {
      "format": "compute-panel-prices/1",
      "source": "Example GPU cloud, public on-demand prices",
      "date": "2026-11-20",
      "currency": "USD",
      "prices": {"rtx4090": "0.44", "h200": "3.29"}
    }

Prices are decimal strings (JSON numbers are read exactly, never as binary floats),
per kernel-hour, at most 6 decimal places. Every change of rate becomes a new row of
``tier_rates`` (source and date of the list); a run keeps the rate it started with. A
list that cannot be read, is malformed, lacks the item or is in another currency
changes nothing: the tier keeps its last good rate, and ``status`` says so, as does the
server log.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..domain.catalog import Catalog, Tier
from ..domain.money import format_amount
from ..ledger import iso, utcnow
from .price_lists import PRICE_LIST_FORMAT, PriceList, PriceListError, parse_price_list  # noqa: F401
from .provider_prices import parse_for

# Providers' own answers (an offer search, a GetProducts page) run to a few megabytes.
MAX_BYTES = 16_000_000


async def read_price_list(url: str, timeout: float = 20.0) -> bytes:
    """The bytes of a price list; PriceListError when it cannot be read."""
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        return await asyncio.get_running_loop().run_in_executor(None, _fetch, url, timeout)
    path = Path(unquote(parsed.path)) if parsed.scheme == "file" else Path(url)
    try:
        return await asyncio.get_running_loop().run_in_executor(None, path.read_bytes)
    except OSError as e:
        raise PriceListError(f"cannot be read ({e.strerror or e})") from None


def _fetch(url: str, timeout: float) -> bytes:
    """GET a price list over HTTP(S) (in a worker thread), at most MAX_BYTES."""
    request = urllib.request.Request(url, headers={"User-Agent": "jupyterlab-compute-panel"})  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) only
            body = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as e:
        raise PriceListError(f"answered HTTP {e.code}") from None
    except urllib.error.URLError as e:
        reason = e.reason
        raise PriceListError(f"cannot be reached ({getattr(reason, 'strerror', None) or reason})") from None
    except (OSError, TimeoutError) as e:
        raise PriceListError(f"cannot be reached ({getattr(e, 'strerror', None) or e})") from None
    if len(body) > MAX_BYTES:
        raise PriceListError(f"is larger than {MAX_BYTES} bytes")
    return body


def _with_rate(tier: Tier, rate: int, source: str, date: dt.date) -> Tier:
    return dataclasses.replace(tier, rate_micros_per_hour=rate, price_source=source, price_date=date)


def with_last_good_rates(catalog: Catalog, last_rate: Any) -> Catalog:
    """At start-up, a tier priced by a list keeps the last rate the ledger has for it (the
    last good one) rather than the catalog's fallback, until the list is read again."""
    tiers = []
    for tier in catalog:
        if tier.price_list is not None:
            last = last_rate(tier.id)
            if last is not None:
                rate, currency, source, date = last
                if currency == tier.currency:
                    tier = _with_rate(tier, rate, source or tier.price_source, date or tier.price_date)
        tiers.append(tier)
    return Catalog(tuple(tiers))


class PriceSources:
    """Reads the price lists of a service's tiers and applies their rates."""

    def __init__(self, service: Any, interval: float = 3600.0, log: logging.Logger | None = None) -> None:
        self.service = service
        self.interval = interval
        self.log = log or logging.getLogger("jupyterlab_compute_panel")
        self._status: dict[str, dict[str, Any]] = {}

    def status(self, tier_id: str) -> dict[str, Any] | None:
        """The last reading of a tier's price list; None for a tier priced by the catalog."""
        return self._status.get(tier_id)

    async def refresh(self) -> None:
        tiers = [t for t in self.service.catalog if t.price_list is not None]
        # One reading per list (the URL and how it is read), whatever the tiers priced from it.
        lists: dict[Any, PriceList | PriceListError] = {}
        for ref in {dataclasses.replace(t.price_list, item="") for t in tiers}:  # type: ignore[arg-type]
            try:
                lists[ref] = parse_for(ref, await read_price_list(ref.url))
            except PriceListError as e:
                lists[ref] = e
        changed = []
        for tier in tiers:
            ref = tier.price_list
            assert ref is not None
            outcome = lists[dataclasses.replace(ref, item="")]
            problem = None
            if isinstance(outcome, PriceListError):
                problem = f"The price list {ref.url} {outcome}"
            elif ref.item not in outcome.prices:
                problem = f"The price list {ref.url} has no price for {ref.item!r}"
            elif outcome.currency != tier.currency:
                problem = (
                    f"The price list {ref.url} is in {outcome.currency}, but {tier.label} is priced in {tier.currency}"
                )
            status: dict[str, Any] = {"url": ref.url, "item": ref.item, "checked": iso(utcnow())}
            if problem:
                kept = f"{format_amount(tier.rate_micros_per_hour)} {tier.currency}/h"
                message = f"{problem}: {tier.label} keeps its last good rate, {kept} ({tier.price_source}, {tier.price_date})."
                if self._status.get(tier.id, {}).get("message") != message:
                    self.log.warning("compute-panel: %s", message)
                status.update(ok=False, message=message)
            else:
                assert not isinstance(outcome, PriceListError)
                rate = outcome.prices[ref.item]
                source = f"{outcome.source} ({ref.url})"
                if (rate, source, outcome.date) != (tier.rate_micros_per_hour, tier.price_source, tier.price_date):
                    changed.append(_with_rate(tier, rate, source, outcome.date))
                status.update(ok=True, message=None)
            self._status[tier.id] = status
        if changed:
            await self._apply(changed)

    async def _apply(self, changed: list[Tier]) -> None:
        service = self.service
        # The ledger first: a new tier_rates row for each changed rate. Runs keep theirs.
        await service.db(service.ledger.sync_tiers, changed)
        service.update_tiers(changed)
        for tier in changed:
            self.log.info("compute-panel: %s now costs %s (%s)", tier.label, tier.price_text, tier.price_source)
