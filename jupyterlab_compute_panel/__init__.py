"""jupyterlab-compute-panel: compute tiers, metering and grants for JupyterLab."""

from .about import __version__

__all__ = ["__version__"]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyterlab-compute-panel"}]


def _jupyter_server_extension_points():
    from .hosts.app import ComputePanel

    return [{"module": "jupyterlab_compute_panel", "app": ComputePanel}]
