"""The embedded host: the ``ComputePanel`` server extension of the user's own Jupyter server.

It builds the metering service from its settings (``metering.config``, whose traits it
inherits: every admin knob is a ``c.ComputePanel.*`` traitlet) with the server's kernel,
contents and kernelspec managers, attaches it to the kernel manager, mounts the REST
handlers, and starts and stops the service's background work with the server. A bad
setting disables the extension with one readable line; the server still starts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, TraitError

from ..about import __version__
from ..domain.catalog import CatalogError
from ..errors import ConfigError
from ..ledger import LedgerError
from ..metering.budget import BUDGET_EVENT_SCHEMA
from ..metering.config import ComputePanelSettings, trait_error_line
from ..metering.kernelspecs import KernelspecError
from ..metering.remote.backends import installed_provisioners
from ..metering.service import RUN_EVENT_SCHEMA
from ..rest import handlers as rest_handlers
from . import channels, kernels, lab, sessions

__all__ = ["ComputePanel", "ConfigError", "frontend_mismatch", "installed_provisioners"]


class ComputePanel(ExtensionApp, ComputePanelSettings):
    """Compute tiers, metering and grants for JupyterLab."""

    name = "jupyterlab_compute_panel"
    description = "Move notebooks between compute tiers; meter every paid kernel-second to a grant."
    load_other_extensions = True

    lab_mode = Bool(
        False,
        config=True,
        help="Lab mode under JupyterHub: the lab's compute gateway (GatewayClient.url) meters; this "
        "server holds no ledger, node key or catalog, proxies /compute-panel/* to the gateway with the "
        "user's Hub token and mixes its local kernels with the gateway's (docs/deployment.md).",
    )

    _link_error: str | None = None
    _lab_gateway: str | None = None

    def _link_jupyter_server_extension(self, serverapp: Any) -> None:
        # A wrongly typed setting (heartbeat_interval='fast') must disable the extension
        # with one line, not load it with none of its settings (a ledger in the wrong place).
        try:
            super()._link_jupyter_server_extension(serverapp)
        except TraitError as e:
            self.serverapp = serverapp
            self._link_error = trait_error_line(e)
            self._linked = True

    def initialize_settings(self) -> None:
        serverapp = self.serverapp
        try:
            if self._link_error:
                raise ConfigError(self._link_error)
            if self.lab_mode:
                missing = lab.not_configured(serverapp)
                if missing:
                    raise ConfigError(missing)
                self._lab_gateway = lab.gateway_url(serverapp)
                lab.attach_refusals(serverapp.kernel_manager)
                self.settings.update(
                    compute_panel_service=None,
                    compute_panel_error=None,
                    compute_panel_gateway_url=self._lab_gateway,
                )
                self.log.info("compute-panel: lab mode, tiers and spend from the gateway at %s", self._lab_gateway)
                return
            gateway = getattr(serverapp, "gateway_config", None)
            if gateway is not None and gateway.gateway_enabled:
                raise ConfigError(
                    f"this server sends its kernels to a gateway (GatewayClient.url = {gateway.url}), so it "
                    "meters none of them; set ComputePanel.lab_mode = True for the lab's compute gateway (docs/deployment.md)"
                )
            serverapp.event_logger.register_event_schema(RUN_EVENT_SCHEMA)
            serverapp.event_logger.register_event_schema(BUDGET_EVENT_SCHEMA)
            service = self.build_service(
                serverapp.kernel_spec_manager,
                serverapp.event_logger,
                root_dir=serverapp.root_dir,
                kernel_manager=serverapp.kernel_manager,
                contents_manager=serverapp.contents_manager,
                log=self.log,
            )
            service.recover()
        except (CatalogError, ConfigError, LedgerError, KernelspecError) as e:
            self._disable(e)
            return
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else ""
            self._disable(
                RuntimeError(
                    f"unexpected error while loading ({type(e).__name__}{': ' + first if first else ''}); "
                    "the server runs without compute tiers"
                )
            )
            self.log.debug("compute-panel: the error while loading", exc_info=True)
            return
        kernels.attach(serverapp.kernel_manager, service)
        self.settings.update(compute_panel_service=service, compute_panel_error=None)
        mismatch = frontend_mismatch()
        if mismatch:
            self.log.warning("jupyterlab-compute-panel: %s", mismatch)
        self.log.info(
            "compute-panel: %d tiers, ledger %s, billing as %r",
            len(service.catalog),
            service.ledger_location,
            service.owner,
        )

    def _disable(self, error: Exception) -> None:
        self.log.error("jupyterlab-compute-panel is disabled: %s", error)
        kernels.attach(self.serverapp.kernel_manager, error)
        self.settings.update(compute_panel_service=None, compute_panel_error=str(error))

    def initialize_handlers(self) -> None:
        if self._lab_gateway:
            self.handlers.extend(lab.handlers)
            # A restart the gateway refuses is a 403 with its sentence here too.
            self.handlers.extend(sessions.restart_handlers)
            return
        self.handlers.extend(rest_handlers())
        # A kernel's websocket whose client left while it was prepared ends quietly, not in a 500.
        self.handlers.extend(channels.handlers)
        if self.settings.get("compute_panel_service") is not None:
            # Mounted before jupyter_server's own handlers of these routes: a refused start is a 403 there too.
            self.handlers.extend(sessions.handlers)

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        service = self.settings.get("compute_panel_service")
        if service is not None:
            service.start()

    async def stop_extension(self) -> None:
        # Kernels are shut down after extensions stop: the ledger stays open for them.
        service = self.settings.get("compute_panel_service")
        if service is not None:
            await service.stop()


def frontend_mismatch() -> str | None:
    """One line if the labextension JupyterLab will load is not this server extension's version."""
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("labextensions"):
        manifest = Path(folder) / "jupyterlab-compute-panel" / "package.json"
        if manifest.is_file():
            try:
                version = json.loads(manifest.read_text(encoding="utf-8")).get("version")
            except (OSError, ValueError):
                return f"{manifest} cannot be read: reinstall jupyterlab_compute_panel"
            if version != __version__:
                return (
                    f"the front end in {manifest.parent} is version {version} but the server extension is "
                    f"{__version__}: reinstall jupyterlab_compute_panel so that both match"
                )
            return None
    return "the front end (labextension jupyterlab-compute-panel) is not installed: the compute panel will not show"
