"""``jupyter compute-panel gateway --config FILE``: the compute gateway's process.

A ``KernelGatewayApp`` whose kernel manager records owners (``kernels.py``), whose
identity is the Hub's (``auth.py``), and which hosts the metering service built from the
``c.ComputePanel.*`` section exactly as the embedded host builds it, with the REST
handlers of ``rest/`` at ``/compute-panel/*``. At start it closes the runs a killed
gateway left open (at their last heartbeat) and stops the kernel processes it left; at
stop it shuts its kernels down, then the service's background work. A bad setting is
one line on stderr and exit status 2.
"""

from __future__ import annotations

import sys
from typing import Any

from jupyter_core.paths import jupyter_data_dir
from kernel_gateway.gatewayapp import KernelGatewayApp
from traitlets import Bool, TraitError, Unicode, default

from ...domain.catalog import CatalogError
from ...errors import ConfigError
from ...ledger import LedgerError
from ...metering.config import ComputePanelSettings, trait_error_line
from ...metering.kernelspecs import KernelspecError
from ...rest import handlers as rest_handlers
from .. import kernels as host_kernels
from .auth import HubIdentityProvider, OwnerAuthorizer
from .kernels import LOCAL_PROVISIONERS, GatewayKernelManager

NAME = "jupyterlab_compute_panel"


class ComputeGatewayApp(KernelGatewayApp):
    name = "jupyter-compute-panel-gateway"
    description = "The lab's compute gateway: metered tier kernels for every user of a JupyterHub."

    state_dir = Unicode(help="Folder (mode 700) of the gateway's record of running kernels.").tag(config=True)
    allow_local_tiers = Bool(
        False,
        help="Let tiers run kernels on the gateway's own machine, as the gateway's account. Such a kernel "
        "runs a student's code beside the gateway's secrets: for a trial or a test only.",
    ).tag(config=True)

    @default("list_kernels")
    def _default_list_kernels(self) -> bool:
        return True  # each user's own kernels (OwnKernelsHandler): their server lists them

    @default("state_dir")
    def _default_state_dir(self) -> str:
        return f"{jupyter_data_dir()}/compute_panel/gateway"

    @default("api")
    def _default_api(self) -> str:
        return "jupyterlab_compute_panel.hosts.gateway.kernels"

    @default("kernel_manager_class")
    def _default_kernel_manager_class(self) -> type:
        return GatewayKernelManager

    @default("identity_provider_class")
    def _default_identity_provider_class(self) -> type:
        return HubIdentityProvider

    @default("authorizer_class")
    def _default_authorizer_class(self) -> type:
        return OwnerAuthorizer

    def init_configurables(self) -> None:
        super().init_configurables()
        self.kernel_manager.state_dir = self.state_dir
        settings = ComputePanelSettings.from_server_config(self.config)
        settings.check_settings()
        if not self.allow_local_tiers:
            local = [t.id for t in settings.load_catalog() if t.backend.provisioner in LOCAL_PROVISIONERS]
            if local:
                raise ConfigError(
                    f"tier {local[0]!r} runs its kernels on the gateway's own machine, as the gateway's account, "
                    "beside its secrets: give it an SSH or Kubernetes backend "
                    "(or set ComputeGatewayApp.allow_local_tiers = True for a trial)"
                )
        self.service = settings.build_service(
            self.kernel_spec_manager, None, kernel_manager=self.kernel_manager, log=self.log
        )
        self.service.recover()
        catalog = self.service.catalog
        self.kernel_manager.stop_left_behind(lambda tier_id: t.backend if (t := catalog.get(tier_id)) else None)
        host_kernels.attach(self.kernel_manager, self.service)

    def init_webapp(self) -> None:
        super().init_webapp()
        settings = self.web_app.settings
        settings.update(compute_panel_service=self.service, compute_panel_error=None, config=self.config)
        settings[NAME] = self
        settings[f"{NAME}_config"] = self.config
        settings["serverapp"] = self
        self.web_app.add_handlers(".*$", [(pattern, cls, {"name": NAME}) for pattern, cls in rest_handlers()])

    def start_app(self) -> None:
        super().start_app()
        self.io_loop.add_callback(self.service.start)
        self.log.info(
            "compute-gateway: %d tiers, ledger %s, identity from the Hub at %s",
            len(self.service.catalog),
            self.service.ledger_location,
            self.identity_provider.hub_auth.api_url,
        )

    async def _stop(self) -> None:
        await self.kernel_manager.shutdown_all()
        await self.service.stop()
        await super()._stop()


def main(argv: list[str] | None = None) -> int:
    try:
        app = ComputeGatewayApp.instance()
        # traitlets' catch_config_error would log a bad setting and exit 1: ours is one line, exit 2.
        initialize = getattr(ComputeGatewayApp.initialize, "__wrapped__", ComputeGatewayApp.initialize)
        initialize(app, argv)
    except (CatalogError, ConfigError, LedgerError, KernelspecError) as e:
        print(f"jupyter compute-panel gateway: {e}", file=sys.stderr)
        return 2
    except TraitError as e:
        print(f"jupyter compute-panel gateway: {trait_error_line(e)}", file=sys.stderr)
        return 2
    app.start()
    return 0


def launch(argv: list[str] | None = None) -> Any:
    sys.exit(main(argv))
