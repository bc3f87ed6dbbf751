"""Tier kernelspecs: derived from the catalog at start-up, listed by Jupyter, kept in sync."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, parse_catalog, read_catalog_file
from jupyterlab_compute_panel.metering import kernelspecs

NAMES = [f"compute-panel-{t}-python3" for t in ("local-cpu", "rtx4090", "h200")]


def read_spec(folder: Path) -> dict:
    return json.loads((folder / "kernel.json").read_text(encoding="utf-8"))


async def test_server_writes_tier_kernelspecs(service, jp_data_dir):
    kernels = Path(jp_data_dir) / "kernels"
    assert sorted(p.name for p in kernels.glob("compute-panel-*")) == sorted(NAMES)

    rtx = read_spec(kernels / "compute-panel-rtx4090-python3")
    assert rtx["metadata"]["kernel_provisioner"] == {
        "provisioner_name": "compute-panel-provisioner",
        "config": {"tier": "rtx4090", "base_kernel": "python3"},
    }
    panel = rtx["metadata"]["compute_panel"]
    assert panel["tier_id"] == "rtx4090"
    assert panel["label"] == "RTX 4090 prototyping"
    assert panel["price"]["per_hour"] == "0.50" and panel["price"]["currency"] == "USD"
    assert panel["price"]["date"] == "2026-11-01" and panel["price"]["source"]
    assert panel["simulated"] is True
    assert panel["reliability"] == "community"
    assert panel["base_kernel"] == "python3"
    assert panel["generated"] is True
    # The name users pick from says which tier, and that it is simulated.
    assert "RTX 4090 prototyping" in rtx["display_name"]
    assert "(simulated)" in rtx["display_name"]
    assert rtx["language"] == "python"
    # The kernel itself is the base kernel's command.
    base = KernelSpecManager().get_kernel_spec("python3")
    assert rtx["argv"] == list(base.argv)
    assert {p.name for p in (kernels / "compute-panel-rtx4090-python3").glob("logo-*")} == {
        p.name for p in Path(base.resource_dir).glob("logo-*")
    }

    local = read_spec(kernels / "compute-panel-local-cpu-python3")
    assert local["metadata"]["compute_panel"]["simulated"] is False
    assert local["metadata"]["compute_panel"]["price"]["per_hour"] == "0.00"
    assert "(simulated)" not in local["display_name"]
    h200 = read_spec(kernels / "compute-panel-h200-python3")
    assert h200["metadata"]["compute_panel"]["price"]["per_hour"] == "3.50"
    assert h200["metadata"]["kernel_provisioner"]["config"] == {"tier": "h200", "base_kernel": "python3"}


async def test_server_lists_tier_kernelspecs(jp_fetch, service):
    response = await jp_fetch("api", "kernelspecs")
    specs = json.loads(response.body)["kernelspecs"]
    for name in NAMES:
        assert name in specs, sorted(specs)
    spec = specs["compute-panel-h200-python3"]["spec"]
    assert spec["metadata"]["kernel_provisioner"]["provisioner_name"] == "compute-panel-provisioner"
    assert spec["metadata"]["compute_panel"]["label"] == "H200 training"
    assert spec["metadata"]["compute_panel"]["simulated"] is True
    assert "python3" in specs  # the base kernel is still offered


@pytest.fixture
def base():
    found, missing = kernelspecs.base_kernelspecs(KernelSpecManager(), ["python3", "no-such-kernel"])
    assert missing == ["no-such-kernel"]
    return found


@pytest.fixture
def demo_specs(base):
    return kernelspecs.derive(read_catalog_file(DEMO_CATALOG), base)


def test_derive_names_and_content(demo_specs):
    assert sorted(demo_specs) == sorted(NAMES)
    assert kernelspecs.kernelspec_name("RTX4090", "Python3") == "compute-panel-rtx4090-python3"
    for name, spec in demo_specs.items():
        assert spec["metadata"]["kernel_provisioner"]["provisioner_name"] == kernelspecs.PROVISIONER
        tier = spec["metadata"]["kernel_provisioner"]["config"]["tier"]
        assert name == f"compute-panel-{tier}-python3"


def test_sync_removes_stale_and_keeps_hand_made(tmp_path, base, demo_specs):
    target = tmp_path / "kernels"
    stale = target / "compute-panel-a100-python3"
    stale.mkdir(parents=True)
    (stale / "kernel.json").write_text(
        json.dumps({"argv": ["python"], "display_name": "old", "metadata": {"compute_panel": {"generated": True}}})
    )
    mine = target / "compute-panel-mine"
    mine.mkdir()
    mine_json = json.dumps({"argv": ["python"], "display_name": "Mine", "language": "python"})
    (mine / "kernel.json").write_text(mine_json)
    other = target / "python-other"
    other.mkdir()
    (other / "kernel.json").write_text(mine_json)

    changed = kernelspecs.sync(demo_specs, base, target)
    assert sorted(changed) == sorted([*NAMES, "-compute-panel-a100-python3"])
    assert not stale.exists()
    assert (mine / "kernel.json").read_text() == mine_json  # hand-made: untouched
    assert (other / "kernel.json").read_text() == mine_json
    assert sorted(p.name for p in target.iterdir()) == sorted([*NAMES, "compute-panel-mine", "python-other"])
    for name in NAMES:
        assert read_spec(target / name) == demo_specs[name]
        assert not list((target / name).glob(".kernel.json.*"))  # no temporary file left behind


def test_resync_with_unchanged_content_rewrites_nothing(tmp_path, base, demo_specs):
    target = tmp_path / "kernels"
    assert sorted(kernelspecs.sync(demo_specs, base, target)) == sorted(NAMES)
    before = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in target.rglob("*") if p.is_file()}

    assert kernelspecs.sync(demo_specs, base, target) == []
    after = {p: (p.stat().st_mtime_ns, p.stat().st_ino) for p in target.rglob("*") if p.is_file()}
    assert after == before

    # A hand edit of a generated spec is put right on the next sync, and only that one.
    edited = target / "compute-panel-h200-python3" / "kernel.json"
    edited.write_text(edited.read_text().replace("H200 training", "H200 (edited)"))
    assert kernelspecs.sync(demo_specs, base, target) == ["compute-panel-h200-python3"]
    assert read_spec(target / "compute-panel-h200-python3") == demo_specs["compute-panel-h200-python3"]


def test_sync_follows_the_catalog(tmp_path, base, demo_specs):
    target = tmp_path / "kernels"
    kernelspecs.sync(demo_specs, base, target)
    smaller = parse_catalog(
        [
            {
                "id": "rtx4090",
                "label": "RTX 4090 prototyping",
                "price": {"per_hour": "0.45", "currency": "USD", "source": "a list", "date": "2026-12-01"},
                "reliability": "community",
                "simulated": True,
            }
        ]
    )
    changed = kernelspecs.sync(kernelspecs.derive(smaller, base), base, target)
    assert sorted(changed) == sorted(
        ["compute-panel-rtx4090-python3", "-compute-panel-local-cpu-python3", "-compute-panel-h200-python3"]
    )
    assert sorted(p.name for p in target.iterdir()) == ["compute-panel-rtx4090-python3"]
    price = read_spec(target / "compute-panel-rtx4090-python3")["metadata"]["compute_panel"]["price"]
    assert price["per_hour"] == "0.45"


def test_unreadable_kernel_json_is_not_treated_as_generated(tmp_path, base, demo_specs):
    target = tmp_path / "kernels"
    broken = target / "compute-panel-broken"
    broken.mkdir(parents=True)
    (broken / "kernel.json").write_text("{not json")
    kernelspecs.sync(demo_specs, base, target)
    assert (broken / "kernel.json").read_text() == "{not json"


def test_the_server_names_a_front_end_of_another_version(tmp_path, monkeypatch):
    from jupyterlab_compute_panel import __version__
    from jupyterlab_compute_panel.hosts.app import frontend_mismatch

    ext = tmp_path / "labextensions" / "jupyterlab-compute-panel"
    ext.mkdir(parents=True)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    (ext / "package.json").write_text(json.dumps({"name": "jupyterlab-compute-panel", "version": __version__}))
    assert frontend_mismatch() is None
    (ext / "package.json").write_text(json.dumps({"name": "jupyterlab-compute-panel", "version": "0.0.1"}))
    assert frontend_mismatch() == (
        f"the front end in {ext} is version 0.0.1 but the server extension is {__version__}: "
        "reinstall jupyterlab_compute_panel so that both match"
    )
