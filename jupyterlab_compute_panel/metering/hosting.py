"""How a kernel's provisioner finds the metering service of the process that hosts it.

A host (the embedded server extension, the lab's gateway) ``attach``-es its service, or
the reason it has none, to its multi-kernel manager; each kernel's provisioner asks
``service_for`` its kernel manager's parent: two fixed hops, no search. A kernel with
no such parent runs outside any server (nbclient, papermill): it is metered by the
process's standalone service, built once per process from the server's config files
(so that every kernel of one notebook run shares one meter and one database pool), with
the tier kernelspecs left as the server wrote them. Such a process (papermill, ``jupyter
execute``, a script) reports a refused start as one line on stderr, not a traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from traitlets import TraitError

from ..domain.catalog import CatalogError
from ..errors import ConfigError, LaunchRefused
from ..ledger import LedgerError

ATTRIBUTE = "compute_panel_service"
# One standalone service per process and config location (tests change JUPYTER_CONFIG_DIR).
_standalone: dict[str, Any] = {}


def attach(kernel_manager: Any, service: Any) -> None:
    """Make ``service`` (or an Exception: why the extension is disabled) the one that meters
    the kernels of ``kernel_manager`` (a jupyter_client MultiKernelManager)."""
    setattr(kernel_manager, ATTRIBUTE, service)


def service_for(kernel_manager: Any) -> Any:
    """The service metering a kernel of ``kernel_manager`` (the kernel's own KernelManager):
    a MeteringService, or an Exception saying why there is none."""
    owner = getattr(kernel_manager, "parent", None)
    if owner is not None and hasattr(owner, "list_kernel_ids"):
        attached = getattr(owner, ATTRIBUTE, None)
        return attached if attached is not None else RuntimeError("the extension is not loaded")
    return standalone_service()


def standalone_service() -> Any:
    """The service for kernels started outside a Jupyter server (or the reason there is none)."""
    key = os.environ.get("JUPYTER_CONFIG_DIR", "") + "|" + os.environ.get("JUPYTER_CONFIG_PATH", "")
    if key not in _standalone:
        from .config import ComputePanelSettings, trait_error_line

        try:
            service = ComputePanelSettings.from_server_config().build_service(None, write=False)
            service.reconcile_at_start()
        except (CatalogError, ConfigError, LedgerError) as e:
            return e
        except TraitError as e:
            return ConfigError(trait_error_line(e))
        _standalone[key] = service
        _refusals_in_one_line()
    return _standalone[key]


class RefusalsInOneLine(logging.Filter):
    """jupyter_client logs every failed start with its traceback: a refused start is routine,
    so its record keeps the sentence and loses the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, LaunchRefused):
            record.exc_info = None
            record.exc_text = None
            error.logged = True  # type: ignore[attr-defined]
        return True


def refusals_in_one_line(log: logging.Logger | logging.LoggerAdapter) -> None:
    """Add the filter to the logger of a kernel's manager (once)."""
    logger = log.logger if isinstance(log, logging.LoggerAdapter) else log
    if not any(isinstance(f, RefusalsInOneLine) for f in logger.filters):
        logger.addFilter(RefusalsInOneLine())


def _refusals_in_one_line() -> None:
    """A refused start that nothing catches ends the process with its sentence on one line
    (the exit status stays 1), unless the kernel manager's log already said it; any other
    uncaught error is shown as before."""
    previous = sys.excepthook
    if getattr(previous, "compute_panel", False):
        return

    def excepthook(kind: type[BaseException], error: BaseException, tb: Any) -> None:
        if isinstance(error, LaunchRefused):
            if not getattr(error, "logged", False):
                sys.stderr.write(f"{error.sentence}\n")
            return
        previous(kind, error, tb)

    excepthook.compute_panel = True  # type: ignore[attr-defined]
    sys.excepthook = excepthook
