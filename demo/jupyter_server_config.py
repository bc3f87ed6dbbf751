"""Server config for the demo (`make start`): JupyterLab with the demo catalog and sample grants.

The catalog is the extension's default (Local CPU, simulated RTX 4090 and H200);
the ledger is the default SQLite file in the Jupyter data directory, so a
papermill run from a terminal is metered into the same ledger.
"""

import os
from pathlib import Path

c = get_config()  # noqa: F821 - provided by traitlets when this file is loaded

here = Path(__file__).parent
c.ServerApp.root_dir = str(here / "notebooks")
c.ServerApp.allow_root = os.geteuid() == 0
c.ServerApp.open_browser = False
# New notebooks start on the free tier, metered like every other tier.
c.MappingKernelManager.default_kernel_name = "compute-panel-local-cpu-python3"
