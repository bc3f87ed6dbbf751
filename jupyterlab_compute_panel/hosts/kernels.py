"""What the embedded host adds to jupyter_server's kernel manager, in one place.

- ``attach``: the kernels' provisioners find the metering service here
  (``metering.hosting``), or the reason the extension is disabled.
- A refused start (``errors.LaunchRefused``, raised by the provisioner) becomes
  jupyter_server's 403 with the sentence as its ``message``, which JupyterLab shows;
  the metering core itself knows nothing of HTTP. A failed start leaves nothing in
  jupyter_client's pending kernels (which would hang the server's shutdown).
- A refused restart (a restart is a new start, checked like one) leaves a kernel with no
  process that jupyter_server would go on listing as idle, in its notebook's session: the
  kernel is dropped, so the server says what is true (the notebook has no kernel), and
  the sentence is kept for the user who asked (``metering/restarts.py``), since
  JupyterLab does not hand a failed restart's answer to extensions.
- jupyter_server's own idle culler shuts kernels down like a user would: its culls are
  recorded with end reason ``culled``, not ``shutdown``.
"""

from __future__ import annotations

import functools
from typing import Any

from tornado import web

from ..errors import LaunchRefused, Unavailable
from ..metering import hosting
from ..metering.ending import ending, metered_provisioner
from .sessions import REFUSED

_MARK = "_compute_panel"


class RefusedStart(LaunchRefused, web.HTTPError):
    """A refused start as jupyter_server's handlers answer it: 403 with the sentence."""

    status = 403

    def __init__(self, sentence: str) -> None:
        LaunchRefused.__init__(self, sentence)
        web.HTTPError.__init__(self, self.status, sentence.replace("%", " percent"))

    def __str__(self) -> str:
        return self.sentence


class UnavailableStart(Unavailable, RefusedStart):
    """A start refused because a part it needs is away (the ledger): 503 with the sentence."""

    status = 503


def attach(kernel_manager: Any, service_or_error: Any) -> None:
    hosting.attach(kernel_manager, service_or_error)
    for name in ("start_kernel", "restart_kernel"):
        _translate_refusals(kernel_manager, name)
    _label_culling(kernel_manager)


def _translate_refusals(kernel_manager: Any, name: str) -> None:
    method = getattr(kernel_manager, name, None)
    if method is None or getattr(method, _MARK, False):
        return

    @functools.wraps(method)
    async def translated(*args: Any, **kwargs: Any) -> Any:
        pending = set(getattr(kernel_manager, "_pending_kernels", {}))
        try:
            return await method(*args, **kwargs)
        except LaunchRefused as e:
            _forget_failed_starts(kernel_manager, pending)
            REFUSED.set(e)  # for the sessions and restart routes, which answer 500 and 501
            if name == "restart_kernel":
                await _drop_refused_restart(kernel_manager, kwargs.get("kernel_id", args[0] if args else None), e)
            if isinstance(e, RefusedStart):
                raise
            raise (UnavailableStart if isinstance(e, Unavailable) else RefusedStart)(e.sentence) from None
        except BaseException:
            _forget_failed_starts(kernel_manager, pending)
            raise

    setattr(translated, _MARK, True)
    setattr(kernel_manager, name, translated)


async def _drop_refused_restart(kernel_manager: Any, kernel_id: str | None, refusal: LaunchRefused) -> None:
    """After a refused restart: keep its sentence, and drop the kernel, whose process the
    restart stopped before its new start was refused (jupyter_server would list it as
    idle, and its notebook's session with it; a message sent to it would wait forever)."""
    if kernel_id is None:
        return
    service = getattr(kernel_manager, hosting.ATTRIBUTE, None)
    if service is not None and not isinstance(service, Exception):
        service.note_refused_restart(kernel_id, refusal)
    km = kernel_manager.get_kernel(kernel_id) if kernel_id in kernel_manager else None
    if km is None or km.has_kernel:
        return  # gone already, or a process runs after all: not ours to drop
    try:
        # Its ready future holds the refusal: jupyter_client only removes such a kernel.
        await kernel_manager.shutdown_kernel(kernel_id)
    except Exception:
        kernel_manager.log.warning(
            "compute-panel: could not drop kernel %s after its refused restart", kernel_id, exc_info=True
        )


def _forget_failed_starts(kernel_manager: Any, before: set[str]) -> None:
    """Drop the kernels whose start just failed from jupyter_client's pending kernels.

    jupyter_client (8.x) keeps a failed start in ``MultiKernelManager._pending_kernels``;
    ``shutdown_all`` then shuts that id down, jupyter_server answers "Kernel does not
    exist" and the server hangs on SIGTERM. Only starts that are over (their task done)
    and never became a kernel are dropped; one still starting is left alone.
    (docs/design-notes.md has the upstream report.)
    """
    pending = getattr(kernel_manager, "_pending_kernels", None)
    kernels = getattr(kernel_manager, "_kernels", {})
    if not isinstance(pending, dict):
        return
    for kernel_id in set(pending) - before:
        task = pending.get(kernel_id)
        if kernel_id not in kernels and (task is None or task.done()):
            pending.pop(kernel_id, None)


def _label_culling(kernel_manager: Any) -> None:
    """Record jupyter_server's own idle culling as end reason ``culled``, not ``shutdown``.

    The culler calls shutdown_kernel like a user would; the kernel's run is told first,
    and the reason taken back when the kernel was not idle enough to be culled.
    """
    cull = getattr(kernel_manager, "cull_kernel_if_idle", None)
    if cull is None or getattr(cull, _MARK, False):
        return

    async def cull_kernel_if_idle(kernel_id: str) -> Any:
        async with ending(metered_provisioner(kernel_manager, kernel_id), "culled"):
            return await cull(kernel_id)

    setattr(cull_kernel_if_idle, _MARK, True)
    kernel_manager.cull_kernel_if_idle = cull_kernel_if_idle
