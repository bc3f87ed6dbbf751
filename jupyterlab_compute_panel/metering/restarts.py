"""Restarts refused by policy, remembered a while for the user who asked.

A restart is a new start: on a paid tier it is checked like any start, and may be
refused (the user became a viewer of the grant, the budget is spent). By then the old
kernel process is gone, so the host drops the kernel, and the refusal's sentence is kept
here under the kernel's id. JupyterLab catches a failed restart's error without handing
it to extensions; the front end asks ``GET /compute-panel/kernels/{id}/refusal`` for the
sentence. Nothing here is billing: a refused restart starts nothing, and its sentence
is forgotten after ``MEMORY`` (or when ``LIMIT`` newer ones are kept).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..errors import Unavailable
from ..ledger import iso, utcnow

# Long enough for the browser that asked for the restart to ask why it failed.
MEMORY = dt.timedelta(minutes=10)
LIMIT = 256


@dataclass(frozen=True)
class RefusedRestart:
    kernel_id: str
    user: str
    message: str
    unavailable: bool
    at: dt.datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "kernel_id": self.kernel_id,
            "message": self.message,
            "reason": "unavailable" if self.unavailable else "refused",
            "at": iso(self.at),
        }


class RefusedRestarts:
    """The recent refused restarts, by kernel id (one per kernel: the last)."""

    def __init__(self) -> None:
        self._by_kernel: dict[str, RefusedRestart] = {}

    def note(self, kernel_id: str, user: str, refusal: Exception) -> RefusedRestart:
        now = utcnow()
        self._forget_old(now)
        self._by_kernel.pop(kernel_id, None)
        entry = RefusedRestart(
            kernel_id=kernel_id,
            user=user,
            message=getattr(refusal, "sentence", None) or str(refusal),
            unavailable=isinstance(refusal, Unavailable),
            at=now,
        )
        self._by_kernel[kernel_id] = entry
        while len(self._by_kernel) > LIMIT:
            self._by_kernel.pop(next(iter(self._by_kernel)))
        return entry

    def get(self, kernel_id: str, user: str) -> RefusedRestart | None:
        """The kernel's refused restart if ``user`` asked for it (another user's is none)."""
        self._forget_old(utcnow())
        entry = self._by_kernel.get(kernel_id)
        return entry if entry is not None and entry.user == user else None

    def _forget_old(self, now: dt.datetime) -> None:
        for kernel_id, entry in list(self._by_kernel.items()):
            if now - entry.at > MEMORY:
                self._by_kernel.pop(kernel_id, None)
