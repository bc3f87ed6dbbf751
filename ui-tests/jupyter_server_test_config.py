"""Server configuration for the galata tests.

!! Never use this configuration in production: it opens the server to the world
and exposes JupyterLab's JavaScript objects on the window for the tests.
"""

import os
from pathlib import Path

from jupyterlab.galata import configure_jupyter_server

configure_jupyter_server(c)  # noqa: F821

data = Path(os.environ.get("COMPUTE_PANEL_UI_DATA", Path(__file__).parent / ".ui-tests-data")).resolve()
c.ServerApp.allow_root = True  # noqa: F821
c.ServerApp.port = int(os.environ.get("UI_TESTS_PORT", "8888"))  # noqa: F821
# galata turns XSRF checks off (its own helpers send no _xsrf); the jest integration
# test src/__tests__/xsrf.integration.spec.ts proves our client with cookie login and XSRF on.
c.ComputePanel.db_url = f"sqlite:///{data / 'ledger.sqlite'}"  # noqa: F821
c.ComputePanel.heartbeat_interval = 2.0  # noqa: F821
c.ComputePanel.owner = "student"  # noqa: F821
c.MappingKernelManager.default_kernel_name = "compute-panel-local-cpu-python3"  # noqa: F821
