"""Errors of the metering core, with no dependency of their own (a leaf of every layer).

Each class says what kind of refusal it is, not how a host shows it: the REST layer's
base handler maps them to HTTP statuses in one place (``rest/base.py``), the CLI prints
their message, and the embedded host turns a refused kernel start into jupyter_server's
403 (``hosts/kernels.py``), or its 503 when a part the start needs is away. Every message
is one sentence in the user's words; ``field`` names the part of the request at fault,
where there is one.
"""

from __future__ import annotations


class ComputePanelError(Exception):
    """A refused operation: one readable message, and the field at fault (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        Exception.__init__(self, message)  # not super(): a host may mix in its own error class
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class BadRequest(ComputePanelError):
    """The request is malformed: an unknown field, a missing one, the wrong shape."""


class Invalid(ComputePanelError):
    """A value that is well-formed but not acceptable (a date range, an unknown tier)."""


class Forbidden(ComputePanelError):
    """The user may not do this (their role on a grant, an admin-only action)."""


class NotFound(ComputePanelError):
    """Nothing by that id that this user may see (alike whether it exists or not)."""


class Conflict(ComputePanelError):
    """The thing is in a state that does not allow it (an ended re-run, a duplicate id)."""


class Unavailable(ComputePanelError):
    """A part is away (the extension is disabled, a node, the ledger); says what still works."""


class LaunchRefused(Forbidden):
    """A kernel start refused by policy (no grant, not a member, the budget): one human
    sentence, which JupyterLab, nbclient and papermill show as it is."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


class LaunchUnavailable(Unavailable, LaunchRefused):
    """A kernel start refused because a part it needs is away (the ledger's database), not
    by policy: hosts answer it as unavailable (503, ``Unavailable`` first in its bases), with
    the same one sentence."""


class ConfigError(ValueError):
    """A bad setting (``ComputePanel.*``); the message is one readable line."""


class TooLarge(ComputePanelError):
    """A request body over the size the API accepts."""
