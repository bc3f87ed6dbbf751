"""Environment fingerprints of runs: the kernel-side probe, its parsers, and the capture."""

from .parse import SCHEMA_VERSION, assemble, diff_packages, packages_hash

__all__ = ["SCHEMA_VERSION", "assemble", "diff_packages", "packages_hash"]
