"""The fingerprint of a run, assembled from what the kernel-side probe brings back.

Pure functions of plain data: no I/O, no subprocesses. The probe (probe.py) only runs
the tools and reads files in the kernel; the server parses their output
(tool_output.py, re-exported here) and assembles the fingerprint here, so a parser can
be fixed without touching kernels, and one format is parsed in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .tool_output import (
    NEURON_FAMILIES,
    diff_packages,
    neuron_family,
    normalize_name,
    package_lines,
    packages_hash,
    parse_assignments,
    parse_cpuinfo,
    parse_cuda_version_json,
    parse_cudnn_header,
    parse_git_status_v2,
    parse_lscpu,
    parse_neuron_ls_json,
    parse_nvidia_smi_header,
    parse_nvidia_smi_query,
    parse_pip_freeze,
    parse_pip_list_json,
    parse_tf_build_info,
)

SCHEMA_VERSION = 1


# -- the fingerprint ----------------------------------------------------------------

FRAMEWORKS = {
    "torch": ("torch",),
    "jax": ("jax", "jaxlib"),
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-gpu", "tensorflow-macos", "tf-nightly"),
}
# pip wheels that carry CUDA and cuDNN for torch, jax and tensorflow
CUDA_RUNTIME_WHEELS = ("nvidia-cuda-runtime-cu13", "nvidia-cuda-runtime-cu12", "nvidia-cuda-runtime-cu11")
CUDNN_WHEELS = ("nvidia-cudnn-cu13", "nvidia-cudnn-cu12", "nvidia-cudnn-cu11")


def _first(versions: Mapping[str, str], names: Iterable[str]) -> tuple[str, str] | None:
    for name in names:
        if name in versions:
            return name, versions[name]
    return None


def _command(raw: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    """A command result of the probe: ``{"rc", "stdout", "stderr"}`` or ``{"error"}`` (not found)."""
    result = (raw.get("commands") or {}).get(name)
    return result if isinstance(result, dict) else None


def _ok(result: dict[str, Any] | None) -> str | None:
    if result and result.get("rc") == 0 and result.get("stdout"):
        return str(result["stdout"])
    return None


def _why(result: dict[str, Any] | None, tool: str) -> str:
    if result is None:
        return f"{tool} was not run"
    if result.get("error"):
        return str(result["error"])
    text = (result.get("stderr") or result.get("stdout") or "").strip().splitlines()
    return f"{tool} exited with status {result.get('rc')}" + (f": {text[0]}" if text else "")


def gpus_from(raw: Mapping[str, Any], missing: dict[str, str]) -> dict[str, Any]:
    """The accelerators: NVIDIA GPUs from nvidia-smi, else Neuron devices from neuron-ls."""
    files = raw.get("files") or {}
    smi = _command(raw, "nvidia-smi-query")
    text = _ok(smi)
    if text is not None:
        try:
            devices = parse_nvidia_smi_query(text)
        except ValueError as e:
            missing["gpus"] = f"nvidia-smi output not understood ({e})"
            devices = []
        header = parse_nvidia_smi_header(_ok(_command(raw, "nvidia-smi-version")) or "")
        if header["cuda"] is None:
            header = parse_nvidia_smi_header(_ok(_command(raw, "nvidia-smi")) or "")
        drivers = sorted({d["driver"] for d in devices if d["driver"]})
        return {
            "vendor": "nvidia",
            "source": "nvidia-smi",
            "count": len(devices),
            "driver": drivers[0] if len(drivers) == 1 else (", ".join(drivers) or header["driver"]),
            "cuda_driver": header["cuda"],
            "devices": [{"model": d["model"], "memory_mib": d["memory_mib"]} for d in devices],
        }
    neuron = _command(raw, "neuron-ls")
    text = _ok(neuron)
    if text is not None:
        try:
            devices = parse_neuron_ls_json(text)
        except ValueError as e:
            missing["gpus"] = f"neuron-ls output not understood ({e})"
            devices = []
        family = neuron_family(files.get("product_name"))
        driver = (files.get("neuron_driver_version") or "").strip() or None
        return {
            "vendor": "aws-neuron",
            "source": "neuron-ls",
            "count": len(devices),
            "driver": driver,
            "cuda_driver": None,
            "devices": [
                {"model": family or "AWS Neuron device", "memory_mib": d["memory_mib"], "cores": d["cores"]}
                for d in devices
            ],
        }
    # No accelerator tool answered: say why, unless the tools are simply absent (a CPU machine).
    for name, tool in (("nvidia-smi-query", "nvidia-smi"), ("neuron-ls", "neuron-ls")):
        result = _command(raw, name)
        if result is not None and not result.get("absent"):
            missing.setdefault("gpus", _why(result, tool))
    return {"vendor": None, "source": None, "count": 0, "driver": None, "cuda_driver": None, "devices": []}


def cpu_from(raw: Mapping[str, Any]) -> dict[str, Any]:
    files = raw.get("files") or {}
    info = parse_cpuinfo(files.get("cpuinfo") or "")
    if not info["model"] or not info["physical"]:
        lscpu = parse_lscpu(_ok(_command(raw, "lscpu")) or "")
        info = {k: info[k] or lscpu[k] for k in info}
    platform = raw.get("platform") or {}
    return {
        "model": info["model"] or platform.get("processor") or None,
        "logical_cores": info["logical"] or raw.get("cpu_count"),
        "physical_cores": info["physical"],
        "available_cores": raw.get("cpu_available"),
    }


def frameworks_from(versions: Mapping[str, str], raw: Mapping[str, Any]) -> dict[str, Any]:
    files = raw.get("files") or {}
    out: dict[str, Any] = {}
    for framework, names in FRAMEWORKS.items():
        found = _first(versions, names)
        if found is None:
            continue
        entry: dict[str, Any] = {"version": found[1]}
        if found[0] != framework:
            entry["distribution"] = found[0]
        if framework == "torch" and files.get("torch_version_py"):
            info = parse_assignments(files["torch_version_py"])
            entry.update(cuda=info.get("cuda") or None, hip=info.get("hip") or None, git=info.get("git_version"))
        if framework == "jax":
            entry["jaxlib"] = versions.get("jaxlib")
            plugins = sorted(n for n in versions if n.startswith("jax-cuda") and n.endswith("-plugin"))
            if plugins:
                entry["cuda_plugin"] = f"{plugins[0]}=={versions[plugins[0]]}"
        if framework == "tensorflow" and files.get("tf_build_info_py"):
            info = parse_tf_build_info(files["tf_build_info_py"])
            entry.update(cuda=info.get("cuda_version"), cudnn=info.get("cudnn_version"))
        out[framework] = entry
    return out


def cuda_from(
    versions: Mapping[str, str], raw: Mapping[str, Any], gpus: Mapping[str, Any], frameworks: Mapping[str, Any]
) -> dict[str, Any]:
    """CUDA and cuDNN as the kernel would use them, from the cheapest sources that say so."""
    files = raw.get("files") or {}
    toolkit = None
    if files.get("cuda_version_json"):
        try:
            toolkit = parse_cuda_version_json(files["cuda_version_json"])
        except ValueError:
            toolkit = None
    wheel = _first(versions, CUDA_RUNTIME_WHEELS)
    cudnn_wheel = _first(versions, CUDNN_WHEELS)
    cudnn_header = parse_cudnn_header(files.get("cudnn_header") or "") if files.get("cudnn_header") else None
    runtime = (frameworks.get("torch") or {}).get("cuda") or (frameworks.get("tensorflow") or {}).get("cuda")
    return {
        "driver": gpus.get("cuda_driver"),  # the newest CUDA the driver supports (nvidia-smi)
        "runtime": runtime or (wheel[1] if wheel else None),  # what the frameworks were built with / ship
        "toolkit": toolkit,  # the system toolkit (/usr/local/cuda), if any
        "cudnn": (cudnn_wheel[1] if cudnn_wheel else None)
        or cudnn_header
        or (frameworks.get("tensorflow") or {}).get("cudnn"),
    }


def assemble(raw: Mapping[str, Any] | None, server: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """The fingerprint (a JSON-able dict) and its packages hash, from the probe's raw result
    (None for a kernel that has no probe) and the server-side parts.

    Parts that could not be had are named in ``missing`` with the reason.
    """
    missing: dict[str, str] = dict(server.get("missing") or {})
    fingerprint: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "tier": server.get("tier"),
        "kernel": server.get("kernel"),
        "notebook": server.get("notebook"),
        "git": server.get("git"),
    }
    if raw is None:
        fingerprint["missing"] = missing
        return fingerprint, None
    for part, reason in (raw.get("errors") or {}).items():
        missing[str(part)] = str(reason)
    for part in raw.get("pending") or ():
        missing.setdefault(str(part), "still running in the kernel when the capture gave up")
    lines = package_lines(raw.get("packages") or [])
    versions = dict(line.split("==", 1) for line in lines)
    digest = packages_hash(lines) if lines else None
    python = dict(raw.get("python") or {})
    gpus = gpus_from(raw, missing)
    frameworks = frameworks_from(versions, raw)
    fingerprint.update(
        host={
            "name": raw.get("hostname"),
            **(raw.get("platform") or {}),
            "product_name": ((raw.get("files") or {}).get("product_name") or "").strip() or None,
        },
        python=python,
        packages={"count": len(lines), "hash": digest, "list": lines},
        frameworks=frameworks,
        cuda=cuda_from(versions, raw, gpus, frameworks),
        gpus=gpus,
        cpu=cpu_from(raw),
        probe={"version": raw.get("probe_version"), "seconds": raw.get("seconds")},
        missing=missing,
    )
    return fingerprint, digest


__all__ = [
    "NEURON_FAMILIES",
    "SCHEMA_VERSION",
    "assemble",
    "cpu_from",
    "cuda_from",
    "diff_packages",
    "frameworks_from",
    "gpus_from",
    "neuron_family",
    "normalize_name",
    "package_lines",
    "packages_hash",
    "parse_assignments",
    "parse_cpuinfo",
    "parse_cuda_version_json",
    "parse_cudnn_header",
    "parse_git_status_v2",
    "parse_lscpu",
    "parse_neuron_ls_json",
    "parse_nvidia_smi_header",
    "parse_nvidia_smi_query",
    "parse_pip_freeze",
    "parse_pip_list_json",
    "parse_tf_build_info",
]
