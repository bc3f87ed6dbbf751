"""The package's version, as a leaf module that every layer may import.

Read from the installed distribution rather than the generated ``_version.py``: a source
tree that was never built has no such file, and import-linter would then read the
relative import as one of the package itself (which imports the host).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("jupyterlab_compute_panel")
except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
