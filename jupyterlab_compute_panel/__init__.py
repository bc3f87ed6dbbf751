"""jupyterlab-compute-panel: compute tiers, metering and grants for JupyterLab."""

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - only in a source tree that was never built
    __version__ = "0.0.0+unknown"


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "jupyterlab-compute-panel"}]


def _jupyter_server_extension_points():
    from .hosts.app import ComputePanel

    return [{"module": "jupyterlab_compute_panel", "app": ComputePanel}]
