"""The metering core's settings (traitlets, the ``ComputePanel`` config section) and the
one function that builds a complete ``MeteringService`` from them.

Every host reads the same section: the embedded server extension (``hosts/app.py``, an
``ExtensionApp`` that inherits these traits), the CLI and a kernel started outside any
server (nbclient, papermill: ``standalone_service``), so one ``jupyter_server_config.py``
configures them all. A bad setting is one readable line (ConfigError).
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_core.application import JupyterApp
from jupyter_core.paths import jupyter_data_dir
from traitlets import Bool, Dict, Float, Int, List, TraitError, Unicode, default
from traitlets.config import Config, Configurable

from ..domain.catalog import DEMO_CATALOG, Catalog, CatalogError, parse_catalog, read_catalog_file
from ..errors import ConfigError
from ..ledger import Ledger, LedgerError, LedgerUnreachable
from . import kernelspecs
from .prices import with_last_good_rates
from .remote.backends import installed_provisioners
from .service import MeteringService, MeteringSettings

SECTION = "ComputePanel"


class ComputePanelSettings(Configurable):
    """Compute tiers, metering and grants: every admin knob (``c.ComputePanel.*``)."""

    catalog_file = Unicode(
        None,
        allow_none=True,
        help="YAML or JSON file with the tier catalog ({'tiers': [...]}). "
        "Default: the demo catalog (Local CPU, simulated RTX 4090 and H200).",
    ).tag(config=True)
    tiers = List(
        Dict(),
        default_value=None,
        allow_none=True,
        help="The tier catalog inline, as a list of tier mappings (instead of catalog_file).",
    ).tag(config=True)
    base_kernels = List(
        Unicode(),
        default_value=["python3"],
        help="Kernelspecs to derive a tier kernelspec from, for every tier.",
    ).tag(config=True)
    db_url = Unicode(
        help="SQLAlchemy URL of the ledger. Default: SQLite (WAL) in the Jupyter data directory. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    ).tag(config=True)
    heartbeat_interval = Float(
        15.0, help="Seconds between heartbeats of running kernels; at most this much is lost when a server dies."
    ).tag(config=True)
    reconcile_interval = Float(60.0, help="Seconds between sweeps that close runs whose heartbeats stopped.").tag(
        config=True
    )
    idle_check_interval = Float(
        30.0, help="Seconds between checks for idle kernels on paid tiers (see each tier's idle_timeout_s)."
    ).tag(config=True)
    idle_warning = Float(
        300.0,
        help="Seconds before an idle paid kernel is shut down that the browser is warned (with a 'keep it' action). "
        "At most the tier's idle timeout.",
    ).tag(config=True)
    budget_countdown = Float(
        300.0,
        help="Seconds before a grant with hard_stop runs out, at the current burn of its kernels, that those "
        "kernels show a countdown (with 'Move to Local CPU') before they are stopped with end reason budget. "
        "0: no countdown. At least heartbeat_interval, or a kernel may be stopped without one.",
    ).tag(config=True)
    owner = Unicode(
        help="User that runs are billed as. Default: $JUPYTERHUB_USER under JupyterHub, else the OS login name. "
        "A standalone server's token-login users are anonymous, so money is never keyed on them."
    ).tag(config=True)
    default_grant = Unicode(
        None, allow_none=True, help="Grant charged when a notebook has none chosen and COMPUTE_PANEL_GRANT is unset."
    ).tag(config=True)
    admins = List(
        Unicode(),
        default_value=[],
        help="Users who see every grant and run and may edit any grant's budget and members.",
    ).tag(config=True)
    kernelspec_dir = Unicode(
        help="Folder the tier kernelspecs are written to (a Jupyter kernels folder). Default: the user data dir's kernels/."
    ).tag(config=True)
    write_kernelspecs = Bool(
        True, help="Write the tier kernelspecs at start-up (turn off when an admin installs them with the CLI)."
    ).tag(config=True)

    rerun_folder = Unicode(
        "",
        help="Folder (relative to the server root) for the executed copies of re-runs. Default: beside the notebook.",
    ).tag(config=True)
    rerun_time_limit = Int(3600, help="Seconds a re-run may take when its request names no limit.").tag(config=True)
    rerun_max_time_limit = Int(86400, help="The longest time limit a re-run may ask for, in seconds.").tag(config=True)
    price_refresh_interval = Float(
        3600.0,
        help="Seconds between readings of the price lists that tiers name in price.list. A list that cannot be "
        "read or is malformed leaves the tier at its last good rate.",
    ).tag(config=True)
    availability_interval = Float(
        30.0,
        help="Seconds between checks of the nodes of remote (SSH) tiers: reachable, host key, kernels running "
        "against max_kernels. Shown on the tier cards; a tier with no free node cannot be chosen.",
    ).tag(config=True)
    capture_environment = Bool(
        True,
        help="Capture an environment fingerprint of every run when its kernel is first ready: Python, packages, "
        "frameworks, CUDA, GPUs, CPU, host, the notebook's hash and git state (GET /compute-panel/runs/{id}/environment).",
    ).tag(config=True)
    environment_timeout = Float(
        20.0,
        help="Seconds the kernel-side probe of an environment capture may take before what it has is recorded as "
        "partial; also how long a kernel busy with the user's cells is waited for before a partial record is saved.",
    ).tag(config=True)
    ledger_outage_grace = Float(
        900.0,
        help="Seconds paid kernels keep running while the ledger's database is unreachable (stopped, read-only, "
        "disk full): their heartbeats are held in memory and written when it returns. Past it they are stopped "
        "with end reason ledger_unreachable, billed to their last held heartbeat. 0: stop them at the first "
        "failed heartbeat. Budgets cannot be enforced meanwhile, so a grant may overspend by this much of its burn.",
    ).tag(config=True)

    @default("db_url")
    def _default_db_url(self) -> str:
        return f"sqlite:///{Path(jupyter_data_dir()) / 'compute_panel' / 'ledger.sqlite'}"

    @default("owner")
    def _default_owner(self) -> str:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()

    @default("kernelspec_dir")
    def _default_kernelspec_dir(self) -> str:
        return str(Path(jupyter_data_dir()) / "kernels")

    @default("db_url")
    def _default_db_url(self) -> str:
        return f"sqlite:///{Path(jupyter_data_dir()) / 'compute_panel' / 'ledger.sqlite'}"

    @default("owner")
    def _default_owner(self) -> str:
        return os.environ.get("JUPYTERHUB_USER") or getpass.getuser()

    @default("kernelspec_dir")
    def _default_kernelspec_dir(self) -> str:
        return str(Path(jupyter_data_dir()) / "kernels")

    @classmethod
    def from_server_config(cls, config: Config | None = None) -> ComputePanelSettings:
        """The settings of the ``ComputePanel`` section of the server's config files."""
        config = read_server_config() if config is None else config
        mine = Config()
        mine[cls.__name__] = config[SECTION] if SECTION in config else Config()
        return cls(config=mine)

    # -- building -------------------------------------------------------------
    def load_catalog(self) -> Catalog:
        known = installed_provisioners()
        if self.tiers is not None and self.catalog_file:
            raise ConfigError("ComputePanel: set either tiers or catalog_file, not both")
        if self.tiers is not None:
            return parse_catalog(list(self.tiers), known, "ComputePanel.tiers")
        return read_catalog_file(self.catalog_file or DEMO_CATALOG, known)

    def check_settings(self) -> None:
        if not 0.5 <= self.heartbeat_interval <= 3600:
            raise ConfigError(
                f"ComputePanel.heartbeat_interval: must be between 0.5 and 3600 seconds, got {self.heartbeat_interval}"
            )
        if not 1 <= self.reconcile_interval <= 86400:
            raise ConfigError(
                f"ComputePanel.reconcile_interval: must be between 1 and 86400 seconds, got {self.reconcile_interval}"
            )
        if not 0.1 <= self.idle_check_interval <= 3600:
            raise ConfigError(
                f"ComputePanel.idle_check_interval: must be between 0.1 and 3600 seconds, got {self.idle_check_interval}"
            )
        if not 0 <= self.idle_warning <= 86400:
            raise ConfigError(
                f"ComputePanel.idle_warning: must be between 0 and 86400 seconds, got {self.idle_warning}"
            )
        if not 0 <= self.budget_countdown <= 86400:
            raise ConfigError(
                f"ComputePanel.budget_countdown: must be between 0 and 86400 seconds, got {self.budget_countdown}"
            )
        if not 1 <= self.rerun_max_time_limit <= 30 * 86400:
            raise ConfigError(
                f"ComputePanel.rerun_max_time_limit: must be between 1 and {30 * 86400} seconds, got {self.rerun_max_time_limit}"
            )
        if not 1 <= self.rerun_time_limit <= self.rerun_max_time_limit:
            raise ConfigError(
                f"ComputePanel.rerun_time_limit: must be between 1 and rerun_max_time_limit ({self.rerun_max_time_limit}) seconds, got {self.rerun_time_limit}"
            )
        if self.rerun_folder.startswith("/") or ".." in self.rerun_folder.split("/"):
            raise ConfigError(
                f"ComputePanel.rerun_folder: must be a folder inside the server root, got {self.rerun_folder!r}"
            )
        if not 1 <= self.environment_timeout <= 600:
            raise ConfigError(
                f"ComputePanel.environment_timeout: must be between 1 and 600 seconds, got {self.environment_timeout}"
            )
        if not 10 <= self.price_refresh_interval <= 30 * 86400:
            raise ConfigError(
                f"ComputePanel.price_refresh_interval: must be between 10 and {30 * 86400} seconds, got {self.price_refresh_interval}"
            )
        if not 1 <= self.availability_interval <= 86400:
            raise ConfigError(
                f"ComputePanel.availability_interval: must be between 1 and 86400 seconds, got {self.availability_interval}"
            )
        if not 0 <= self.ledger_outage_grace <= 86400:
            raise ConfigError(
                f"ComputePanel.ledger_outage_grace: must be between 0 and 86400 seconds, got {self.ledger_outage_grace}"
            )
        if not self.owner.strip():
            raise ConfigError("ComputePanel.owner: must not be empty")
        if not self.base_kernels:
            raise ConfigError("ComputePanel.base_kernels: name at least one kernelspec, e.g. ['python3']")

    def metering_settings(self) -> MeteringSettings:
        return MeteringSettings(
            heartbeat_interval=self.heartbeat_interval,
            reconcile_interval=self.reconcile_interval,
            budget_countdown=self.budget_countdown,
            idle_check_interval=self.idle_check_interval,
            idle_warning=self.idle_warning,
            capture_environment=self.capture_environment,
            environment_timeout=self.environment_timeout,
            price_refresh_interval=self.price_refresh_interval,
            availability_interval=self.availability_interval,
            rerun_folder=self.rerun_folder,
            rerun_time_limit=self.rerun_time_limit,
            rerun_max_time_limit=self.rerun_max_time_limit,
            ledger_outage_grace=self.ledger_outage_grace,
        )

    def build_service(
        self,
        ksm: KernelSpecManager | None,
        event_logger: Any = None,
        write: bool = True,
        root_dir: str | None = None,
        kernel_manager: Any = None,
        contents_manager: Any = None,
        log: Any = None,
    ) -> MeteringService:
        """Validate the settings, open and migrate the ledger, derive (and write) the
        kernelspecs, and return the complete service (its background work not started)."""
        self.check_settings()
        catalog = self.load_catalog()
        names: dict[str, dict[str, str]] = {
            t.id: {b: kernelspecs.kernelspec_name(t.id, b) for b in self.base_kernels} for t in catalog
        }
        if ksm is not None:
            base, missing = kernelspecs.base_kernelspecs(ksm, list(self.base_kernels))
            if missing:
                installed = ", ".join(
                    sorted(n for n in ksm.find_kernel_specs() if not n.startswith(kernelspecs.PREFIX))
                )
                raise ConfigError(
                    f"ComputePanel.base_kernels: no kernelspec named {missing[0]!r} (installed: {installed or 'none'})"
                )
            if write and self.write_kernelspecs:
                changed = kernelspecs.sync(kernelspecs.derive(catalog, base), base, Path(self.kernelspec_dir))
                if changed and log is not None:
                    log.info(
                        "compute-panel: tier kernelspecs updated in %s: %s", self.kernelspec_dir, ", ".join(changed)
                    )
        ledger = Ledger(self.db_url)
        try:
            ledger.migrate()
            catalog = with_last_good_rates(catalog, ledger.last_rate)
            ledger.sync_tiers(catalog)
        except LedgerError:
            raise
        except LedgerUnreachable as e:
            raise LedgerError(f"ComputePanel.db_url: cannot open the ledger ({e.why})") from None
        except Exception as e:  # noqa: BLE001 - an unreachable database is one line, not a traceback
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise LedgerError(f"ComputePanel.db_url: cannot open the ledger ({first})") from None
        return MeteringService(
            catalog=catalog,
            ledger=ledger,
            owner=self.owner,
            settings=self.metering_settings(),
            default_grant=self.default_grant,
            admins=set(self.admins),
            kernelspec_names=names,
            kernel_manager=kernel_manager,
            contents_manager=contents_manager,
            event_logger=event_logger,
            log=log,
            root_dir=root_dir,
        )


def trait_error_line(error: TraitError) -> str:
    """'ComputePanel.heartbeat_interval: The ... expected a float, not the str 'fast'.'"""
    text = str(error).strip().splitlines()[0]
    match = re.search(r"The '(\w+)' trait(?: of an? (\w+) instance)?", text)
    if not match:
        return f"ComputePanel: {text}"
    owner = match.group(2) if match.group(2) and match.group(2) != "ComputePanelSettings" else "ComputePanel"
    return f"{owner}.{match.group(1)}: {text}"


class ServerConfigReader(JupyterApp):
    """Reads the same config files as ``jupyter server`` (for the CLI and nbclient)."""

    name = "jupyter-compute-panel"

    @default("config_file_name")
    def _config_file_name_default(self) -> str:
        return "jupyter_server_config"


def read_server_config() -> Config:
    reader = ServerConfigReader()
    reader.load_config_file()
    return reader.config


__all__ = ["CatalogError", "ComputePanelSettings", "ConfigError", "read_server_config", "trait_error_line"]
