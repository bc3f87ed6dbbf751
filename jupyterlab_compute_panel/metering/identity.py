"""Who is asking: the acting user of the request (or kernel start) being served.

The metering core does not know which process hosts it. The embedded host (a user's own
Jupyter server) serves one person and leaves ``ACTING_USER`` unset: the configured
``ComputePanel.owner`` acts. A host that serves many people (the lab's compute gateway)
sets it per request from an identity the client cannot forge (a Hub token), before any
route or kernel start runs. A context variable is copied into every task created while
it is set, so a kernel started by a request (jupyter_client starts it in a task of its
own) still knows who launched it; nothing is read from the kernel's environment.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

ACTING_USER: ContextVar[str | None] = ContextVar("compute_panel_acting_user", default=None)
# Whether the acting user administers every grant (a host's own knowledge, e.g. a Hub group).
ACTING_ADMIN: ContextVar[bool] = ContextVar("compute_panel_acting_admin", default=False)


def acting_user(configured: str) -> str:
    """The user the current request acts as: the host's, else the configured owner."""
    return ACTING_USER.get() or configured


@contextmanager
def acting_as(user: str, *, admin: bool = False) -> Iterator[None]:
    """Run a block (a test, a host's background step) as ``user``."""
    token = ACTING_USER.set(user)
    admin_token = ACTING_ADMIN.set(admin)
    try:
        yield
    finally:
        ACTING_ADMIN.reset(admin_token)
        ACTING_USER.reset(token)
