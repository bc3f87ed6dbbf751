"""The one way to stop a metered kernel with a reason.

A kernel's run closes when its provisioner cleans up; the provisioner records why:
``died`` when the kernel exited by itself, ``restart`` or ``shutdown`` when someone
asked, or the reason an enforcer gave before asking: ``culled`` (idle culling, ours or
jupyter_server's), ``budget`` (the hard stop) or a re-run's end. Enforcers give it here,
and only here, so that a failed shutdown takes the reason back.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any


def metered_provisioner(kernel_manager: Any, kernel_id: str) -> Any:
    """The compute-panel provisioner of a kernel of ``kernel_manager``, or None."""
    try:
        provisioner = kernel_manager.get_kernel(kernel_id).provisioner
    except Exception:  # noqa: BLE001 - jupyter_server answers an unknown id with a 404 (KeyError elsewhere)
        return None
    return provisioner if hasattr(provisioner, "set_end_reason") else None


@contextlib.asynccontextmanager
async def ending(provisioner: Any, reason: str, at: dt.datetime | None = None) -> AsyncIterator[None]:
    """While the block stops the kernel, its run's end reason is ``reason`` (ending ``at``,
    naive UTC, if given). If the block fails, or leaves the kernel running, the reason is
    taken back."""
    if provisioner is None:
        yield
        return
    provisioner.set_end_reason(reason, at=at)
    try:
        yield
    except BaseException:
        provisioner.set_end_reason(None)
        raise
    if provisioner.run_id is not None and provisioner.has_process and await provisioner.poll() is None:
        provisioner.set_end_reason(None)  # still running: the stop did not happen (a culler's second thought)


async def stop_kernel(
    kernel_manager: Any,
    kernel_id: str,
    reason: str,
    *,
    at: dt.datetime | None = None,
    provisioner: Any = None,
    now: bool = False,
    keep_reason: bool = False,
) -> None:
    """Shut a kernel down and record ``reason`` as its run's end reason.

    ``provisioner``: the kernel's, when it is not one of ``kernel_manager``'s (nbclient's
    kernels are stopped through their own kernel manager). ``keep_reason``: an enforcer's
    reason already given (the budget's) wins over this one.
    """
    if kernel_manager is not None and kernel_id in kernel_manager:
        provisioner = metered_provisioner(kernel_manager, kernel_id)
        stop = kernel_manager.shutdown_kernel(kernel_id, now=now)
    elif provisioner is not None:
        stop = provisioner.parent.shutdown_kernel(now=now)
    else:
        return
    if keep_reason and provisioner is not None and provisioner.end_reason:
        provisioner = None
    async with ending(provisioner, reason, at):
        stopping = asyncio.ensure_future(stop)
        try:
            await asyncio.shield(stopping)
        except asyncio.CancelledError:
            # The host is stopping (its tasks are cancelled) while this kernel stops. A
            # shutdown cut halfway leaves jupyter_client waiting for it for ever (the kernel
            # manager's ready future is never set, and the server's own shutdown then fails),
            # so it is let finish, with its reason, before the cancellation goes on.
            await _finish(stopping)
            raise


async def _finish(stopping: asyncio.Future) -> None:
    """Wait for ``stopping`` however often the waiter is cancelled. Its own failure is the
    kernel manager's to log; what goes on from here is the cancellation."""
    while not stopping.done():
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.shield(stopping)
