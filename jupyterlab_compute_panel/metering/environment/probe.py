"""The kernel-side probe: gathers the kernel's environment in a daemon thread.

This file is not imported by the server. Its source is sent to a Python kernel in
a silent execute request (see capture.py) and executed as the private module
``_compute_panel_fingerprint`` in the kernel's ``sys.modules``, so nothing lands in
the user's namespace or history. ``start()`` starts the thread and returns at
once; ``collect()`` returns what the thread has so far, as a JSON string.

It must run on any Python 3.8+ kernel with the standard library only, never
import heavy packages (torch, jax, tensorflow: their versions come from package
metadata and small generated files), print nothing, and leave the kernel as it
found it apart from this module. Parsing happens on the server (parse.py); this
only runs tools and reads files, with a time limit on every tool.
"""

import glob
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import threading
import time

PROBE_VERSION = 1
COMMAND_TIMEOUT = 8.0  # seconds for each tool
MAX_OUTPUT = 1 << 20  # bytes kept of a tool's output or a file
_state = {"thread": None, "result": {}, "pending": [], "done": False, "t0": None}
_lock = threading.Lock()


def _read(path, limit=MAX_OUTPUT):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read(limit)
    except OSError:
        return None


def _run(args, timeout=COMMAND_TIMEOUT):
    """A tool's result: {"rc", "stdout", "stderr"}, or {"absent": True} / {"error": ...}."""
    if shutil.which(args[0]) is None:
        return {"absent": True, "error": args[0] + " is not installed"}
    env = dict(os.environ, LC_ALL="C", LANG="C")
    try:
        proc = subprocess.run(
            args,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
            env=env,
            close_fds=True,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"{args[0]} did not answer within {timeout:g} s"}
    except OSError as e:
        return {"error": f"{args[0]} could not run ({e})"}
    return {
        "rc": proc.returncode,
        "stdout": proc.stdout[:MAX_OUTPUT].decode("utf-8", "replace"),
        "stderr": proc.stderr[:4096].decode("utf-8", "replace"),
    }


def _packages():
    """(name, version) of every installed distribution, in sys.path order.

    Only the header of each METADATA file is read: parsing whole files with the
    email parser costs half a second for a hundred packages, this a few ms.
    """
    from importlib import metadata

    out = []
    for dist in metadata.distributions():
        text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
        head = text.split("\n\n", 1)[0]
        name = re.search(r"^Name:[ \t]*(\S.*?)\s*$", head, re.MULTILINE)
        version = re.search(r"^Version:[ \t]*(\S.*?)\s*$", head, re.MULTILINE)
        if name:
            out.append([name.group(1), version.group(1) if version else ""])
    return out


def _package_dir(name):
    """The folder of a top-level package, found without importing it."""
    from importlib.util import find_spec

    try:
        spec = find_spec(name)
    except (ImportError, ValueError):
        return None
    locations = list(getattr(spec, "submodule_search_locations", None) or []) if spec else []
    return locations[0] if locations else None


def _python():
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "virtualenv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
        "conda_env": os.environ.get("CONDA_DEFAULT_ENV") or None,
    }


def _platform():
    uname = os.uname() if hasattr(os, "uname") else None
    return {
        "system": platform.system(),
        "release": uname.release if uname else platform.release(),
        "machine": uname.machine if uname else platform.machine(),
        "libc": "-".join(platform.libc_ver()).strip("-") or None,
    }


def _cpu_available():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None


def _files():
    files = {}
    files["cpuinfo"] = _read("/proc/cpuinfo")
    product = _read("/sys/devices/virtual/dmi/id/product_name", 256)
    files["product_name"] = product.strip() if product else None
    neuron = _read("/sys/module/neuron/version", 256)
    files["neuron_driver_version"] = neuron.strip() if neuron else None
    torch = _package_dir("torch")
    if torch:
        files["torch_version_py"] = _read(os.path.join(torch, "version.py"), 65536)
    tf = _package_dir("tensorflow")
    if tf:
        files["tf_build_info_py"] = _read(os.path.join(tf, "python", "platform", "build_info.py"), 65536)
    cuda_home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH") or "/usr/local/cuda"
    files["cuda_version_json"] = _read(os.path.join(cuda_home, "version.json"), 65536)
    headers = [os.path.join(cuda_home, "include", "cudnn_version.h"), "/usr/include/cudnn_version.h"]
    headers += sorted(glob.glob("/usr/include/*-linux-gnu/cudnn_version*.h"))
    for header in headers:
        text = _read(header, 65536)
        if text:
            files["cudnn_header"] = text
            break
    return files


def _commands():
    commands = {}
    commands["nvidia-smi-query"] = _run(
        ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader,nounits"]
    )
    if commands["nvidia-smi-query"].get("rc") == 0:
        commands["nvidia-smi-version"] = _run(["nvidia-smi", "--version"])
        if "CUDA" not in (commands["nvidia-smi-version"].get("stdout") or ""):
            commands["nvidia-smi"] = _run(["nvidia-smi"])  # older drivers: the table header
    else:
        commands["neuron-ls"] = _run(["neuron-ls", "--json-output"])
    cpuinfo = _read("/proc/cpuinfo", 65536) or ""
    if "model name" not in cpuinfo:
        commands["lscpu"] = _run(["lscpu"])
    return commands


PARTS = (
    ("python", _python),
    ("platform", _platform),
    ("hostname", socket.gethostname),
    ("cpu_count", os.cpu_count),
    ("cpu_available", _cpu_available),
    ("packages", _packages),
    ("files", _files),
    ("commands", _commands),
)


def _gather():
    for name, fn in PARTS:
        try:
            value = fn()
            with _lock:
                _state["result"][name] = value
        except Exception as e:  # noqa: BLE001 - a part that fails is reported, never raised into the kernel
            with _lock:
                _state["result"].setdefault("errors", {})[name] = f"{type(e).__name__}: {e}"
        finally:
            with _lock:
                _state["pending"].remove(name)
    with _lock:
        _state["done"] = True


def start():
    """Start the gathering thread (once); returns at once."""
    with _lock:
        if _state["thread"] is not None:
            return "running"
        _state["t0"] = time.time()
        _state["pending"] = [name for name, _ in PARTS]
        thread = threading.Thread(target=_gather, name="compute-panel-fingerprint", daemon=True)
        _state["thread"] = thread
    thread.start()
    return "started"


def collect():
    """What the thread has so far, as a JSON string: {"done", "result"}."""
    with _lock:
        result = dict(_state["result"])
        result["probe_version"] = PROBE_VERSION
        result["pending"] = list(_state["pending"])
        result["seconds"] = round(time.time() - _state["t0"], 3) if _state["t0"] else None
        done = _state["done"]
    return json.dumps({"done": done, "result": result})
