"""Tier kernelspecs, derived from the catalog on every start so they cannot drift.

For each tier and each base kernel (``python3`` at least) a kernelspec
``compute-panel-<tier>-<base>`` is written whose ``metadata.kernel_provisioner``
names ``compute-panel-provisioner`` with the tier id in its config, and whose
``metadata.compute_panel`` carries what a browser needs to show the tier. Any
Jupyter client (JupyterLab, nbclient, papermill, ``POST /api/kernels``) that
starts one is metered alike. Generated kernelspecs carry a marker; stale ones
(a tier removed from the catalog) are removed, hand-made ones never touched.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

from ..domain.catalog import Catalog

PROVISIONER = "compute-panel-provisioner"
PREFIX = "compute-panel-"


class KernelspecError(ValueError):
    """A kernelspec folder in the way; the message is one readable line."""


def kernelspec_name(tier_id: str, base: str) -> str:
    return f"{PREFIX}{tier_id}-{base}".lower()


def derive(catalog: Catalog, base_specs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """kernel.json contents for every tier x base kernel, keyed by kernelspec name."""
    specs: dict[str, dict[str, Any]] = {}
    for tier in catalog:
        for base, spec in base_specs.items():
            metadata = {k: v for k, v in (spec.metadata or {}).items() if k != "kernel_provisioner"}
            metadata["kernel_provisioner"] = {
                "provisioner_name": PROVISIONER,
                "config": {"tier": tier.id, "base_kernel": base},
            }
            metadata["compute_panel"] = {**tier.summary_json(), "base_kernel": base, "generated": True}
            # Short: it is shown in the notebook toolbar. The base kernel's name is added
            # only when there are several, to tell them apart.
            display = f"{tier.label} (simulated)" if tier.simulated else tier.label
            if len(base_specs) > 1:
                display = f"{display} · {spec.display_name}"
            specs[kernelspec_name(tier.id, base)] = {
                "argv": list(spec.argv),
                "display_name": display,
                "language": spec.language,
                "interrupt_mode": spec.interrupt_mode,
                "env": dict(spec.env or {}),
                "metadata": metadata,
            }
    return specs


def base_kernelspecs(manager: KernelSpecManager, names: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The base kernelspecs that exist, and the names that do not."""
    found, missing = {}, []
    for name in names:
        try:
            found[name] = manager.get_kernel_spec(name)
        except NoSuchKernel:
            missing.append(name)
    return found, missing


def _is_generated(kernel_json: Path) -> bool:
    try:
        data = json.loads(kernel_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return bool(data.get("metadata", {}).get("compute_panel", {}).get("generated"))


def sync(specs: dict[str, dict[str, Any]], base_specs: dict[str, Any], target: Path) -> list[str]:
    """Write ``specs`` under ``target`` and remove stale generated ones; returns what changed."""
    target.mkdir(parents=True, exist_ok=True)
    changed = []
    for name, content in specs.items():
        folder = target / name
        text = json.dumps(content, indent=1, sort_keys=True) + "\n"
        kernel_json = folder / "kernel.json"
        if kernel_json.exists() and kernel_json.read_text(encoding="utf-8") == text:
            continue
        if folder.exists() and not _is_generated(kernel_json):
            raise KernelspecError(
                f"kernelspec_dir: {str(folder)!r} was not written by the compute panel; "
                "rename or remove it so that the tier's kernelspec can be written there"
            )
        folder.mkdir(exist_ok=True)
        base = base_specs[content["metadata"]["compute_panel"]["base_kernel"]]
        for logo in Path(base.resource_dir).glob("logo-*"):
            shutil.copyfile(logo, folder / logo.name)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".kernel.json.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, kernel_json)
        changed.append(name)
    for folder in target.glob(f"{PREFIX}*"):
        if folder.name not in specs and _is_generated(folder / "kernel.json"):
            shutil.rmtree(folder, ignore_errors=True)
            changed.append(f"-{folder.name}")
    return changed
