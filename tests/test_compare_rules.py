# ruff: noqa: RUF001, RUF003 - the summary line is asserted with its multiplication signs
"""The rules of an honest comparison (domain.compare), on notebooks as nbclient and JupyterLab
save them: speed from the cells' own execution times only, never from a kernel's lifetime;
none on a simulated tier; a run without outputs, or a cell that did not run, is *incomplete*;
the environment diff leaves out what differs between any two captures."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import nbformat
from conftest import assert_compare_contract

from jupyterlab_compute_panel.domain.compare import ATTRIBUTION_SLACK_S, RunInput
from jupyterlab_compute_panel.domain.compare import compare_runs as _compare_runs

T0 = dt.datetime(2026, 12, 4, 9, 0, 0)  # naive UTC, as the ledger keeps it


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def notebook(*cells: tuple[str | None, float | None], start: dt.datetime = T0, ran: bool = True) -> dict:
    """Code cells printing ``text`` (None: the cell did not run), each taking ``seconds``
    (None: no timing recorded), one after the other from ``start``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A study")]
    when = start
    for i, (text, seconds) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(f"step({i})")
        if text is not None:
            cell.execution_count = i + 1
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
            if seconds is not None:
                cell.metadata["execution"] = {
                    "iopub.status.busy": _iso(when),
                    "iopub.execute_input": _iso(when),
                    "shell.execute_reply": _iso(when + dt.timedelta(seconds=seconds)),
                    "iopub.status.idle": _iso(when + dt.timedelta(seconds=seconds)),
                }
                when += dt.timedelta(seconds=seconds)
        nb.cells.append(cell)
    return nb


def compare_runs(runs, *args, **kwargs) -> dict:
    """The comparison, checked against the contract (openapi.yaml) as the API answers it."""
    result = _compare_runs(runs, *args, **kwargs)
    extra = {
        "tier_id": "t",
        "user": "u",
        "notebook": "study.ipynb",
        "status": "closed",
        "rerun_id": None,
        "output": None,
    }
    assert_compare_contract({**result, "runs": [{**extra, **r} for r in result["runs"]]})
    return result


def run(label, nb, *, duration="10", cost="0", simulated=False, window=None, env=None) -> RunInput:
    return RunInput(label, label, Decimal(duration), Decimal(cost), "USD", nb, env, simulated=simulated, window=window)


def test_speed_is_the_cells_own_time_never_the_kernels_lifetime():
    # An interactive kernel open for an hour, its notebook saved without cell timings, against
    # a 3.9 s re-run: no speed at all, not "923× faster".
    interactive = notebook(("acc 0.87\n", None), ("done\n", None))
    rerun = notebook(("acc 0.87\n", 3.0), ("done\n", 0.9))
    result = compare_runs([run("Local CPU", interactive, duration="3600"), run("Fast", rerun, duration="3.9")])
    assert result["verdict"] == "match"
    assert result["summary"] == (
        "outputs are identical; Fast cost nothing either; speed is not comparable: Local CPU recorded no cell timings"
    )
    assert result["timing"] == "partial"
    assert [r["time_s"] for r in result["runs"]] == [None, 3.9]
    assert result["runs"][1]["speed"] == {"ratio": None, "cells": 0, "reason": "untimed"}
    assert result["runs"][0]["speed"] is None

    # With timings on both sides (JupyterLab's record timing on): their ratio, whatever the
    # kernels' lifetimes.
    timed = notebook(("acc 0.87\n", 12.0), ("done\n", 3.6))
    result = compare_runs([run("Local CPU", timed, duration="3600"), run("Fast", rerun, duration="3.9")])
    assert result["summary"] == "outputs are identical; Fast was 4.0× faster and cost nothing either"
    assert result["timing"] == "cells"
    assert result["runs"][1]["speed"] == {"ratio": 4.0, "cells": 2, "reason": None}


def test_speed_covers_only_the_cells_timed_in_both():
    a = notebook(("x\n", 8.0), ("y\n", 2.0), ("z\n", None))
    b = notebook(("x\n", 1.0), ("y\n", None), ("z\n", 5.0))
    result = compare_runs([run("A", a), run("B", b)])
    assert (
        result["summary"]
        == "outputs are identical; B was 8.0× faster on the 1 cell timed in both and cost nothing either"
    )
    assert result["runs"][1]["speed"]["cells"] == 1
    assert result["timing"] == "partial"
    assert [r["time_s"] for r in result["runs"]] == [10.0, 6.0]  # each run's own timed cells

    c = notebook(("x\n", None), ("y\n", None), ("z\n", 5.0))
    d = notebook(("x\n", 1.0), ("y\n", 1.0), ("z\n", None))
    result = compare_runs([run("C", c), run("D", d)])
    assert result["summary"].endswith("speed is not comparable: no cell was timed in both C and D")
    assert result["runs"][1]["speed"]["reason"] == "no_shared_cells"


def test_a_simulated_tier_makes_speed_not_comparable():
    cpu = notebook(("acc 0.87\n", 12.0))
    gpu = notebook(("acc 0.87\n", 0.3))
    result = compare_runs([run("Local CPU", cpu), run("H200 training", gpu, cost="0.0030", simulated=True)])
    assert result["verdict"] == "match"
    assert result["summary"] == (
        "outputs are identical; H200 training cost 0.0030 USD more (Local CPU was free); "
        "speed is not comparable: H200 training is a simulated tier"
    )
    assert result["runs"][1]["speed"] == {"ratio": None, "cells": 0, "reason": "simulated"}
    assert [r["simulated"] for r in result["runs"]] == [False, True]
    # The summary shows money as the views do; the run's exact cost stays in its figures.
    odd = compare_runs([run("Local CPU", cpu), run("H200 training", gpu, cost="0.016423", simulated=True)])
    assert "H200 training cost 0.02 USD more (Local CPU was free)" in odd["summary"]
    # Cell durations are still shown, as measured.
    assert result["cells"][0]["durations_s"] == [12.0, 0.3]

    three = compare_runs(
        [run("RTX", cpu, simulated=True), run("H200", gpu, simulated=True), run("Other", gpu, simulated=True)]
    )
    assert three["summary"].endswith("speed is not comparable: RTX, H200 and Other are simulated tiers")


def test_a_run_that_never_executed_is_incomplete_not_differ():
    # The notebook was saved on an open kernel (its provenance names the run) before any cell ran.
    never = notebook((None, None), (None, None))
    ran = notebook(("acc 0.87\n", 3.0), ("done\n", 0.9))
    result = compare_runs([run("Local CPU", never, duration="126"), run("Local CPU", ran, duration="1")])
    assert result["verdict"] == "incomplete"
    assert result["summary"] == (
        "Local CPU (the baseline) ran no cell; Local CPU cost nothing either; "
        "speed is not comparable: Local CPU (the baseline) recorded no cell timings"
    )
    assert result["runs"][0]["outputs_available"] is False
    assert [c["verdicts"] for c in result["cells"]] == [[None, "not_run"]] * 2
    assert [c["ran"] for c in result["cells"]] == [[False, True]] * 2
    assert result["differing_cells"] == []

    unreadable = compare_runs([run("A", ran), run("B", None)])
    assert unreadable["verdict"] == "incomplete"
    assert unreadable["summary"].startswith("the outputs of B are not available; ")


def test_cells_that_did_not_run_everywhere():
    # A re-run cancelled in its second cell: its copy has the first cell only.
    full = notebook(("a\n", 1.0), ("b\n", 1.0), ("c\n", 1.0))
    cut = notebook(("a\n", 1.0), (None, None), (None, None))
    result = compare_runs([run("A", full), run("B", cut)])
    assert result["verdict"] == "incomplete"
    assert result["summary"].startswith("2 of 3 cells did not run in every run (first: cell 2); ")
    assert result["cells"][1]["outputs"] == [[{"kind": "text:stdout", "content": "b\n"}], None]
    assert "on the 1 cell timed in both" in result["summary"]

    # A difference where both ran is still a difference.
    other = notebook(("A\n", 1.0), (None, None), ("c\n", 1.0))
    result = compare_runs([run("A", full), run("B", other)])
    assert result["verdict"] == "differ"
    assert result["summary"].startswith(
        "outputs differ in 1 of 3 cells (first: cell 1), and 1 of 3 cells did not run in every run (first: cell 2)"
    )


def test_outputs_from_before_the_run_are_not_its_own():
    # Cells run in yesterday's kernel, the notebook saved again on today's: those cells did not
    # run in today's run, and their times are not today's.
    window = (T0, T0 + dt.timedelta(hours=1))
    stale = notebook(("acc 0.87\n", 5.0), start=T0 - dt.timedelta(days=1))
    fresh = notebook(("acc 0.87\n", 5.0), start=T0 + dt.timedelta(minutes=10))
    late = notebook(("acc 0.87\n", 5.0), start=T0 - dt.timedelta(seconds=ATTRIBUTION_SLACK_S / 2))
    other = notebook(("acc 0.87\n", 1.0))
    result = compare_runs([run("Today", stale, window=window), run("Other", other)])
    assert result["verdict"] == "incomplete" and result["summary"].startswith("Today ran no cell")
    assert result["cells"][0]["durations_s"] == [None, 1.0]
    for nb in (fresh, late):  # within the run, or within the clocks' slack of it
        result = compare_runs([run("Today", nb, window=window), run("Other", other)])
        assert result["verdict"] == "match" and "Other was 5.0× faster" in result["summary"]


def test_the_environment_diff_leaves_out_what_every_capture_changes():
    def env(sha, untracked, model, probe):
        return {
            "schema": 1,
            "tier": {"id": "x", "hardware": {"gpu": {"memory_gb": model}}},
            "notebook": {"path": "study.ipynb", "sha256": sha},
            "git": {"commit": "abc", "dirty": True, "changed_files": untracked, "untracked_files": untracked},
            "kernel": {"probe_seconds": probe, "language": "python"},
            "probe": {"seconds": probe, "version": 1},
        }

    same = compare_runs(
        [
            run("A", notebook(("x\n", 1.0)), env=env("1" * 64, 1, 24, 0.4)),
            run("B", notebook(("x\n", 1.0)), env=env("2" * 64, 2, 24, 0.7)),
        ]
    )
    assert same["environment"]["fields"] == []
    differs = compare_runs(
        [
            run("A", notebook(("x\n", 1.0)), env=env("1" * 64, 1, 24, 0.4)),
            run("B", notebook(("x\n", 1.0)), env=env("2" * 64, 2, 141, 0.7)),
        ]
    )
    assert differs["environment"]["fields"] == [{"key": "tier.hardware.gpu.memory_gb", "values": [24, 141]}]
