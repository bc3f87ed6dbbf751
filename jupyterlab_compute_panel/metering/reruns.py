"""Re-run a notebook on a tier: a headless, metered batch run (nbclient) charged to a grant.

The kernel is started by the server's own kernel manager on the tier's kernelspec, so it
is metered by our provisioner like any kernel (one run in the ledger), shows among the
server's kernels, and is shut down by the server when the re-run ends - right after its
last cell, so no idle time is paid. nbclient executes the cells through a client of that
kernel; we drive its cell loop ourselves (``async_execute_cell``) rather than
``async_execute``, which installs signal handlers on the event loop: in a server that
would take Ctrl-C away from jupyter_server.

A re-run ends one way: ``completed`` (every cell ran), ``failed`` (a cell raised: the
error, its cell and its traceback's last line are kept; or the kernel died), ``cancelled``
(its user), ``timed_out`` (its time limit). Its kernel's run closes with the end reason
``completed``, ``cell_error``, ``cancelled`` or ``time_limit``. The executed copy, with
what ran so far and a provenance block, is saved in every case but a refusal.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import posixpath
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import nbformat
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, DeadKernelError

from ..domain.money import format_amount
from ..errors import ComputePanelError, LaunchRefused
from ..ledger import RerunView, create_rerun, get_rerun, iso, update_rerun, utcnow
from .ending import stop_kernel

if TYPE_CHECKING:
    from .service import MeteringService

METADATA_KEY = "jupyterlab_compute_panel"
END_REASON = {"completed": "completed", "failed": "cell_error", "cancelled": "cancelled", "timed_out": "time_limit"}
TIER_KERNELSPEC_PREFIX = "compute-panel-"


class RerunError(ComputePanelError):
    """A re-run that cannot start; ``status`` says which kind of refusal it is, in the HTTP
    terms that the API answers with (422 a bad choice, 404 no notebook, 403 refused by the
    launch policy, 500 the kernel failed)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message, field)
        self.status = status


def limit_words(seconds: int) -> str:
    """A time limit in the unit the re-run dialog asks for: minutes ('90 minutes', '1.5 minutes'),
    seconds below one minute ('3 seconds')."""
    if seconds < 60:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    minutes = f"{Decimal(seconds) / 60:.2f}".rstrip("0").rstrip(".")
    return "1 minute" if minutes == "1" else f"{minutes} minutes"


def base_kernel_of(nb: nbformat.NotebookNode, service: MeteringService) -> str:
    """The base kernel a notebook runs on: its kernelspec, or the base of a tier kernelspec."""
    name = (nb.metadata.get("kernelspec") or {}).get("name") or "python3"
    for names in service.kernelspec_names.values():
        for base, tier_name in names.items():
            if tier_name == name:
                return base
    return name


def clear_outputs(nb: nbformat.NotebookNode) -> None:
    """Empty every code cell of the outputs, count and timing it came with, so that the executed
    copy holds only what this re-run ran: a cell it did not reach (cancelled, timed out, after
    a failing cell) is seen as not run, not as the source's old outputs and time."""
    for cell in nb.cells:
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
            cell.get("metadata", {}).pop("execution", None)


def output_path(source: str, tier_id: str, when: dt.datetime, folder: str) -> str:
    """``<folder or the source's folder>/<name>.<tier>.<YYYYmmddTHHMMSS>.ipynb``."""
    directory, name = posixpath.split(source)
    stem = name[: -len(".ipynb")] if name.endswith(".ipynb") else name
    return posixpath.join(folder.strip("/") if folder else directory, f"{stem}.{tier_id}.{when:%Y%m%dT%H%M%S}.ipynb")


class RerunManager:
    """Starts, tracks and stops the server's re-runs."""

    def __init__(
        self,
        service: MeteringService,
        output_folder: str = "",
        default_time_limit: int = 3600,
        max_time_limit: int = 86400,
    ) -> None:
        self.service = service
        self.log = service.log
        self.output_folder = output_folder
        self.default_time_limit = default_time_limit
        self.max_time_limit = max_time_limit
        self._tasks: dict[str, asyncio.Task] = {}
        self._progress: dict[str, dict[str, Any]] = {}

    @property
    def kernel_manager(self) -> Any:
        return self.service.kernel_manager

    @property
    def contents_manager(self) -> Any:
        return self.service.contents_manager

    # -- start ----------------------------------------------------------------
    async def start(
        self,
        source: str,
        tier_id: str,
        grant_id: str | None,
        time_limit_s: int | None = None,
        source_run_id: str | None = None,
    ) -> RerunView:
        service = self.service
        tier = service.catalog.get(tier_id)
        if tier is None:
            known = ", ".join(t.id for t in service.catalog)
            raise RerunError(422, f"tier_id {tier_id!r} is not a tier in the catalog (known: {known})", "tier_id")
        limit = self.default_time_limit if time_limit_s is None else time_limit_s
        if not 1 <= limit <= self.max_time_limit:
            raise RerunError(
                422,
                f"The time limit must be from 1 second to {limit_words(self.max_time_limit)}, got {limit_words(limit)}",
                "time_limit_s",
            )
        try:
            model = await ensure_async(self.contents_manager.get(source, content=True, type="notebook"))
        except Exception as e:  # noqa: BLE001 - the contents manager's HTTPError or a bad file
            reason = getattr(e, "log_message", None) or str(e)
            raise RerunError(404, f"Cannot read the notebook {source!r}: {reason}", "path") from None
        nb = nbformat.from_dict(model["content"])
        base = base_kernel_of(nb, service)
        kernel_name = service.kernelspec_names.get(tier.id, {}).get(base)
        if kernel_name is None:
            raise RerunError(
                422,
                f"{tier.label} has no kernel for this notebook's kernel {base!r} "
                f"(it offers: {', '.join(service.kernelspec_names.get(tier.id, {})) or 'none'})",
                "tier_id",
            )
        cells_total = sum(1 for c in nb.cells if c.cell_type == "code")
        rerun = await service.db(
            create_rerun,
            service.ledger,
            user=service.owner,
            source=source,
            output=None,
            tier_id=tier.id,
            grant_id=None,  # the grant its run is charged to, once the start is accepted
            kernelspec=kernel_name,
            run_id=None,
            source_run_id=source_run_id,
            status="running",
            cells_total=cells_total,
            time_limit_s=limit,
        )
        try:
            kernel_id = await self.kernel_manager.start_kernel(
                kernel_name=kernel_name,
                path=posixpath.dirname(source),
                compute_panel={"grant_id": grant_id, "notebook": source, "rerun_id": rerun.id},
            )
        except LaunchRefused as e:
            await service.db(update_rerun, service.ledger, rerun.id, status="refused", error=e.sentence, ended=utcnow())
            raise RerunError(403, e.sentence, "grant_id") from None
        except Exception as e:  # noqa: BLE001 - recorded on the re-run and answered as 500
            await service.db(
                update_rerun,
                service.ledger,
                rerun.id,
                status="failed",
                error=f"The kernel did not start: {e}",
                ended=utcnow(),
            )
            raise RerunError(500, f"The kernel for the re-run did not start: {e}") from None
        run = await service.db(service.ledger.current_run_for_kernel, kernel_id)
        rerun = await service.db(
            update_rerun,
            service.ledger,
            rerun.id,
            run_id=run.id if run else None,
            grant_id=run.grant_id if run else None,
        )
        self._progress[rerun.id] = {"kernel_id": kernel_id, "current_cell": None}
        task = asyncio.create_task(self._execute(rerun, nb, kernel_id))
        self._tasks[rerun.id] = task
        task.add_done_callback(lambda _: self._tasks.pop(rerun.id, None))
        return rerun

    # -- execution ------------------------------------------------------------
    async def _execute(self, rerun: RerunView, nb: nbformat.NotebookNode, kernel_id: str) -> None:
        status, error = "failed", None
        started = utcnow()
        progress = self._progress[rerun.id]
        km = self.kernel_manager.get_kernel(kernel_id)
        clear_outputs(nb)
        # Kept: the kernel manager forgets the kernel once an enforcer has shut it down.
        provisioner = getattr(km, "provisioner", None)
        client = NotebookClient(
            nb,
            km=km,
            timeout=None,
            allow_errors=False,
            record_timing=True,
            resources={"metadata": {"path": self._os_dir(rerun.source)}},
        )
        done = 0

        async def cell_started(cell: Any, cell_index: int) -> None:
            progress["current_cell"] = cell_index

        async def cell_executed(cell: Any, cell_index: int, execute_reply: Any) -> None:
            nonlocal done
            done += 1
            await self.service.db(update_rerun, self.service.ledger, rerun.id, cells_done=done)

        client.on_cell_start = cell_started
        client.on_cell_executed = cell_executed
        # The time limit and a cancel both cancel this task, with the reason noted first:
        # nbclient turns a cancellation inside a cell into DeadKernelError, so the exception
        # alone cannot tell them apart.
        timer = asyncio.get_running_loop().call_later(rerun.time_limit_s, self._stop, rerun.id, "timed_out")
        try:
            capture = self.service.environment
            if capture is not None and rerun.run_id:
                # A re-run exists to be compared: let its environment be captured before the
                # cells keep the kernel busy (a fraction of a second), so it is complete.
                await capture.wait(rerun.run_id)
            await self._run_cells(client)
            status = "completed"
        except (Exception, asyncio.CancelledError) as e:
            where = self._cell_no(nb, progress)
            stop = progress.get("stop")
            if stop == "timed_out":
                status, error = stop, f"Stopped at its time limit of {limit_words(rerun.time_limit_s)}, in cell {where}"
            elif stop == "cancelled" or isinstance(e, asyncio.CancelledError):
                status, error = "cancelled", f"Cancelled by its user, in cell {where}"
                if stop is None:
                    error = f"Cancelled because the server stopped, in cell {where}"
            elif isinstance(e, CellExecutionError):
                status, error = "failed", f"Cell {where} raised {e.ename}: {e.evalue}"
            elif isinstance(e, DeadKernelError):
                status, error = "failed", self._death_sentence(provisioner, where)
            else:
                self.log.warning("compute-panel: re-run %s failed", rerun.id, exc_info=True)
                status, error = "failed", f"The re-run failed in cell {where}: {e}"
        finally:
            timer.cancel()
            await self._finish(rerun, nb, client, kernel_id, status, error, started)

    @staticmethod
    def _death_sentence(provisioner: Any, where: str) -> str:
        """Why the kernel went away in the middle of the re-run, as its user should read it."""
        reason = getattr(provisioner, "end_reason", None)
        if reason == "budget":
            return (
                f"Stopped in cell {where}: the grant's budget is spent, so its paid kernels were stopped "
                "(ask its PI to raise the budget, or re-run on a free tier)"
            )
        if reason == "culled":
            return f"Stopped in cell {where}: the kernel was shut down as idle"
        return f"The kernel died in cell {where}"

    def _stop(self, rerun_id: str, reason: str) -> None:
        task = self._tasks.get(rerun_id)
        progress = self._progress.get(rerun_id)
        if task is None or task.done() or progress is None:
            return
        progress.setdefault("stop", reason)
        task.cancel()

    async def _run_cells(self, client: NotebookClient) -> None:
        client.reset_execution_trackers()
        client.kc = client.km.client()
        await ensure_async(client.kc.start_channels())
        await client.kc.wait_for_ready(timeout=client.startup_timeout)
        client.kc.allow_stdin = False
        reply = await client.async_wait_for_reply(await ensure_async(client.kc.kernel_info()))
        if reply is not None and "language_info" in reply["content"]:
            client.nb.metadata["language_info"] = reply["content"]["language_info"]
        for index, cell in enumerate(client.nb.cells):
            await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)

    @staticmethod
    def _cell_no(nb: nbformat.NotebookNode, progress: dict[str, Any]) -> str:
        index = progress.get("current_cell")
        if index is None:
            return "(before the first cell)"
        code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        number = code.index(index) + 1 if index in code else index + 1
        return f"{number} of {len(code)}"

    def _os_dir(self, source: str) -> str:
        root = getattr(self.contents_manager, "root_dir", "") or ""
        return posixpath.join(root, posixpath.dirname(source)) if root else "."

    async def _finish(
        self,
        rerun: RerunView,
        nb: nbformat.NotebookNode,
        client: NotebookClient,
        kernel_id: str,
        status: str,
        error: str | None,
        started: dt.datetime,
    ) -> None:
        service = self.service
        # Stop the meter first: the kernel's run ends with the re-run, not when we are done saving.
        try:
            if client.kc is not None:
                client.kc.stop_channels()
            # An enforcer's reason (the budget's hard stop) stays the run's end reason.
            await stop_kernel(
                self.kernel_manager, kernel_id, END_REASON[status], now=status != "completed", keep_reason=True
            )
        except Exception:
            self.log.debug("compute-panel: re-run %s: kernel already gone", rerun.id, exc_info=True)
        run = await service.db(service.ledger.get_run, rerun.run_id) if rerun.run_id else None
        environment = await service.db(service.ledger.get_environment, rerun.run_id) if rerun.run_id else None
        output = output_path(rerun.source, rerun.tier_id, started, self.output_folder)
        nb.metadata[METADATA_KEY] = {
            **(nb.metadata.get(METADATA_KEY) or {}),
            "tier": rerun.tier_id,
            "grant": rerun.grant_id,
            "provenance": self.provenance(run, rerun, status, error, environment),
        }
        try:
            await self._save(output, nb)
        except Exception as e:
            self.log.warning("compute-panel: re-run %s: cannot save %s", rerun.id, output, exc_info=True)
            error = f"{error + '; ' if error else ''}the executed copy could not be saved ({e})"
            output = None
        await service.db(
            update_rerun, service.ledger, rerun.id, status=status, error=error, output=output, ended=utcnow()
        )
        self._progress.pop(rerun.id, None)

    def provenance(
        self, run: Any, rerun: RerunView, status: str, error: str | None, environment: Any = None
    ) -> dict[str, Any]:
        tier = self.service.catalog.get(rerun.tier_id)
        block: dict[str, Any] = {
            "run_id": rerun.run_id,
            "rerun_id": rerun.id,
            "source": rerun.source,
            "status": status,
            "error": error,
            "tier": rerun.tier_id,
            "grant": rerun.grant_id,
            # The same field as a save's block: the CUDA part of the run's fingerprint, if captured.
            "cuda": (environment.fingerprint.get("cuda") if environment is not None else None),
        }
        if tier is not None:
            block["tier_label"] = tier.label
            block["hardware"] = tier.hardware.to_json()
            block["price_per_hour"] = {"amount": format_amount(tier.rate_micros_per_hour), "currency": tier.currency}
        if run is not None:
            block["price_per_hour"] = {"amount": format_amount(run.rate_micros_per_hour), "currency": run.currency}
            block["started"] = iso(run.started)
            block["ended"] = iso(run.ended)
            if run.ended is not None:
                block["cost"] = {"amount": format_amount(run.cost_micros(run.ended)), "currency": run.currency}
        return block

    async def _save(self, path: str, nb: nbformat.NotebookNode) -> None:
        cm = self.contents_manager
        directory = posixpath.dirname(path)
        if directory and not await ensure_async(cm.dir_exists(directory)):
            await ensure_async(cm.save({"type": "directory"}, directory))
        await ensure_async(cm.save({"type": "notebook", "format": "json", "content": nb}, path))

    # -- queries and cancel ---------------------------------------------------
    def progress(self, rerun: RerunView) -> dict[str, Any]:
        out = rerun.to_json()
        live = self._progress.get(rerun.id)
        out["kernel_id"] = live["kernel_id"] if live else None
        out["current_cell"] = live["current_cell"] if live else None
        return out

    async def cancel(self, rerun_id: str) -> bool:
        """Cancel a running re-run of this server; False if it is not running here."""
        task = self._tasks.get(rerun_id)
        if task is None or task.done():
            return False
        self._stop(rerun_id, "cancelled")
        try:
            await asyncio.shield(asyncio.gather(task, return_exceptions=True))
        except asyncio.CancelledError:
            pass
        return True

    async def wait(self, rerun_id: str) -> RerunView | None:
        task = self._tasks.get(rerun_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        return await self.service.db(get_rerun, self.service.ledger, rerun_id)

    async def stop(self) -> None:
        """The server is stopping: end every re-run (recorded as cancelled by the server)."""
        for task in list(self._tasks.values()):
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
