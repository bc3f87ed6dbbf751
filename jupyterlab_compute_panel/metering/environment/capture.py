"""Capture a run's environment fingerprint when its kernel is first ready.

The server talks to the kernel through a kernel client of its own, with silent
execute requests (``silent=True, store_history=False``) whose answers come back
in ``user_expressions``: nothing is printed, the execution count does not move,
nothing enters the history or the user's namespace (the probe lives in the
private module ``_compute_panel_fingerprint``). Two steps keep the user's first
cell fast: the first request only starts a thread in the kernel and returns;
later requests collect what the thread found, polling with a short backoff until
it is done or ``timeout`` seconds have passed.

The server adds what only it knows: the tier, the notebook's content hash (from
the contents manager) and the git commit and dirty flag of the notebook's
repository (``git`` in a subprocess, never on the event loop).

A capture never raises into the server: whatever goes wrong is saved as status
``failed`` with the reason, or ``partial`` with the parts that are missing.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import hashlib
import inspect
import json
import logging
import os
import time
from pathlib import Path
from queue import Empty
from typing import TYPE_CHECKING, Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.session import Session
from jupyter_core.utils import ensure_async

from ...ledger import utcnow
from .parse import assemble, parse_git_status_v2

if TYPE_CHECKING:
    from ...ledger import RunView
    from ..service import MeteringService

MODULE = "_compute_panel_fingerprint"
PROBE_SOURCE = (Path(__file__).with_name("probe.py")).read_text(encoding="utf-8")
MAX_REPLY = 8 << 20  # characters of a probe answer the server accepts
GIT_TIMEOUT = 15.0


def start_expression(source: str = PROBE_SOURCE) -> str:
    """One expression that installs the probe as a private module and starts it.

    An expression, not a statement, so that it can travel in ``user_expressions``: it
    binds no name in the user's namespace. If the module is already there (a second
    capture in the same process), it is only started again, which is a no-op.
    """
    return (
        "(lambda s, n: s.modules[n].start() if n in s.modules else "
        f"(lambda m: (exec(compile({source!r}, '<compute-panel-fingerprint>', 'exec'), m.__dict__), "
        "s.modules.__setitem__(n, m), m.start())[-1])(__import__('types').ModuleType(n)))"
        f"(__import__('sys'), {MODULE!r})"
    )


COLLECT_EXPRESSION = f"__import__('sys').modules[{MODULE!r}].collect()"


class ProbeError(Exception):
    """The kernel answered, but not with what the probe should say."""


class NoAnswer(Exception):
    """The kernel did not answer in time (busy with the user's cells, or still starting)."""


def expression_value(reply: dict[str, Any], name: str = "fp") -> Any:
    """The Python value of a user expression from an execute reply's text/plain repr."""
    content = reply.get("content", {})
    if content.get("status") != "ok":
        raise ProbeError(f"the kernel refused the request ({content.get('ename')}: {content.get('evalue')})")
    result = (content.get("user_expressions") or {}).get(name)
    if not isinstance(result, dict):
        raise ProbeError("the kernel answered without user_expressions (not an IPython kernel?)")
    if result.get("status") != "ok":
        raise ProbeError(f"{result.get('ename')}: {result.get('evalue')}")
    text = (result.get("data") or {}).get("text/plain")
    if not isinstance(text, str) or len(text) > MAX_REPLY:
        raise ProbeError("the kernel's answer is missing or too large")
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as e:
        raise ProbeError(f"the kernel's answer is not a literal ({e})") from None


class EnvironmentCapture:
    """Schedules, runs and records one capture per launched run (one per server)."""

    def __init__(
        self,
        service: MeteringService,
        *,
        contents_manager: Any = None,
        root_dir: str | None = None,
        timeout: float = 20.0,
        log: logging.Logger | None = None,
    ) -> None:
        self.service = service
        self.contents_manager = contents_manager
        self.root_dir = root_dir
        self.timeout = timeout
        self.log = log or service.log
        self._tasks: dict[str, asyncio.Task] = {}
        self._saved: set[str] = set()
        self._stopping = False

    # -- life -------------------------------------------------------------------
    def schedule(self, provisioner: Any, run: RunView) -> None:
        """Capture ``run``'s environment in the background; returns at once."""
        if self._stopping or run.id in self._tasks:
            return
        task = asyncio.get_running_loop().create_task(self._capture(provisioner, run))
        self._tasks[run.id] = task
        task.add_done_callback(lambda _t, run_id=run.id: self._tasks.pop(run_id, None))

    def in_progress(self, run_id: str) -> bool:
        return run_id in self._tasks

    def run_closed(self, run_id: str) -> None:
        """The run's kernel stopped: a capture still waiting on it cannot finish."""
        task = self._tasks.get(run_id)
        if task is not None and not task.done():
            task.cancel()

    async def wait(self, run_id: str) -> None:
        """Until ``run_id``'s capture (if any) is over (tests, benchmarks)."""
        task = self._tasks.get(run_id)
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)

    async def stop(self) -> None:
        self._stopping = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- one capture ------------------------------------------------------------
    async def _capture(self, provisioner: Any, run: RunView) -> None:
        server_parts = asyncio.get_running_loop().create_task(self.server_parts(run))
        try:
            raw, kernel, missing = await self._kernel_parts(provisioner, run, server_parts)
            server = dict(await server_parts, kernel=kernel)
            server["missing"] = {**server.get("missing", {}), **missing}
            fingerprint, digest = assemble(raw, server)
            status = "complete" if not fingerprint["missing"] else "partial"
            await self._save(run.id, fingerprint, digest, status, None)
        except asyncio.CancelledError:
            server_parts.cancel()
            if not self._stopping and run.id not in self._saved:
                await self._save_failed(run, server_parts, "the kernel stopped before its environment was captured")
            raise
        except Exception as e:  # a capture must never raise into the server
            self.log.warning("compute-panel: environment capture of run %s failed", run.id, exc_info=True)
            await self._save_failed(run, server_parts, f"{type(e).__name__}: {e}")
        finally:
            self._saved.discard(run.id)

    async def _save_failed(self, run: RunView, server_parts: asyncio.Task, reason: str) -> None:
        server: dict[str, Any] = {}
        if server_parts.done() and not server_parts.cancelled() and server_parts.exception() is None:
            server = server_parts.result()
        fingerprint, _ = assemble(None, server)
        try:
            await self._save(run.id, fingerprint, None, "failed", reason)
        except Exception:
            self.log.warning("compute-panel: could not record the failed capture of run %s", run.id, exc_info=True)

    async def _save(
        self, run_id: str, fingerprint: dict[str, Any], digest: str | None, status: str, error: str | None
    ) -> None:
        await self.service.db(
            self.service.ledger.save_environment,
            run_id,
            fingerprint=fingerprint,
            packages_hash=digest,
            status=status,
            error=error,
            captured_at=utcnow(),
        )
        self._saved.add(run_id)

    async def _kernel_parts(
        self, provisioner: Any, run: RunView, server_parts: asyncio.Task
    ) -> tuple[dict[str, Any] | None, dict[str, Any], dict[str, str]]:
        """(the probe's raw result or None, the kernel's description, missing parts)."""
        km = provisioner.parent
        kernel: dict[str, Any] = {"kernelspec": run.kernelspec, "language": None}
        waited = time.monotonic()
        await self._started(km)
        client = self._client(km, provisioner)
        client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)  # noqa: S604 - the shell channel
        try:
            busy = _Busy(self, run, server_parts, kernel)
            info = await self._request(client, client.kernel_info(), waited + self.timeout, busy)
            content = info.get("content", {})
            language = (content.get("language_info") or {}).get("name")
            kernel.update(
                language=language,
                implementation=content.get("implementation"),
                implementation_version=content.get("implementation_version"),
                protocol_version=content.get("protocol_version"),
            )
            if language != "python":
                return None, kernel, {"kernel": f"no probe for {language or 'unknown'} kernels: server-side parts only"}
            started = await self._expression(client, start_expression(), waited + self.timeout, busy)
            if started not in ("started", "running"):
                raise ProbeError(f"the probe did not start ({started!r})")
            # The probe's own time limit runs from its start, not from waiting behind the user's cells.
            deadline = time.monotonic() + self.timeout
            delay = 0.05
            while True:
                await asyncio.sleep(min(delay, max(deadline - time.monotonic(), 0)))
                delay = min(delay * 2, 1.0)
                # A collect sent just before the deadline still gets a moment to be answered
                # before the kernel counts as busy.
                wait_until = max(deadline, time.monotonic() + 2.0)
                answer = json.loads(await self._expression(client, COLLECT_EXPRESSION, wait_until, busy))
                if answer.get("done") or time.monotonic() >= deadline:
                    break
            raw = answer.get("result") or {}
            kernel["probe_seconds"] = raw.get("seconds")
            missing = {}
            if not answer.get("done"):
                missing["probe"] = f"the kernel's probe did not finish within {self.timeout:g} s"
            return raw, kernel, missing
        finally:
            client.stop_channels()

    async def _started(self, km: Any) -> None:
        """Until the kernel manager has finished starting the kernel (its connection info is final)."""
        ready = getattr(km, "ready", None)
        if ready is None:
            return
        await asyncio.shield(asyncio.wrap_future(ready))

    def _client(self, km: Any, provisioner: Any) -> AsyncKernelClient:
        session = Session(key=km.session.key, signature_scheme=km.session.signature_scheme, username="compute-panel")
        client = km.client(session=session) if hasattr(km, "client") else None
        if not isinstance(client, AsyncKernelClient):
            client = AsyncKernelClient(session=session)
            client.load_connection_info(provisioner.connection_info)
        return client

    async def _expression(self, client: AsyncKernelClient, expression: str, deadline: float, busy: _Busy) -> Any:
        msg_id = client.execute(
            "",
            silent=True,
            store_history=False,
            user_expressions={"fp": expression},
            allow_stdin=False,
            stop_on_error=False,
        )
        return expression_value(await self._request(client, msg_id, deadline, busy))

    async def _request(self, client: AsyncKernelClient, msg_id: str, deadline: float, busy: _Busy) -> dict[str, Any]:
        """The reply to ``msg_id``. Past ``deadline`` a partial fingerprint is saved once (the
        kernel is busy with the user's cells, or slow to start), and the wait goes on: the
        request is queued in the kernel and is answered when the cells before it are done."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 and not busy.saved:
                await busy.save()
            try:
                msg = await client.get_shell_msg(timeout=max(remaining, 0.05) if not busy.saved else 5.0)
            except Empty:
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg

    # -- what the server knows -----------------------------------------------------
    async def server_parts(self, run: RunView) -> dict[str, Any]:
        missing: dict[str, str] = {}
        tier = self.service.catalog.get(run.tier_id)
        parts: dict[str, Any] = {
            "tier": {
                "id": run.tier_id,
                "label": run.tier_label,
                "simulated": tier.simulated if tier else None,
                "reliability": tier.reliability if tier else None,
                "hardware": tier.hardware.to_json() if tier else None,
            },
            "notebook": None,
            "git": None,
            "missing": missing,
        }
        if not run.notebook:
            return parts
        parts["notebook"] = {"path": run.notebook, "sha256": None}
        try:
            parts["notebook"]["sha256"] = await self.notebook_hash(run.notebook)
        except Exception as e:  # noqa: BLE001 - one missing part, not a failed capture
            missing["notebook"] = _reason(e)
        folder = self._os_folder(run.notebook)
        if folder is None:
            missing["git"] = "the notebook is not inside the server's root folder"
            return parts
        try:
            parts["git"] = await git_state(folder, Path(run.notebook).name)
        except Exception as e:  # noqa: BLE001
            missing["git"] = _reason(e)
        return parts

    async def notebook_hash(self, path: str) -> str:
        """sha256 of the saved notebook file, as the contents manager reads it."""
        cm = self.contents_manager
        if cm is None:
            raise RuntimeError("no contents manager")
        if "require_hash" in inspect.signature(cm.get).parameters:
            model = await ensure_async(cm.get(path, content=False, require_hash=True))
            if model.get("hash") and (model.get("hash_algorithm") or "").lower() == "sha256":
                return model["hash"]
        model = await ensure_async(cm.get(path, content=True, type="file", format="base64"))
        return hashlib.sha256(base64.b64decode(model["content"])).hexdigest()

    def _os_folder(self, notebook: str) -> str | None:
        root = getattr(self.contents_manager, "root_dir", None) or self.root_dir
        if not root or os.path.isabs(notebook):
            return None
        return os.path.dirname(os.path.join(root, *notebook.split("/")))


class _Busy:
    """Saves the partial fingerprint of a kernel that has not answered by the deadline, once."""

    def __init__(self, capture: EnvironmentCapture, run: RunView, server_parts: asyncio.Task, kernel: dict) -> None:
        self.capture, self.run, self.server_parts, self.kernel = capture, run, server_parts, kernel
        self.saved = False

    async def save(self) -> None:
        self.saved = True
        server = dict(await asyncio.shield(self.server_parts), kernel=self.kernel)
        reason = (
            f"the kernel did not answer within {self.capture.timeout:g} s (busy running cells, or slow to start); "
            "the capture completes when it answers"
        )
        server["missing"] = {**server.get("missing", {}), "kernel": reason}
        fingerprint, _ = assemble(None, server)
        await self.capture._save(self.run.id, fingerprint, None, "partial", None)


def _reason(e: BaseException) -> str:
    status = getattr(e, "status_code", None)
    if status == 404:
        return "the notebook is not saved yet"
    text = getattr(e, "log_message", None) or str(e) or type(e).__name__
    return text.strip().splitlines()[0] if text.strip() else type(e).__name__


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(LC_ALL="C", GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0")
    return env


async def _git(folder: str, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        "git",
        "-C",
        folder,
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_git_env(),
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), GIT_TIMEOUT)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


async def git_state(folder: str, notebook_name: str) -> dict[str, Any] | None:
    """Commit, branch and dirty flag of the repository holding ``folder``; None outside one.

    Uses ``--no-optional-locks`` (and GIT_OPTIONAL_LOCKS=0) so that a status never takes
    the index lock from the user's own git commands.
    """
    if not os.path.isdir(folder):
        return None
    try:
        rc, top, err = await _git(folder, "rev-parse", "--show-toplevel")
    except FileNotFoundError:
        raise RuntimeError("git is not installed on the server") from None
    if rc != 0:
        if "not a git repository" in err.lower():
            return None
        raise RuntimeError(err.strip().splitlines()[0] if err.strip() else f"git exited with status {rc}")
    top = top.strip()
    rc, out, err = await _git(top, "--no-optional-locks", "status", "--porcelain=v2", "--branch", "-z")
    if rc != 0:
        raise RuntimeError(err.strip().splitlines()[0] if err.strip() else f"git status exited with status {rc}")
    notebook = os.path.relpath(os.path.join(os.path.realpath(folder), notebook_name), os.path.realpath(top))
    return parse_git_status_v2(out, notebook.replace(os.sep, "/"))
