"""Refused starts answered as 403 on every path of jupyter_server's that starts a kernel.

jupyter_server turns any error of a session start into a 500 (``POST /api/sessions``),
a 501 with the sentence quoted inside its own (``PATCH /api/sessions/{id}``, JupyterLab's
*Change kernel*) and a 500 "Exception restarting kernel" (``POST /api/kernels/{id}/restart``).
A refused start is routine here, not a server fault: these subclasses of its handlers,
mounted at the same routes, answer it as ``POST /api/kernels`` does, 403 with the
sentence as ``message``. Everything else is jupyter_server's own code.

How the refusal is known: the kernel manager's start wrapper (``kernels.py``) records it
in a context variable of the request's task, and ``finish`` answers it when the
handler is about to send its 500 or 501. In lab mode the user's server mounts the
restart route only: its restart wrapper (``lab.py``) records the compute gateway's
refusal of a restart.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

from jupyter_server.services.kernels.handlers import KernelActionHandler
from jupyter_server.services.sessions.handlers import SessionHandler, SessionRootHandler

from ..errors import Unavailable

REFUSED: ContextVar[Any] = ContextVar("compute_panel_refused_start", default=None)


class AnswersRefusals:
    """Mixed into a handler of jupyter_server's (or Kernel Gateway's copy of one): the
    refused start recorded in ``REFUSED`` is its answer, not the handler's 500 or 501."""

    def finish(self, chunk: Any = None) -> Any:
        refusal = REFUSED.get()
        if refusal is not None and self.get_status() in (500, 501) and not self._finished:
            REFUSED.set(None)
            self.clear()
            # A part that is away (the ledger) is a 503, a refusal (no grant, the budget) a 403.
            away = isinstance(refusal, Unavailable)
            self.set_status(503 if away else 403)
            self.set_header("Content-Type", "application/json")
            reason = "unavailable" if away else "refused"
            return super().finish(json.dumps({"message": refusal.sentence, "reason": reason}))
        return super().finish(chunk)


class RefusalAwareSessionRootHandler(AnswersRefusals, SessionRootHandler):
    """``POST /api/sessions``: a notebook opened on a tier whose start is refused."""


class RefusalAwareSessionHandler(AnswersRefusals, SessionHandler):
    """``PATCH /api/sessions/{id}``: a kernel change whose start is refused."""


class RefusalAwareKernelActionHandler(AnswersRefusals, KernelActionHandler):
    """``POST /api/kernels/{id}/restart``: a restart whose start is refused."""


_SESSION_ID = r"(?P<session_id>\w+-\w+-\w+-\w+-\w+)"
_KERNEL_ID = r"(?P<kernel_id>\w+-\w+-\w+-\w+-\w+)"
restart_handlers = [(rf"/api/kernels/{_KERNEL_ID}/(?P<action>restart|interrupt)", RefusalAwareKernelActionHandler)]
handlers = [
    (r"/api/sessions", RefusalAwareSessionRootHandler),
    (rf"/api/sessions/{_SESSION_ID}", RefusalAwareSessionHandler),
    *restart_handlers,
]
