"""Pure parsers of the tools' output that the kernel-side probe brings back.

Every function here takes text and returns plain data: no I/O, no subprocesses, so
each is tested against fixtures of the tools' output (tests/fixtures/fingerprint/):
pip, nvidia-smi, neuron-ls, /proc/cpuinfo and lscpu, framework build info, CUDA and
cuDNN versions, git status. ``parse.py`` assembles the fingerprint from them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

# -- packages -------------------------------------------------------------------


def normalize_name(name: str) -> str:
    """A distribution name as PEP 503 compares them: ``Jupyter_Server`` -> ``jupyter-server``."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def package_lines(pairs: Iterable[tuple[str, str] | list[str]]) -> list[str]:
    """Sorted, de-duplicated ``name==version`` lines with normalized names.

    When a name appears twice (two folders of sys.path both hold it), the first wins,
    as it does for ``import``: the probe lists distributions in sys.path order.
    """
    seen: dict[str, str] = {}
    for pair in pairs:
        name, version = pair[0], pair[1]
        if not name:
            continue
        key = normalize_name(str(name))
        if key not in seen:
            seen[key] = str(version or "").strip()
    return sorted(f"{name}=={version}" for name, version in seen.items())


def packages_hash(lines: Iterable[str]) -> str:
    """sha256 over the sorted ``name==version`` lines, one per line, each ending in a newline.

    Two environments with the same packages have the same hash; ``sha256:`` prefixed
    so that the algorithm travels with the value.
    """
    text = "".join(f"{line}\n" for line in sorted(lines))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def parse_pip_list_json(text: str) -> list[tuple[str, str]]:
    """``pip list --format=json``: ``[{"name": "...", "version": "..."}, ...]``."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError("pip list JSON is not a list")
    return [(str(item["name"]), str(item["version"])) for item in data if isinstance(item, dict) and "name" in item]


def parse_pip_freeze(text: str) -> list[tuple[str, str]]:
    """``pip freeze`` lines: ``name==version``; ``name @ url`` keeps the URL as its version."""
    pairs = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line.startswith("-"):
            continue
        if "==" in line:
            name, version = line.split("==", 1)
        elif " @ " in line:
            name, version = line.split(" @ ", 1)
        else:
            continue
        pairs.append((name.strip(), version.strip()))
    return pairs


def diff_packages(old: Iterable[str], new: Iterable[str]) -> dict[str, list[Any]]:
    """What differs between two package lists: added, removed, changed ``[name, old, new]``."""

    def split(lines: Iterable[str]) -> dict[str, str]:
        return dict(line.split("==", 1) for line in lines if "==" in line)

    a, b = split(old), split(new)
    return {
        "added": sorted(f"{n}=={b[n]}" for n in b.keys() - a.keys()),
        "removed": sorted(f"{n}=={a[n]}" for n in a.keys() - b.keys()),
        "changed": sorted([n, a[n], b[n]] for n in a.keys() & b.keys() if a[n] != b[n]),
    }


# -- NVIDIA ---------------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def parse_nvidia_smi_query(text: str) -> list[dict[str, Any]]:
    """``nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits``.

    One line per GPU: ``NVIDIA H100 80GB HBM3, 81559, 550.54.15``. Memory is MiB;
    ``[N/A]`` (as some MIG and vGPU set-ups report) becomes None. A GPU name may not
    contain a comma, so the last two fields are split from the right.
    """
    gpus = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        parts = [p.strip() for p in line.rsplit(",", 2)]
        if len(parts) != 3:
            raise ValueError(f"unexpected nvidia-smi line: {line!r}")
        name, memory, driver = parts
        mib = _number(memory)
        gpus.append(
            {
                "model": name,
                "memory_mib": int(mib) if mib is not None else None,
                "driver": driver if re.fullmatch(r"[\d.]+", driver) else None,
            }
        )
    return gpus


def parse_nvidia_smi_header(text: str) -> dict[str, str | None]:
    """Driver and CUDA version from ``nvidia-smi`` (its table header) or ``nvidia-smi --version``.

    The header line reads ``| NVIDIA-SMI 550.54.15   Driver Version: 550.54.15   CUDA Version: 12.4 |``;
    ``--version`` prints ``DRIVER version : 550.54.15`` and ``CUDA Version : 12.4``. The CUDA
    version is the newest CUDA the driver supports, not the toolkit a program was built with.
    """
    driver = re.search(r"driver\s+version\s*:\s*([\d.]+)", text, re.IGNORECASE)
    cuda = re.search(r"cuda\s+version\s*:\s*([\d.]+)", text, re.IGNORECASE)
    return {"driver": driver.group(1) if driver else None, "cuda": cuda.group(1) if cuda else None}


# -- AWS Neuron (Trainium, Inferentia) -------------------------------------------

NEURON_FAMILIES = {
    "trn1": "Trainium",
    "trn1n": "Trainium",
    "trn2": "Trainium2",
    "trn2n": "Trainium2",
    "trn2u": "Trainium2",
    "trn3": "Trainium3",
    "inf1": "Inferentia",
    "inf2": "Inferentia2",
}


def neuron_family(instance_type: str | None) -> str | None:
    """``trn1.32xlarge`` -> ``Trainium``; None when the instance type is not a Neuron one."""
    if not instance_type:
        return None
    return NEURON_FAMILIES.get(instance_type.strip().split(".", 1)[0].lower())


def parse_neuron_ls_json(text: str) -> list[dict[str, Any]]:
    """``neuron-ls --json-output``: a list of devices (or ``{"neuron_devices": [...]}``).

    Each device: ``neuron_device`` (index), ``bdf``, ``connected_to``, ``nc_count``
    (NeuronCores), ``memory_size`` (bytes), ``neuron_processes``. Returns
    ``[{"index", "cores", "memory_mib", "bdf"}]``.
    """
    data = json.loads(text)
    if isinstance(data, dict):
        data = data.get("neuron_devices", data.get("devices", []))
    if not isinstance(data, list):
        raise ValueError("neuron-ls JSON has no device list")
    devices = []
    for item in data:
        if not isinstance(item, dict):
            continue
        memory = item.get("memory_size")
        cores = item.get("nc_count", item.get("neuroncore_count"))
        devices.append(
            {
                "index": item.get("neuron_device"),
                "cores": int(cores) if isinstance(cores, (int, float)) else None,
                "memory_mib": int(memory) // (1024 * 1024) if isinstance(memory, (int, float)) else None,
                "bdf": item.get("bdf"),
            }
        )
    return devices


# -- CPU ------------------------------------------------------------------------


def parse_cpuinfo(text: str) -> dict[str, Any]:
    """/proc/cpuinfo: model name and logical processors.

    x86 has ``model name``; arm64 has none, but ``CPU implementer`` and ``CPU part``
    (lscpu names them; see parse_lscpu). Physical cores are counted from distinct
    (``physical id``, ``core id``) pairs where the kernel reports them.
    """
    model = None
    processors = 0
    cores: set[tuple[str, str]] = set()
    physical, core = None, None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "processor":
            processors += 1
            physical, core = None, None
        elif key in ("model name", "hardware", "cpu model") and model is None and value:
            model = value
        elif key == "physical id":
            physical = value
        elif key == "core id":
            core = value
        if physical is not None and core is not None:
            cores.add((physical, core))
    return {"model": model, "logical": processors or None, "physical": len(cores) or None}


def parse_lscpu(text: str) -> dict[str, Any]:
    """``lscpu`` (LC_ALL=C): ``Model name:``, ``CPU(s):``, ``Core(s) per socket:``, ``Socket(s):``."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() not in fields:
            fields[key.strip()] = value.strip()

    def integer(name: str) -> int | None:
        try:
            return int(fields[name])
        except (KeyError, ValueError):
            return None

    per_socket, sockets = integer("Core(s) per socket"), integer("Socket(s)")
    model = fields.get("Model name") or None
    vendor = fields.get("Vendor ID")
    if model and vendor and vendor not in model and model[:1].isdigit():
        model = f"{vendor} {model}"
    return {
        "model": model,
        "logical": integer("CPU(s)"),
        "physical": per_socket * sockets if per_socket and sockets else None,
    }


# -- frameworks and CUDA ----------------------------------------------------------


def parse_assignments(text: str) -> dict[str, str]:
    """Top-level ``name = 'value'`` lines of a generated module such as torch/version.py."""
    out = {}
    for match in re.finditer(r"^(\w+)\s*(?::\s*[\w\[\], |]+)?=\s*['\"]([^'\"]*)['\"]", text, re.MULTILINE):
        out.setdefault(match.group(1), match.group(2))
    return out


def parse_tf_build_info(text: str) -> dict[str, str]:
    """tensorflow/python/platform/build_info.py: ``'cuda_version': '12.3'``, ``'cudnn_version': '8'``."""
    out = {}
    for key in ("cuda_version", "cudnn_version", "is_cuda_build"):
        match = re.search(rf"['\"]{key}['\"]\s*:\s*['\"]?([\w.]+)", text)
        if match:
            out[key] = match.group(1)
    return out


def parse_cuda_version_json(text: str) -> str | None:
    """/usr/local/cuda/version.json (CUDA 11.1 and later): ``{"cuda": {"version": "12.4.1"}}``."""
    data = json.loads(text)
    cuda = data.get("cuda") if isinstance(data, dict) else None
    return str(cuda["version"]) if isinstance(cuda, dict) and "version" in cuda else None


def parse_cudnn_header(text: str) -> str | None:
    """cudnn_version.h (cuDNN 8+) or cudnn.h: ``#define CUDNN_MAJOR 9`` ... ``CUDNN_PATCHLEVEL``."""
    parts = []
    for name in ("CUDNN_MAJOR", "CUDNN_MINOR", "CUDNN_PATCHLEVEL"):
        match = re.search(rf"#define\s+{name}\s+(\d+)", text)
        if not match:
            break
        parts.append(match.group(1))
    return ".".join(parts) if parts else None


# -- git ----------------------------------------------------------------------------


def parse_git_status_v2(text: str, notebook: str | None = None) -> dict[str, Any]:
    """``git status --porcelain=v2 --branch -z`` (paths relative to the repository's top).

    ``dirty`` is true when a tracked file differs from the commit or an untracked,
    unignored file exists (an uncommitted helper module changes a run as much as an
    edit does). ``notebook`` is ``modified``, ``untracked`` or ``unchanged`` (committed
    as is, or ignored) for the notebook's path relative to the top.
    """
    commit = branch = None
    changed = untracked = 0
    status_of: dict[str, str] = {}
    records = text.split("\0")
    i = 0
    while i < len(records):
        record = records[i]
        i += 1
        if not record:
            continue
        if record.startswith("# branch.oid "):
            oid = record.split(" ", 2)[2].strip()
            commit = None if oid == "(initial)" else oid
        elif record.startswith("# branch.head "):
            head = record.split(" ", 2)[2].strip()
            branch = None if head == "(detached)" else head
        elif record.startswith("#"):
            continue
        elif record[0] in "12u":
            changed += 1
            fields = {"1": 8, "2": 9, "u": 10}[record[0]]
            path = record.split(" ", fields)[-1]
            status_of[path] = "modified"
            if record[0] == "2":
                i += 1  # a rename's original path is the next record
        elif record.startswith("? "):
            untracked += 1
            status_of[record[2:]] = "untracked"
    state = None
    if notebook is not None:
        state = status_of.get(notebook, "unchanged")
    return {
        "commit": commit,
        "branch": branch,
        "dirty": bool(changed or untracked),
        "changed_files": changed,
        "untracked_files": untracked,
        "notebook": state,
    }
