"""Environment fingerprints: the parsers against fixtures, and capture on real kernels.

The capture tests run a real in-process Jupyter server with real ipykernel kernels:
no mocks. What they prove: the fingerprint appears for a run, describes the kernel's
Python and packages, carries the notebook's hash and git state, and the capture is
silent (nothing in the kernel's history, output or user namespace; the user's first
cell is execution 1).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import platform
import runpy
import subprocess
import time
from pathlib import Path

import nbformat
import pytest
from conftest import wait_for

from jupyterlab_compute_panel.ledger import LedgerError
from jupyterlab_compute_panel.metering.environment import parse
from jupyterlab_compute_panel.metering.environment.capture import COLLECT_EXPRESSION, expression_value, start_expression

FIXTURES = Path(__file__).parent / "fixtures" / "fingerprint"
PROBE = Path(parse.__file__).with_name("probe.py")
LOCAL = "compute-panel-local-cpu-python3"
RTX = "compute-panel-rtx4090-python3"


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


# -- capture on real kernels -------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


async def start_session(jp_fetch, path: str, kernel: str = LOCAL) -> dict:
    response = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps({"path": path, "type": "notebook", "name": Path(path).name, "kernel": {"name": kernel}}),
    )
    return json.loads(response.body)


async def environment_of(api, run_id: str, status: str = "complete", timeout: float = 60) -> dict:
    async def captured():
        code, body = await api("GET", f"compute-panel/runs/{run_id}/environment")
        return body if code == 200 and body["status"] == status else None

    return await wait_for(captured, timeout=timeout)


async def run_of(api, kernel_id: str) -> dict:
    code, run = await api("GET", f"compute-panel/kernels/{kernel_id}/run")
    assert code == 200, run
    return run


def kernel_client(jp_serverapp, kernel_id: str):
    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    return client


async def reply_to(client, msg_id: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        msg = await client.get_shell_msg(timeout=max(deadline - time.monotonic(), 0.1))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg["content"]


def this_pythons_packages_hash() -> str:
    namespace = runpy.run_path(str(PROBE))
    return parse.packages_hash(parse.package_lines(namespace["_packages"]()))


async def test_capture_on_a_real_kernel_in_a_git_repository(jp_fetch, jp_root_dir, jp_serverapp, api, service):
    repo = jp_root_dir / "project"
    (repo / "lab").mkdir(parents=True)
    notebook = repo / "lab" / "robust.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    nbformat.write(nb, notebook)
    (repo / "helper.py").write_text("A = 1\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    (repo / "helper.py").write_text("A = 2\n")  # an uncommitted change: dirty
    commit = git(repo, "rev-parse", "HEAD")

    session = await start_session(jp_fetch, "project/lab/robust.ipynb")
    kernel_id = session["kernel"]["id"]
    client = kernel_client(jp_serverapp, kernel_id)
    try:
        # The user's first cell, sent while the capture is under way.
        first = await reply_to(client, client.execute("y = 6 * 7"))
        assert first["status"] == "ok" and first["execution_count"] == 1

        run = await run_of(api, kernel_id)
        env = await environment_of(api, run["id"])
        fp = env["fingerprint"]
        assert env["run_id"] == run["id"] and env["error"] is None
        assert fp["missing"] == {}
        assert fp["tier"]["id"] == "local-cpu" and fp["tier"]["label"] == run["tier_label"]
        assert fp["kernel"]["language"] == "python" and fp["kernel"]["kernelspec"] == LOCAL
        assert fp["python"]["version"] == platform.python_version()
        assert env["packages_hash"] == fp["packages"]["hash"] == this_pythons_packages_hash()
        assert any(line.startswith("ipykernel==") for line in fp["packages"]["list"])
        assert fp["cpu"]["logical_cores"] >= 1 and fp["cpu"]["model"]
        assert fp["host"]["name"] == platform.node()
        assert fp["notebook"] == {
            "path": "project/lab/robust.ipynb",
            "sha256": hashlib.sha256(notebook.read_bytes()).hexdigest(),
        }
        assert fp["git"]["commit"] == commit and fp["git"]["branch"] == "main"
        assert fp["git"]["dirty"] is True and fp["git"]["notebook"] == "unchanged"

        # Silent: the history holds the user's cell only, the namespace the user's names only.
        msg_id = client.history(hist_access_type="tail", n=100, raw=True, output=False)
        history = (await reply_to(client, msg_id))["history"]
        assert [entry[2] for entry in history] == ["y = 6 * 7"]
        names = (
            "sorted(k for k in globals() if not k.startswith('_') "
            "and k not in ('In', 'Out', 'get_ipython', 'exit', 'quit', 'open'))"
        )
        second = await reply_to(client, client.execute("z = y", user_expressions={"names": names}))
        assert second["execution_count"] == 2
        assert second["user_expressions"]["names"]["data"]["text/plain"] == "['y', 'z']"
    finally:
        client.stop_channels()
        await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_a_capture_prints_nothing(jp_fetch, jp_root_dir, jp_serverapp, api, service):
    """Every message the capture causes on IOPub is a status message: no output, no input echo."""
    nbformat.write(nbformat.v4.new_notebook(), jp_root_dir / "quiet.ipynb")
    session = await start_session(jp_fetch, "quiet.ipynb")
    kernel_id = session["kernel"]["id"]
    run = await run_of(api, kernel_id)
    await environment_of(api, run["id"])
    client = kernel_client(jp_serverapp, kernel_id)
    try:
        await reply_to(client, client.kernel_info())  # subscribed and ready
        while True:  # drain what the connection brought
            try:
                await client.get_iopub_msg(timeout=0.5)
            except Exception:
                break
        kernel = jp_serverapp.kernel_manager.get_kernel(kernel_id)
        service.environment.schedule(kernel.provisioner, await service.db(service.ledger.get_run, run["id"]))
        await service.environment.wait(run["id"])
        kinds = []
        while True:
            try:
                kinds.append((await client.get_iopub_msg(timeout=0.5))["msg_type"])
            except Exception:
                break
        assert kinds and set(kinds) == {"status"}, kinds
        assert (await api("GET", f"compute-panel/runs/{run['id']}/environment"))[1]["status"] == "complete"
    finally:
        client.stop_channels()
        await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_a_notebook_outside_git_and_not_saved(jp_fetch, jp_root_dir, api, service):
    (jp_root_dir / "unsaved").mkdir()
    session = await start_session(jp_fetch, "unsaved/new.ipynb", LOCAL)
    run = await run_of(api, session["kernel"]["id"])
    env = await environment_of(api, run["id"], status="partial")
    fp = env["fingerprint"]
    assert fp["notebook"] == {"path": "unsaved/new.ipynb", "sha256": None}
    assert fp["missing"] == {"notebook": "the notebook is not saved yet"}
    assert fp["git"] is None and fp["python"]["version"] == platform.python_version()
    await jp_fetch("api", "sessions", session["id"], method="DELETE")


async def test_a_paid_run_without_notebook_has_tier_and_no_notebook(jp_fetch, api, grants, service):
    service.default_grant = grants[0]
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": RTX}))
    kernel_id = json.loads(response.body)["id"]
    run = await run_of(api, kernel_id)
    env = await environment_of(api, run["id"])
    fp = env["fingerprint"]
    assert fp["tier"]["id"] == "rtx4090" and fp["tier"]["simulated"] is True
    assert fp["tier"]["hardware"]["gpu"]["model"] == "NVIDIA GeForce RTX 4090"  # what the catalog claims
    assert fp["gpus"]["count"] == 0  # what the kernel found: a simulated tier has no GPU here
    assert fp["notebook"] is None and fp["git"] is None
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def test_a_run_reopened_for_a_live_kernel_keeps_its_environment(jp_fetch, api, grants, service):
    """When another process closes a live kernel's run (it judged its heartbeats stale), the
    meter opens a new run for the rest of the kernel's life: the same kernel, so the same
    environment, and the run history shows it for the new run too."""
    service.default_grant = grants[0]
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": RTX}))
    kernel_id = json.loads(response.body)["id"]
    first = await run_of(api, kernel_id)
    env = await environment_of(api, first["id"])
    service.ledger.close_run(first["id"], "stale")  # as a reconciling server would

    async def reopened():
        run = await run_of(api, kernel_id)
        return run if run["id"] != first["id"] and run["status"] == "open" else None

    second = await wait_for(reopened, timeout=15)
    code, copied = await api("GET", f"compute-panel/runs/{second['id']}/environment")
    assert code == 200, copied
    assert copied["fingerprint"] == env["fingerprint"] and copied["packages_hash"] == env["packages_hash"]
    assert copied["run_id"] == second["id"] and copied["status"] == "complete"
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")


@pytest.fixture
def short_timeout(jp_server_config):
    jp_server_config["ComputePanel"]["environment_timeout"] = 1.0
    return jp_server_config


@pytest.mark.slow
async def test_a_busy_kernel_gets_a_partial_record_then_the_whole_one(
    short_timeout, jp_fetch, jp_serverapp, api, service
):
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": LOCAL}))
    kernel_id = json.loads(response.body)["id"]
    client = kernel_client(jp_serverapp, kernel_id)
    try:
        busy = client.execute("import time; time.sleep(4)")
        run = await run_of(api, kernel_id)
        partial = await environment_of(api, run["id"], status="partial", timeout=30)
        assert "did not answer within 1 s" in partial["fingerprint"]["missing"]["kernel"]
        assert partial["fingerprint"]["tier"]["id"] == "local-cpu"
        complete = await environment_of(api, run["id"], status="complete", timeout=60)
        assert complete["fingerprint"]["python"]["version"] == platform.python_version()
        assert (await reply_to(client, busy))["execution_count"] == 1
    finally:
        client.stop_channels()
        await jp_fetch("api", "kernels", kernel_id, method="DELETE")


async def test_a_kernel_stopped_before_capture_is_recorded_failed(jp_fetch, api, service):
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": LOCAL}))
    kernel_id = json.loads(response.body)["id"]
    run = await run_of(api, kernel_id)
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    await service.environment.wait(run["id"])
    code, env = await api("GET", f"compute-panel/runs/{run['id']}/environment")
    assert code == 200
    # The race is real: a fast kernel may have been captured before it stopped.
    if env["status"] == "failed":
        assert env["error"] == "the kernel stopped before its environment was captured"
        assert env["fingerprint"]["tier"]["id"] == "local-cpu"
    else:
        assert env["status"] == "complete"


async def test_environment_api_visibility_and_messages(jp_fetch, api, service, grants):
    from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file

    tier = read_catalog_file(DEMO_CATALOG).get("local-cpu")
    bobs = service.ledger.open_run(
        kernel_id="kb", kernelspec=LOCAL, tier=tier, grant_id=None, user="bob", notebook=None
    )
    service.ledger.save_environment(bobs.id, fingerprint={"schema": 1}, packages_hash=None, status="complete")
    code, body = await api("GET", f"compute-panel/runs/{bobs.id}/environment")
    assert code == 404 and body == {"message": f"No run {bobs.id!r}", "field": "run_id"}

    mine = service.ledger.open_run(
        kernel_id="ka", kernelspec=LOCAL, tier=tier, grant_id=None, user="alice", notebook=None
    )
    code, body = await api("GET", f"compute-panel/runs/{mine.id}/environment")
    assert code == 404 and "has no environment fingerprint yet: none was captured" in body["message"]
    code, body = await api("GET", f"compute-panel/runs/{mine.id}/environment", params={"x": "1"})
    assert code == 400

    service.ledger.save_environment(mine.id, fingerprint={"schema": 1}, packages_hash="sha256:00", status="complete")
    code, body = await api("GET", f"compute-panel/runs/{mine.id}/environment")
    assert code == 200 and body["packages_hash"] == "sha256:00" and body["fingerprint"] == {"schema": 1}


@pytest.fixture
def capture_off(jp_server_config):
    jp_server_config["ComputePanel"]["capture_environment"] = False
    return jp_server_config


async def test_capture_can_be_turned_off(capture_off, jp_fetch, api, service):
    assert service.environment is None
    session = await start_session(jp_fetch, "off.ipynb")
    run = await run_of(api, session["kernel"]["id"])
    await asyncio.sleep(1)
    code, body = await api("GET", f"compute-panel/runs/{run['id']}/environment")
    assert code == 404 and "environment capture is off on this server" in body["message"]
    await jp_fetch("api", "sessions", session["id"], method="DELETE")
