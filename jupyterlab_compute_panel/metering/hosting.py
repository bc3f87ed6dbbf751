"""How a kernel's provisioner finds the metering service of the process that hosts it.

A host (the embedded server extension, the lab's gateway) ``attach``-es its service, or
the reason it has none, to its multi-kernel manager; each kernel's provisioner asks
``service_for`` its kernel manager's parent: two fixed hops, no search. A kernel with
no such parent runs outside any server (nbclient, papermill): it is metered by the
process's standalone service, built once per process from the server's config files
(so that every kernel of one notebook run shares one meter and one database pool), with
the tier kernelspecs left as the server wrote them.
"""

from __future__ import annotations

import os
from typing import Any

from traitlets import TraitError

from ..domain.catalog import CatalogError
from ..errors import ConfigError
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
    return _standalone[key]
