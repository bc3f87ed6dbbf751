"""The tier catalog: what compute a kernel can run on, and at what price.

Admins declare tiers in server config (``ComputePanel.tiers``) or in a YAML or
JSON file (``ComputePanel.catalog_file``). Every field is validated here; the
first problem found is reported as one line naming the tier and the field.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from .money import MoneyError, format_amount, parse_amount, parse_currency

RELIABILITY_CLASSES = ("local", "community", "datacenter", "cloud-accelerator")
DEMO_CATALOG = Path(__file__).parents[1] / "demo" / "catalog.yaml"
_TIER_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_TIER_KEYS = {
    "id",
    "label",
    "description",
    "hardware",
    "price",
    "reliability",
    "simulated",
    "sensitive_data_allowed",
    "idle_timeout_s",
    "backend",
}


class BackendProblem(ValueError):
    """A backend setting refused: ``path`` under the tier's ``backend`` and the problem.

    Raised by the ``check(provisioner, config)`` of the installed provisioners that
    ``parse_catalog`` is given (the metering layer's ``installed_provisioners()``): the
    catalog does not know the backends, it asks them."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class CatalogError(ValueError):
    """An invalid catalog; the message is one readable line."""


@dataclass(frozen=True)
class Gpu:
    model: str
    count: int
    memory_gb: Decimal | None


@dataclass(frozen=True)
class Hardware:
    gpu: Gpu | None
    cpu_cores: int | None
    memory_gb: Decimal | None

    def to_json(self) -> dict[str, Any]:
        return {
            "gpu": None
            if self.gpu is None
            else {
                "model": self.gpu.model,
                "count": self.gpu.count,
                "memory_gb": _number(self.gpu.memory_gb),
            },
            "cpu_cores": self.cpu_cores,
            "memory_gb": _number(self.memory_gb),
        }


@dataclass(frozen=True)
class Backend:
    provisioner: str
    config: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PriceListRef:
    """Where a tier's price is read from: a provider's price list and the tier's item in it.

    ``format`` is how the list is written (``PRICE_LIST_FORMATS``); the ``json-items``
    format names where its items, their keys and prices are (``items``, ``key``,
    ``price``) and its currency."""

    url: str
    item: str
    format: str = "compute-panel-prices/1"
    items: str | None = None
    key: str | None = None
    price: str | None = None
    currency: str | None = None


#: The shapes of price list a tier may name: ours, and providers' own answers.
PRICE_LIST_FORMATS = (
    "compute-panel-prices/1",  # our document (metering/prices.py)
    "runpod-gpu-types",  # RunPod's GraphQL answer to its gpuTypes query
    "vast-offers",  # Vast.ai's offer search answer
    "aws-price-list",  # an AWS Price List offer file for EC2 (trn1, inf2)
    "json-items",  # any JSON answer with a list of priced items (Theta EdgeCloud's machine types)
)


@dataclass(frozen=True)
class Tier:
    id: str
    label: str
    description: str
    hardware: Hardware
    rate_micros_per_hour: int
    currency: str
    price_source: str
    price_date: dt.date | None
    reliability: str
    simulated: bool
    sensitive_data_allowed: bool
    idle_timeout_s: int | None
    backend: Backend
    price_list: PriceListRef | None = None

    @property
    def free(self) -> bool:
        return self.rate_micros_per_hour == 0

    @property
    def price_text(self) -> str:
        return "free" if self.free else f"{format_amount(self.rate_micros_per_hour)} {self.currency}/h"

    def price_json(self) -> dict[str, Any]:
        return {
            "per_hour": format_amount(self.rate_micros_per_hour),
            "currency": self.currency,
            "source": self.price_source,
            "date": self.price_date.isoformat() if self.price_date else None,
        }

    def summary_json(self) -> dict[str, Any]:
        """What the browser needs to show the tier; also kept in kernelspecs."""
        return {
            "tier_id": self.id,
            "label": self.label,
            "hardware": self.hardware.to_json(),
            "price": self.price_json(),
            "reliability": self.reliability,
            "simulated": self.simulated,
            "sensitive_data_allowed": self.sensitive_data_allowed,
        }


@dataclass(frozen=True)
class Catalog:
    tiers: tuple[Tier, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {t.id: t for t in self.tiers})

    def get(self, tier_id: str) -> Tier | None:
        return self._by_id.get(tier_id)  # type: ignore[attr-defined]

    def __iter__(self):
        return iter(self.tiers)

    def __len__(self) -> int:
        return len(self.tiers)


def _number(value: Decimal | None) -> int | float | None:
    # Hardware sizes are descriptive, not money: JSON numbers are fine here.
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


class _Field:
    """Collects the location of a value for error messages."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str, problem: str) -> CatalogError:
        return CatalogError(f"{self.where}: {path}: {problem}")

    def text(self, data: Mapping, key: str, *, required: bool = True, default: str = "") -> str:
        value = data.get(key, None)
        if value is None:
            if required:
                raise self.fail(key, "is required")
            return default
        if not isinstance(value, str) or (required and not value.strip()):
            raise self.fail(key, f"must be a non-empty string, got {value!r}")
        return value.strip()

    def boolean(self, data: Mapping, key: str, default: bool) -> bool:
        value = data.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def integer(self, data: Mapping, key: str, *, minimum: int, path: str | None = None) -> int | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(path or key, f"must be a whole number of at least {minimum}, got {value!r}")
        return value

    def size(self, data: Mapping, key: str, path: str) -> Decimal | None:
        value = data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise self.fail(path, f"must be a number of gigabytes, got {value!r}")
        try:
            number = Decimal(repr(value) if isinstance(value, float) else str(value))
        except ArithmeticError:
            raise self.fail(path, f"must be a number of gigabytes, got {value!r}") from None
        if not number.is_finite() or number <= 0:
            raise self.fail(path, f"must be a positive number of gigabytes, got {value!r}")
        return number

    def known(self, data: Mapping, path: str, fields: tuple[str, ...]) -> None:
        unknown = sorted(set(data) - set(fields))
        if unknown:
            raise self.fail(f"{path}.{unknown[0]}", f"is not a field of {path} (known: {', '.join(fields)})")

    def mapping(self, data: Mapping, key: str, *, required: bool = True) -> Mapping:
        value = data.get(key)
        if value is None and not required:
            return {}
        if not isinstance(value, Mapping):
            raise self.fail(key, f"must be a mapping, got {value!r}")
        return value


def parse_tier(data: Any, index: int, known_provisioners: Sequence[str] | None = None) -> Tier:
    label_hint = data.get("id") if isinstance(data, Mapping) else None
    f = _Field(f"tier {label_hint!r}" if isinstance(label_hint, str) else f"tier #{index + 1}")
    if not isinstance(data, Mapping):
        raise CatalogError(f"tier #{index + 1}: must be a mapping of fields, got {data!r}")
    unknown = sorted(set(data) - _TIER_KEYS)
    if unknown:
        raise f.fail(unknown[0], f"is not a tier field (known: {', '.join(sorted(_TIER_KEYS))})")
    tier_id = f.text(data, "id")
    if not _TIER_ID.match(tier_id):
        raise f.fail("id", "must be 1-40 lowercase letters, digits or '-', starting with a letter or digit")

    hw = f.mapping(data, "hardware", required=False)
    f.known(hw, "hardware", ("gpu", "cpu_cores", "memory_gb"))
    gpu_data = hw.get("gpu")
    gpu = None
    if gpu_data is not None:
        if not isinstance(gpu_data, Mapping):
            raise f.fail("hardware.gpu", f"must be a mapping or null, got {gpu_data!r}")
        f.known(gpu_data, "hardware.gpu", ("model", "count", "memory_gb"))
        model = gpu_data.get("model")
        if not isinstance(model, str) or not model.strip():
            raise f.fail("hardware.gpu.model", "is required and must be a string")
        count = f.integer(gpu_data, "count", minimum=1, path="hardware.gpu.count")
        gpu = Gpu(model.strip(), count or 1, f.size(gpu_data, "memory_gb", "hardware.gpu.memory_gb"))
    hardware = Hardware(
        gpu=gpu,
        cpu_cores=f.integer(hw, "cpu_cores", minimum=1, path="hardware.cpu_cores"),
        memory_gb=f.size(hw, "memory_gb", "hardware.memory_gb"),
    )

    price = f.mapping(data, "price")
    f.known(price, "price", ("per_hour", "currency", "source", "date", "list"))
    price_list = None
    if price.get("list") is not None:
        list_data = f.mapping(price, "list")
        f.known(list_data, "price.list", ("url", "item", "format", "items", "key", "price", "currency"))
        url, item = list_data.get("url"), list_data.get("item")
        if not isinstance(url, str) or not re.match(r"^(https?://|file://|/)\S+$", url.strip()):
            raise f.fail("price.list.url", f"must be an http(s):// or file:// URL or an absolute path, got {url!r}")
        if not isinstance(item, str) or not item.strip():
            raise f.fail("price.list.item", "must name the tier's entry in the price list")
        list_format = list_data.get("format", PRICE_LIST_FORMATS[0])
        if list_format not in PRICE_LIST_FORMATS:
            raise f.fail("price.list.format", f"must be one of {', '.join(PRICE_LIST_FORMATS)}, got {list_format!r}")
        paths: dict[str, str | None] = {}
        for name in ("items", "key", "price", "currency"):
            value = list_data.get(name)
            if list_format == "json-items":
                if not isinstance(value, str) or not value.strip():
                    raise f.fail(f"price.list.{name}", "is needed by the json-items format")
                if name == "currency":
                    try:
                        parse_currency(value)
                    except MoneyError as e:
                        raise f.fail("price.list.currency", str(e)) from None
                paths[name] = value.strip()
            elif value is not None:
                raise f.fail(f"price.list.{name}", "is read by the json-items format only")
        price_list = PriceListRef(url.strip(), item.strip(), list_format, **paths)
    try:
        rate = parse_amount(price.get("per_hour"))
    except MoneyError as e:
        raise f.fail("price.per_hour", str(e)) from None
    try:
        currency = parse_currency(price.get("currency"))
    except MoneyError as e:
        raise f.fail("price.currency", str(e)) from None
    source = price.get("source")
    if rate > 0 and (not isinstance(source, str) or not source.strip()):
        raise f.fail("price.source", "is required for a paid tier: say where the price comes from")
    price_date = price.get("date")
    if isinstance(price_date, str):
        try:
            price_date = dt.date.fromisoformat(price_date)
        except ValueError:
            raise f.fail("price.date", f"must be a date such as 2026-11-01, got {price_date!r}") from None
    if isinstance(price_date, dt.datetime) or not (price_date is None or isinstance(price_date, dt.date)):
        raise f.fail("price.date", f"must be a date such as 2026-11-01, got {price_date!r}")
    if rate > 0 and price_date is None:
        raise f.fail("price.date", "is required for a paid tier: say when the price was checked")

    reliability = data.get("reliability")
    if reliability not in RELIABILITY_CLASSES:
        raise f.fail("reliability", f"must be one of {', '.join(RELIABILITY_CLASSES)}, got {reliability!r}")

    backend_data = f.mapping(data, "backend", required=False) or {"provisioner": "local-provisioner"}
    provisioner = backend_data.get("provisioner")
    if not isinstance(provisioner, str) or not provisioner:
        raise f.fail("backend.provisioner", "must name a kernel provisioner such as local-provisioner")
    if provisioner == "compute-panel-provisioner":
        raise f.fail(
            "backend.provisioner",
            "must name the provisioner that launches kernels, not compute-panel-provisioner itself",
        )
    if known_provisioners is not None and provisioner not in known_provisioners:
        raise f.fail(
            "backend.provisioner",
            f"{provisioner!r} is not an installed kernel provisioner (installed: {', '.join(sorted(known_provisioners))})",
        )
    backend_config = backend_data.get("config", {})
    if not isinstance(backend_config, Mapping):
        raise f.fail("backend.config", f"must be a mapping, got {backend_config!r}")
    unknown = sorted(set(backend_data) - {"provisioner", "config"})
    if unknown:
        raise f.fail(f"backend.{unknown[0]}", "is not a backend field (known: provisioner, config)")
    check = getattr(known_provisioners, "check", None)
    if check is not None and provisioner in known_provisioners:
        try:
            check(provisioner, backend_config)
        except BackendProblem as e:
            raise f.fail(f"backend.{e.path}", e.problem) from None

    return Tier(
        id=tier_id,
        label=f.text(data, "label"),
        description=f.text(data, "description", required=False),
        hardware=hardware,
        rate_micros_per_hour=rate,
        currency=currency,
        price_source=(source or "").strip() if isinstance(source, str) else "",
        price_date=price_date,
        reliability=reliability,
        simulated=f.boolean(data, "simulated", False),
        sensitive_data_allowed=f.boolean(data, "sensitive_data_allowed", False),
        idle_timeout_s=f.integer(data, "idle_timeout_s", minimum=1),
        backend=Backend(provisioner, dict(backend_config)),
        price_list=price_list,
    )


def parse_catalog(data: Any, known_provisioners: Sequence[str] | None = None, where: str = "catalog") -> Catalog:
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"tiers"})
        if unknown:
            raise CatalogError(f"{where}: {unknown[0]!r} is not a catalog field (expected a 'tiers' list)")
        data = data.get("tiers")
    if not isinstance(data, Sequence) or isinstance(data, (str, bytes)):
        raise CatalogError(f"{where}: must be a list of tiers (or a mapping with a 'tiers' list)")
    if not data:
        raise CatalogError(f"{where}: has no tiers; declare at least one")
    tiers = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        tier = parse_tier(item, index, known_provisioners)
        if tier.id in seen:
            raise CatalogError(f"tier {tier.id!r}: id: is declared twice")
        seen.add(tier.id)
        tiers.append(tier)
    return Catalog(tuple(tiers))


def _yaml_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def construct_float(loader, node):
        # Keep prices exact: a YAML float becomes a Decimal of its literal text. The
        # forms Decimal cannot read (.inf, .nan, 1:30.5) stay floats, so that the field
        # that holds them reports the problem instead of the YAML parser.
        try:
            return Decimal(loader.construct_scalar(node))
        except ArithmeticError:
            return yaml.SafeLoader.construct_yaml_float(loader, node)

    Loader.add_constructor("tag:yaml.org,2002:float", construct_float)
    return Loader


def read_catalog_file(path: str | Path, known_provisioners: Sequence[str] | None = None) -> Catalog:
    path = Path(path)
    where = f"catalog file {str(path)!r}"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise CatalogError(f"{where}: cannot be read ({e.strerror or e})") from None
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text, parse_float=Decimal)
        else:
            import yaml

            data = yaml.load(text, Loader=_yaml_loader())  # noqa: S506 - SafeLoader subclass
    except Exception as e:  # noqa: BLE001 - any parse error is reported as one line
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise CatalogError(
            f"{where}: is not valid {'JSON' if path.suffix.lower() == '.json' else 'YAML'} ({first})"
        ) from None
    return parse_catalog(data, known_provisioners, where)
