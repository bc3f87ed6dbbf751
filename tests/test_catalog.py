"""The tier catalog: the demo catalog, exact prices, and one-line errors naming tier and field."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from jupyterlab_compute_panel.domain.catalog import (
    DEMO_CATALOG,
    CatalogError,
    parse_catalog,
    read_catalog_file,
)
from jupyterlab_compute_panel.hosts.app import installed_provisioners

KNOWN = installed_provisioners()

LOCAL = {
    "id": "local",
    "label": "Local",
    "price": {"per_hour": "0", "currency": "USD"},
    "reliability": "local",
}
RTX = {
    "id": "rtx",
    "label": "RTX",
    "hardware": {"gpu": {"model": "RTX 4090", "count": 1, "memory_gb": 24}, "cpu_cores": 8, "memory_gb": 32},
    "price": {"per_hour": "0.50", "currency": "USD", "source": "a price list", "date": "2026-11-01"},
    "reliability": "community",
    "simulated": True,
}


def write(tmp_path: Path, text: str, name: str = "catalog.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_known_provisioners_include_ours_and_local():
    assert "local-provisioner" in KNOWN
    assert "compute-panel-provisioner" in KNOWN


def test_demo_catalog():
    catalog = read_catalog_file(DEMO_CATALOG, KNOWN)
    assert [t.id for t in catalog] == ["local-cpu", "rtx4090", "h200"]
    local, rtx, h200 = catalog

    assert local.label == "Local CPU"
    assert local.free and local.rate_micros_per_hour == 0
    assert local.price_text == "free"
    assert local.reliability == "local"
    assert not local.simulated
    assert local.hardware.gpu is None
    assert local.price_source  # even a free tier says why it is free
    assert local.backend.provisioner == "local-provisioner"

    assert rtx.label == "RTX 4090 prototyping"
    assert rtx.rate_micros_per_hour == 500_000
    assert rtx.currency == "USD"
    assert rtx.price_text == "0.50 USD/h"
    assert rtx.simulated
    assert rtx.reliability == "community"
    assert rtx.hardware.gpu.model == "NVIDIA GeForce RTX 4090"
    assert rtx.hardware.gpu.count == 1
    assert rtx.hardware.gpu.memory_gb == 24
    assert "RunPod" in rtx.price_source
    assert rtx.price_date == dt.date(2026, 11, 1)
    assert rtx.idle_timeout_s == 1800
    assert not rtx.sensitive_data_allowed

    assert h200.label == "H200 training"
    assert h200.rate_micros_per_hour == 3_500_000
    assert h200.price_text == "3.50 USD/h"
    assert h200.simulated
    assert h200.reliability == "datacenter"
    assert h200.hardware.gpu.model == "NVIDIA H200 SXM"
    assert h200.hardware.gpu.memory_gb == 141
    assert h200.price_source and h200.price_date == dt.date(2026, 11, 1)

    assert catalog.get("h200") is h200
    assert catalog.get("nope") is None
    assert len(catalog) == 3


def test_demo_catalog_json_views():
    rtx = read_catalog_file(DEMO_CATALOG, KNOWN).get("rtx4090")
    assert rtx.price_json() == {
        "per_hour": "0.50",
        "currency": "USD",
        "source": rtx.price_source,
        "date": "2026-11-01",
    }
    summary = rtx.summary_json()
    assert summary["tier_id"] == "rtx4090"
    assert summary["simulated"] is True
    assert summary["hardware"] == {
        "gpu": {"model": "NVIDIA GeForce RTX 4090", "count": 1, "memory_gb": 24},
        "cpu_cores": 8,
        "memory_gb": 32,
    }
    json.dumps(summary)  # serialisable as is


def test_unquoted_yaml_price_stays_exact(tmp_path):
    text = """
tiers:
  - id: cheap
    label: Cheap
    price: {per_hour: 0.1, currency: USD, source: list, date: 2026-01-01}
    reliability: cloud-accelerator
    hardware: {memory_gb: 0.5}
  - id: big
    label: Big
    price: {per_hour: 123456789012.123456, currency: USD, source: list, date: 2026-01-01}
    reliability: datacenter
"""
    catalog = read_catalog_file(write(tmp_path, text), KNOWN)
    cheap, big = catalog
    assert cheap.rate_micros_per_hour == 100_000
    assert cheap.price_json()["per_hour"] == "0.10"
    assert cheap.hardware.memory_gb == Decimal("0.5")
    # A binary float keeps only ~17 digits (123456789012.12346); the catalog keeps them all.
    assert repr(123456789012.123456) == "123456789012.12346"
    assert big.rate_micros_per_hour == 123_456_789_012_123_456


def test_yaml_loader_reads_floats_as_decimals(tmp_path):
    from jupyterlab_compute_panel.domain.catalog import _yaml_loader

    data = yaml.load("a: 0.1\nb: 1.5e+3\nc: 3\nd: '0.2'", Loader=_yaml_loader())
    assert data == {"a": Decimal("0.1"), "b": Decimal("1500"), "c": 3, "d": "0.2"}
    assert isinstance(data["a"], Decimal)


def test_json_catalog_keeps_prices_exact(tmp_path):
    tier = {**RTX, "price": {**RTX["price"], "per_hour": 0.1}}
    path = write(tmp_path, json.dumps({"tiers": [LOCAL, tier]}), "catalog.json")
    catalog = read_catalog_file(path, KNOWN)
    assert catalog.get("rtx").rate_micros_per_hour == 100_000
    assert catalog.get("rtx").hardware.gpu.memory_gb == 24


def test_inline_catalog_from_a_list():
    catalog = parse_catalog([LOCAL, RTX], KNOWN, "ComputePanel.tiers")
    assert [t.id for t in catalog] == ["local", "rtx"]
    assert catalog.get("rtx").backend.provisioner == "local-provisioner"  # the default backend


def test_no_known_provisioners_means_no_check():
    tier = {**RTX, "backend": {"provisioner": "ssh-provisioner", "config": {"host": "node1"}}}
    catalog = parse_catalog([tier], None)
    assert catalog.get("rtx").backend.provisioner == "ssh-provisioner"
    assert dict(catalog.get("rtx").backend.config) == {"host": "node1"}


def _without(d: dict, key: str) -> dict:
    d = copy.deepcopy(d)
    del d[key]
    return d


def _with(path: str, value) -> dict:
    d = copy.deepcopy(RTX)
    target = d
    *parents, last = path.split(".")
    for p in parents:
        target = target.setdefault(p, {})
    target[last] = value
    return d


def _without_price(key: str) -> dict:
    d = copy.deepcopy(RTX)
    del d["price"][key]
    return d


# (case id, tiers (or a whole document), the one line's expected beginning)
BAD_CATALOGS = [
    ("missing label", [LOCAL, _without(RTX, "label")], "tier 'rtx': label: is required"),
    ("empty label", [LOCAL, _with("label", "  ")], "tier 'rtx': label: must be a non-empty string"),
    ("missing id", [_without(LOCAL, "id")], "tier #1: id: is required"),
    ("bad id", [LOCAL, _with("id", "RTX 4090")], "tier 'RTX 4090': id: must be 1-40 lowercase letters"),
    ("id not a string", [LOCAL, _with("id", 7)], "tier #2: id: must be a non-empty string, got 7"),
    (
        "bad reliability",
        [LOCAL, _with("reliability", "cheap")],
        "tier 'rtx': reliability: must be one of local, community, datacenter, cloud-accelerator, got 'cheap'",
    ),
    ("negative price", [LOCAL, _with("price.per_hour", "-0.50")], "tier 'rtx': price.per_hour: must not be negative"),
    ("price not a number", [LOCAL, _with("price.per_hour", "cheap")], "tier 'rtx': price.per_hour: must be a decimal"),
    ("price too precise", [LOCAL, _with("price.per_hour", "0.1234567")], "tier 'rtx': price.per_hour: has more than 6"),
    ("missing price", [LOCAL, _without(RTX, "price")], "tier 'rtx': price: must be a mapping, got None"),
    (
        "paid tier without source",
        [LOCAL, _without_price("source")],
        "tier 'rtx': price.source: is required for a paid tier",
    ),
    ("paid tier without date", [LOCAL, _without_price("date")], "tier 'rtx': price.date: is required for a paid tier"),
    ("bad date", [LOCAL, _with("price.date", "Nov 2026")], "tier 'rtx': price.date: must be a date such as"),
    ("bad currency", [LOCAL, _with("price.currency", "dollars")], "tier 'rtx': price.currency: must be a three-letter"),
    ("missing currency", [LOCAL, _without_price("currency")], "tier 'rtx': price.currency: must be a three-letter"),
    ("unknown field", [LOCAL, _with("colour", "red")], "tier 'rtx': colour: is not a tier field (known: "),
    (
        "unknown provisioner",
        [LOCAL, _with("backend", {"provisioner": "ssh-provisioner"})],
        "tier 'rtx': backend.provisioner: 'ssh-provisioner' is not an installed kernel provisioner (installed: ",
    ),
    (
        "compute-panel-provisioner as backend",
        [LOCAL, _with("backend", {"provisioner": "compute-panel-provisioner"})],
        "tier 'rtx': backend.provisioner: must name the provisioner that launches kernels, not compute-panel-provisioner",
    ),
    (
        "unknown backend field",
        [LOCAL, _with("backend", {"provisioner": "local-provisioner", "image": "x"})],
        "tier 'rtx': backend.image: is not a backend field",
    ),
    (
        "backend config not a mapping",
        [LOCAL, _with("backend", {"provisioner": "local-provisioner", "config": [1]})],
        "tier 'rtx': backend.config: must be a mapping",
    ),
    ("duplicate id", [LOCAL, RTX, RTX], "tier 'rtx': id: is declared twice"),
    (
        "bad gpu count",
        [LOCAL, _with("hardware.gpu.count", 0)],
        "tier 'rtx': hardware.gpu.count: must be a whole number",
    ),
    (
        "gpu count not an integer",
        [LOCAL, _with("hardware.gpu.count", "two")],
        "tier 'rtx': hardware.gpu.count: must be a whole number of at least 1, got 'two'",
    ),
    ("gpu without model", [LOCAL, _with("hardware.gpu", {"count": 2})], "tier 'rtx': hardware.gpu.model: is required"),
    (
        "negative gpu memory",
        [LOCAL, _with("hardware.gpu.memory_gb", -24)],
        "tier 'rtx': hardware.gpu.memory_gb: must be a positive number",
    ),
    ("bad cpu cores", [LOCAL, _with("hardware.cpu_cores", 0)], "tier 'rtx': hardware.cpu_cores: must be a whole"),
    ("simulated not a boolean", [LOCAL, _with("simulated", "yes")], "tier 'rtx': simulated: must be true or false"),
    ("bad idle timeout", [LOCAL, _with("idle_timeout_s", 0)], "tier 'rtx': idle_timeout_s: must be a whole number"),
    ("non-mapping tier", [LOCAL, "rtx"], "tier #2: must be a mapping of fields, got 'rtx'"),
    ("empty tiers", {"tiers": []}, "catalog file {path!r}: has no tiers; declare at least one"),
    ("tiers not a list", {"tiers": "rtx"}, "catalog file {path!r}: must be a list of tiers"),
    ("empty file", None, "catalog file {path!r}: must be a list of tiers"),
    ("unknown top-level key", {"tiers": [LOCAL], "tier": []}, "catalog file {path!r}: 'tier' is not a catalog field"),
]


@pytest.mark.parametrize(("document", "expected"), [c[1:] for c in BAD_CATALOGS], ids=[c[0] for c in BAD_CATALOGS])
def test_bad_catalog_is_one_line_naming_tier_and_field(tmp_path, document, expected):
    if isinstance(document, list):
        document = {"tiers": document}
    path = write(tmp_path, yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(CatalogError) as info:
        read_catalog_file(path, KNOWN)
    message = str(info.value)
    assert message.startswith(expected.format(path=str(path))), message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("per_hour: .nan", "tier 'rtx': price.per_hour: must be a finite amount, got nan"),
        ("per_hour: .inf", "tier 'rtx': price.per_hour: must be a finite amount, got inf"),
        ("per_hour: -.inf", "tier 'rtx': price.per_hour: must be a finite amount, got -inf"),
        ("per_hour: 0.1234567", "tier 'rtx': price.per_hour: has more than 6 decimal places: Decimal('0.1234567')"),
        ("per_hour: -1", "tier 'rtx': price.per_hour: must not be negative, got -1"),
        ("per_hour: true", "tier 'rtx': price.per_hour: must be a decimal amount such as \"0.50\", got True"),
        (
            "per_hour: 0.5\n      date: 2026-11-01 10:00:00",
            ("tier 'rtx': price.date: must be a date such as 2026-11-01, got datetime.datetime(2026, 11, 1, 10, 0)"),
        ),
    ],
)
def test_yaml_scalars_in_prices(tmp_path, text, expected):
    document = f"""
tiers:
  - id: rtx
    label: RTX
    reliability: community
    price:
      currency: USD
      source: a list
      {text}
"""
    if "date:" not in text:
        document += "      date: 2026-11-01\n"
    with pytest.raises(CatalogError) as info:
        read_catalog_file(write(tmp_path, document), KNOWN)
    assert str(info.value) == expected


def test_invalid_yaml_file(tmp_path):
    path = write(tmp_path, "tiers:\n  - id: rtx\n    label: [unclosed\n")
    with pytest.raises(CatalogError) as info:
        read_catalog_file(path, KNOWN)
    message = str(info.value)
    assert message.startswith(f"catalog file {str(path)!r}: is not valid YAML (")
    assert "\n" not in message


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(CatalogError) as info:
        read_catalog_file(path, KNOWN)
    assert str(info.value) == f"catalog file {str(path)!r}: cannot be read (No such file or directory)"


def test_invalid_json_file(tmp_path):
    path = write(tmp_path, '{"tiers": [', "catalog.json")
    with pytest.raises(CatalogError) as info:
        read_catalog_file(path, KNOWN)
    message = str(info.value)
    assert message.startswith(f"catalog file {str(path)!r}: is not valid JSON (")
    assert "\n" not in message


def test_json_file_errors_name_tier_and_field(tmp_path):
    tier = {**RTX, "reliability": "bargain"}
    path = write(tmp_path, json.dumps({"tiers": [LOCAL, tier]}), "catalog.json")
    with pytest.raises(CatalogError, match=r"^tier 'rtx': reliability: must be one of .*got 'bargain'$"):
        read_catalog_file(path, KNOWN)


def test_inline_catalog_errors_name_the_setting():
    with pytest.raises(CatalogError) as info:
        parse_catalog([], KNOWN, "ComputePanel.tiers")
    assert str(info.value) == "ComputePanel.tiers: has no tiers; declare at least one"


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ({"hardware": {"gpus": 2}}, "hardware.gpus"),
        ({"hardware": {"gpu": {"model": "A100", "vram": 80}}}, "hardware.gpu.vram"),
        (
            {"price": {"per_hour": "1", "currency": "USD", "source": "s", "date": "2026-01-01", "unit": "h"}},
            "price.unit",
        ),
    ],
)
def test_unknown_nested_fields_are_named(section, path):
    tier = {
        "id": "t",
        "label": "T",
        "reliability": "datacenter",
        "price": {"per_hour": "1", "currency": "USD", "source": "s", "date": "2026-01-01"},
        **section,
    }
    with pytest.raises(CatalogError) as error:
        parse_catalog([tier])
    assert str(error.value).startswith(f"tier 't': {path}: is not a field of")
