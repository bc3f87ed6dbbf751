"""The package's version, as a leaf module that every layer may import."""

try:
    from ._version import __version__
except ImportError:  # pragma: no cover - only in a source tree that was never built
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
