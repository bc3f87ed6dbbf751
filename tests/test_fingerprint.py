"""Environment fingerprints: the parsers against fixtures, the probe, and the ledger's
records (the capture on real kernels: test_fingerprint_capture.py)."""

from __future__ import annotations

import hashlib
import json
import platform
import runpy
import time
from pathlib import Path

import pytest

from jupyterlab_compute_panel.ledger import LedgerError
from jupyterlab_compute_panel.metering.environment import parse
from jupyterlab_compute_panel.metering.environment.capture import COLLECT_EXPRESSION, expression_value, start_expression

FIXTURES = Path(__file__).parent / "fixtures" / "fingerprint"
PROBE = Path(parse.__file__).with_name("probe.py")
LOCAL = "compute-panel-local-cpu-python3"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def smi(stdout: str, rc: int = 0) -> dict:
    return {"rc": rc, "stdout": stdout if rc == 0 else "", "stderr": "" if rc == 0 else stdout}


# -- parsers ----------------------------------------------------------------------------


def test_nvidia_smi_query_h100():
    gpus = parse.parse_nvidia_smi_query(fixture("nvidia-smi-query-h100x8.csv"))
    assert len(gpus) == 8
    assert gpus[0] == {"model": "NVIDIA H100 80GB HBM3", "memory_mib": 81559, "driver": "550.54.15"}


def test_nvidia_smi_query_h200_and_rtx4090():
    h200 = parse.parse_nvidia_smi_query(fixture("nvidia-smi-query-h200x8.csv"))
    assert {g["model"] for g in h200} == {"NVIDIA H200"} and h200[7]["memory_mib"] == 143771
    [rtx] = parse.parse_nvidia_smi_query(fixture("nvidia-smi-query-rtx4090.csv"))
    assert rtx == {"model": "NVIDIA GeForce RTX 4090", "memory_mib": 24564, "driver": "550.107.02"}


def test_nvidia_smi_query_oddities():
    assert parse.parse_nvidia_smi_query("") == []
    [mig] = parse.parse_nvidia_smi_query("NVIDIA A100-SXM4-80GB, [N/A], 535.183.01\n")
    assert mig["memory_mib"] is None and mig["driver"] == "535.183.01"
    with pytest.raises(ValueError):
        parse.parse_nvidia_smi_query("No devices were found")


def test_nvidia_smi_header_and_version_output():
    assert parse.parse_nvidia_smi_header(fixture("nvidia-smi-h100.txt")) == {"driver": "550.54.15", "cuda": "12.4"}
    assert parse.parse_nvidia_smi_header(fixture("nvidia-smi-rtx4090.txt")) == {"driver": "550.107.02", "cuda": "12.4"}
    assert parse.parse_nvidia_smi_header(fixture("nvidia-smi-version-h200.txt")) == {
        "driver": "560.35.03",
        "cuda": "12.6",
    }
    assert parse.parse_nvidia_smi_header(fixture("nvidia-smi-no-driver.txt")) == {"driver": None, "cuda": None}


def test_neuron_ls_trn1():
    devices = parse.parse_neuron_ls_json(fixture("neuron-ls-trn1.32xlarge.json"))
    assert len(devices) == 16
    assert devices[0] == {"index": 0, "cores": 2, "memory_mib": 32768, "bdf": "10:1c.0"}
    assert parse.neuron_family("trn1.32xlarge") == "Trainium"
    assert parse.neuron_family("inf2.48xlarge\n") == "Inferentia2"
    assert parse.neuron_family("m5.large") is None
    # the same devices under an object, as newer neuron-ls versions may print them
    wrapped = json.dumps({"neuron_devices": json.loads(fixture("neuron-ls-trn1.32xlarge.json"))})
    assert parse.parse_neuron_ls_json(wrapped) == devices


def test_cpuinfo_and_lscpu_of_this_machine():
    cpu = parse.parse_cpuinfo(fixture("cpuinfo-this-machine.txt"))
    lscpu = parse.parse_lscpu(fixture("lscpu-this-machine.txt"))
    assert cpu["model"] and cpu["logical"] >= 1
    assert lscpu["model"] == cpu["model"]
    assert lscpu["logical"] == cpu["logical"]
    assert lscpu["physical"] == cpu["physical"]
    arm = "processor\t: 0\nBogoMIPS\t: 243.75\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n\nprocessor\t: 1\n"
    assert parse.parse_cpuinfo(arm) == {"model": None, "logical": 2, "physical": None}


def test_pip_list_of_this_machine_and_the_packages_hash():
    pairs = parse.parse_pip_list_json(fixture("pip-list-this-machine.json"))
    lines = parse.package_lines(pairs)
    names = {line.split("==")[0] for line in lines}
    assert {"jupyter-server", "ipykernel", "sqlalchemy", "jupyterlab-compute-panel"} <= names
    assert lines == sorted(lines)
    # the hash is over the sorted lines: order and name spelling do not change it
    digest = parse.packages_hash(lines)
    assert digest.startswith("sha256:") and len(digest) == len("sha256:") + 64
    respelled = [(name.upper().replace("-", "_"), version) for name, version in reversed(pairs)]
    assert parse.packages_hash(parse.package_lines(respelled)) == digest
    text = "".join(f"{line}\n" for line in lines)
    assert digest == "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    # a version change changes it, and the diff names only that package
    changed = [line if not line.startswith("sqlalchemy==") else "sqlalchemy==2.0.0" for line in lines]
    assert parse.packages_hash(changed) != digest
    diff = parse.diff_packages(lines, changed)
    assert diff["added"] == [] and diff["removed"] == [] and [d[0] for d in diff["changed"]] == ["sqlalchemy"]


def test_pip_freeze_and_first_distribution_wins():
    assert parse.parse_pip_freeze("numpy==2.1.0\n# comment\n-e git+x#egg=y\nfoo @ file:///tmp/foo\n") == [
        ("numpy", "2.1.0"),
        ("foo", "file:///tmp/foo"),
    ]
    assert parse.package_lines([("Torch", "2.5.1"), ("torch", "2.4.0")]) == ["torch==2.5.1"]


def test_framework_and_cuda_files():
    torch = "__version__ = '2.5.1+cu124'\ndebug = False\ncuda: Optional[str] = '12.4'\ngit_version = 'a8d6afb'\nhip = None\n"
    assert parse.parse_assignments(torch)["cuda"] == "12.4"
    tf = "build_info = {'cpu_compiler': '/usr/bin/clang-17', 'cuda_version': '12.3', 'cudnn_version': '8', 'is_cuda_build': True}"
    assert parse.parse_tf_build_info(tf) == {"cuda_version": "12.3", "cudnn_version": "8", "is_cuda_build": "True"}
    assert parse.parse_cuda_version_json('{"cuda": {"name": "CUDA SDK", "version": "12.4.1"}}') == "12.4.1"
    header = "#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 1\n#define CUDNN_PATCHLEVEL 0\n"
    assert parse.parse_cudnn_header(header) == "9.1.0"


def test_git_status_v2():
    text = "\0".join(
        [
            "# branch.oid 3f2c1e0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e",
            "# branch.head main",
            "1 .M N... 100644 100644 100644 aaa bbb lab/robust.ipynb",
            "2 R. N... 100644 100644 100644 aaa bbb R100 new name.py",
            "old name.py",
            "? scratch.py",
            "",
        ]
    )
    state = parse.parse_git_status_v2(text, "lab/robust.ipynb")
    assert state == {
        "commit": "3f2c1e0d9b8a7f6e5d4c3b2a1f0e9d8c7b6a5f4e",
        "branch": "main",
        "dirty": True,
        "changed_files": 2,
        "untracked_files": 1,
        "notebook": "modified",
    }
    clean = parse.parse_git_status_v2("# branch.oid (initial)\0# branch.head (detached)\0", "a.ipynb")
    assert clean["commit"] is None and clean["branch"] is None and clean["dirty"] is False
    assert clean["notebook"] == "unchanged"


def test_assemble_an_h100_node():
    raw = {
        "probe_version": 1,
        "python": {"version": "3.12.7"},
        "hostname": "gpu-node-07",
        "packages": [
            ["torch", "2.5.1+cu124"],
            ["nvidia-cudnn-cu12", "9.1.0.70"],
            ["nvidia-cuda-runtime-cu12", "12.4.127"],
            ["jax", "0.4.35"],
            ["jaxlib", "0.4.35"],
        ],
        "files": {
            "cpuinfo": fixture("cpuinfo-this-machine.txt"),
            "torch_version_py": "__version__ = '2.5.1+cu124'\ncuda = '12.4'\n",
        },
        "commands": {
            "nvidia-smi-query": smi(fixture("nvidia-smi-query-h100x8.csv")),
            "nvidia-smi-version": smi("", rc=2),
            "nvidia-smi": smi(fixture("nvidia-smi-h100.txt")),
        },
        "pending": [],
    }
    fingerprint, digest = parse.assemble(raw, {"tier": {"id": "h100"}})
    assert fingerprint["gpus"]["count"] == 8 and fingerprint["gpus"]["driver"] == "550.54.15"
    assert fingerprint["gpus"]["devices"][0] == {"model": "NVIDIA H100 80GB HBM3", "memory_mib": 81559}
    assert fingerprint["cuda"] == {"driver": "12.4", "runtime": "12.4", "toolkit": None, "cudnn": "9.1.0.70"}
    assert fingerprint["frameworks"]["torch"] == {"version": "2.5.1+cu124", "cuda": "12.4", "hip": None, "git": None}
    assert fingerprint["frameworks"]["jax"]["jaxlib"] == "0.4.35"
    assert "tensorflow" not in fingerprint["frameworks"]
    assert fingerprint["packages"]["hash"] == digest and fingerprint["packages"]["count"] == 5
    assert fingerprint["missing"] == {}


def test_assemble_trn1_and_a_cpu_machine_and_failures():
    trn1 = {
        "files": {"product_name": "trn1.32xlarge\n", "neuron_driver_version": "2.18.12.0"},
        "commands": {
            "nvidia-smi-query": {"absent": True, "error": "nvidia-smi is not installed"},
            "neuron-ls": smi(fixture("neuron-ls-trn1.32xlarge.json")),
        },
    }
    fingerprint, _ = parse.assemble(trn1, {})
    gpus = fingerprint["gpus"]
    assert (gpus["vendor"], gpus["count"], gpus["driver"]) == ("aws-neuron", 16, "2.18.12.0")
    assert gpus["devices"][0] == {"model": "Trainium", "memory_mib": 32768, "cores": 2}
    assert fingerprint["host"]["product_name"] == "trn1.32xlarge"

    real = json.loads(fixture("probe-this-machine.json"))
    fingerprint, digest = parse.assemble(real, {})
    assert fingerprint["gpus"] == {
        "vendor": None,
        "source": None,
        "count": 0,
        "driver": None,
        "cuda_driver": None,
        "devices": [],
    }
    assert fingerprint["missing"] == {}  # no GPU tool is a fact about the machine, not a missing part
    assert fingerprint["cpu"]["model"] and digest

    broken = {
        "commands": {"nvidia-smi-query": smi(fixture("nvidia-smi-no-driver.txt"), rc=9)},
        "errors": {"packages": "PermissionError: denied"},
        "pending": ["commands"],
    }
    fingerprint, digest = parse.assemble(broken, {"missing": {"git": "dubious ownership"}})
    assert digest is None
    assert fingerprint["missing"]["packages"] == "PermissionError: denied"
    assert fingerprint["missing"]["gpus"].startswith("nvidia-smi exited with status 9: NVIDIA-SMI has failed")
    assert "still running" in fingerprint["missing"]["commands"]
    assert fingerprint["missing"]["git"] == "dubious ownership"

    server_only, digest = parse.assemble(None, {"tier": {"id": "local-cpu"}, "missing": {"kernel": "no probe"}})
    assert digest is None and server_only["missing"] == {"kernel": "no probe"} and "packages" not in server_only


def test_probe_runs_and_its_answer_survives_the_kernels_repr():
    """The probe as the kernel runs it, in this process; its answer through repr and back."""
    namespace = runpy.run_path(str(PROBE))
    assert namespace["start"]() == "started"
    deadline = time.monotonic() + 30
    while not json.loads(namespace["collect"]())["done"]:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    answer = namespace["collect"]()
    reply = {
        "content": {"status": "ok", "user_expressions": {"fp": {"status": "ok", "data": {"text/plain": repr(answer)}}}}
    }
    result = json.loads(expression_value(reply))["result"]
    assert result["python"]["version"] == platform.python_version()
    assert result["pending"] == [] and "errors" not in result
    assert "__import__('sys')" in COLLECT_EXPRESSION and "_compute_panel_fingerprint" in start_expression()


# -- the ledger ---------------------------------------------------------------------------


def test_environments_in_the_ledger(any_db_url):
    from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file
    from jupyterlab_compute_panel.ledger import Ledger

    ledger = Ledger(any_db_url)
    try:
        ledger.migrate()
        catalog = read_catalog_file(DEMO_CATALOG)
        ledger.sync_tiers(catalog)
        run = ledger.open_run(
            kernel_id="k1", kernelspec=LOCAL, tier=catalog.get("local-cpu"), grant_id=None, user="alice", notebook=None
        )
        assert ledger.get_environment(run.id) is None
        saved = ledger.save_environment(
            run.id, fingerprint={"schema": 1, "missing": {"kernel": "busy"}}, packages_hash=None, status="partial"
        )
        assert saved.status == "partial"
        ledger.save_environment(
            run.id, fingerprint={"schema": 1, "é": "ü"}, packages_hash="sha256:ab", status="complete"
        )
        env = ledger.get_environment(run.id)
        assert (env.status, env.packages_hash, env.fingerprint) == ("complete", "sha256:ab", {"schema": 1, "é": "ü"})
        assert env.to_json()["captured_at"].endswith("Z")
        with pytest.raises(LedgerError, match="status must be one of"):
            ledger.save_environment(run.id, fingerprint={}, packages_hash=None, status="done")
        with pytest.raises(LedgerError):
            ledger.save_environment("no-such-run", fingerprint={}, packages_hash=None, status="failed")
        # The same kernel metered again in a new run: its fingerprint is copied, once.
        again = ledger.open_run(
            kernel_id="k1", kernelspec=LOCAL, tier=catalog.get("local-cpu"), grant_id=None, user="alice", notebook=None
        )
        copied = ledger.copy_environment(run.id, again.id)
        assert (copied.run_id, copied.fingerprint, copied.captured_at) == (again.id, env.fingerprint, env.captured_at)
        assert ledger.copy_environment(run.id, again.id) is None  # already there
        assert ledger.copy_environment("no-such-run", again.id) is None
    finally:
        ledger.dispose()
