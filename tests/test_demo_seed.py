"""``make start`` leaves no trace: the demo's grants are added only where missing, a rerun undoes
no edit and demotes no PI, and the notebooks it serves are untracked copies.

The test runs the seeding lines of the Makefile's ``start`` recipe themselves (everything before
``jupyter lab``) with bash, as make does, in a copy of the demo's files on a ledger of its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GRANTS = ("nsf-cns-2401234", "erc-stg-101076543")


def start_recipe() -> list[str]:
    """The ``start`` recipe's command lines up to the server's start, continuations joined."""
    lines = (ROOT / "Makefile").read_text().splitlines()
    begin = lines.index("start: setup") + 1
    recipe: list[str] = []
    for line in lines[begin:]:
        if not line.startswith("\t"):
            break
        line = line[1:]
        if recipe and recipe[-1].endswith("\\"):
            recipe[-1] = recipe[-1][:-1] + line
        elif not line.lstrip().startswith("@#"):
            recipe.append(line)
    return [line for line in recipe if "jupyter lab" not in line]


@pytest.fixture
def demo(tmp_path):
    """Run the seeding as ``make start`` does, in a copy of demo/ and examples/; returns (run, cli)."""
    work = tmp_path / "work"
    shutil.copytree(ROOT / "demo", work / "demo", ignore=shutil.ignore_patterns("notebooks"))
    shutil.copytree(ROOT / "examples", work / "examples")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_DATA_DIR": str(tmp_path / "data"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERHUB_USER": "demo-student",
    }
    bin_dir = Path(sys.executable).parent
    script = "\n".join(["set -eu -o pipefail", *start_recipe()])
    # make's $(BIN) and $$ as the shell sees them.
    script = script.replace("$(BIN)", str(bin_dir)).replace("$$", "$")

    def run() -> str:
        done = subprocess.run(
            ["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def cli(*argv: str) -> str:
        done = subprocess.run(
            [str(bin_dir / "jupyter-compute-panel"), *argv], env=env, capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    run.work = work
    return run, cli


def shown(cli, grant: str) -> dict:
    return json.loads(cli("grants", "show", grant, "--json"))


def roles_of(grant: dict) -> dict[str, str]:
    return {m["user"]: m["role"] for m in grant["members"]}


def test_the_recipe_seeds_only_what_is_missing():
    seeding = [line for line in start_recipe() if "compute-panel grants" in line]
    assert any("grants import --only-missing" in line for line in seeding), seeding
    assert any("grants add-member --keep-role" in line for line in seeding), seeding
    assert not any(re.search(r"grants (add|set-budget) ", line) for line in seeding), seeding


@pytest.mark.slow
def test_a_rerun_of_make_start_keeps_every_edit(demo):
    run, cli = demo
    out = run()
    assert "Added 2 grant(s)" in out
    for grant in GRANTS:
        assert roles_of(shown(cli, grant))["demo-student"] == "member"

    # The demo user edits: a budget, a title, and becomes the PI of the first grant.
    cli("grants", "set-budget", GRANTS[0], "2500.00")
    first = shown(cli, GRANTS[0])
    cli(
        "grants",
        "add",
        "--id",
        GRANTS[0],
        "--award-number",
        first["award_number"],
        "--title",
        "A title the PI chose",
        "--funder",
        first["funder"],
        "--pi",
        "demo-student",
        "--budget",
        first["budget"],
        "--currency",
        first["currency"],
        "--start-date",
        first["start_date"],
        "--end-date",
        first["end_date"],
    )
    cli("grants", "add-member", GRANTS[1], "demo-student", "viewer")
    notebook = run.work / "demo" / "notebooks" / "welcome.ipynb"
    notebook.write_text(notebook.read_text().replace("Welcome", "Welcome back", 1))
    before = {grant: shown(cli, grant) for grant in GRANTS}

    out = run()
    assert "Added 0 grant(s)" in out and "2 already there, left as they are" in out
    after = {grant: shown(cli, grant) for grant in GRANTS}
    assert after == before
    assert after[GRANTS[0]]["budget"] == "2500.00"
    assert after[GRANTS[0]]["title"] == "A title the PI chose"
    assert after[GRANTS[0]]["pi"] == "demo-student"
    assert roles_of(after[GRANTS[0]])["demo-student"] == "pi"
    assert roles_of(after[GRANTS[1]])["demo-student"] == "viewer"
    assert "Welcome back" in notebook.read_text()


@pytest.mark.slow
def test_the_served_notebooks_are_untracked_copies(demo):
    run, _ = demo
    run()
    served = run.work / "demo" / "notebooks"
    assert (served / "welcome.ipynb").read_bytes() == (ROOT / "demo" / "welcome.ipynb").read_bytes()
    assert sorted(p.name for p in (served / "examples").glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "examples").glob("*.ipynb")
    )
    if shutil.which("git") and (ROOT / ".git").exists():
        tracked = subprocess.run(
            ["git", "ls-files", "demo/notebooks"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        assert tracked == ""
        paths = ["demo/notebooks/welcome.ipynb", "demo/notebooks/examples/x.ipynb"]
        ignored = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True, check=False)
        assert ignored.stdout.split() == paths
