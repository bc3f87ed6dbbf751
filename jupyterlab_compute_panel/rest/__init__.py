"""The REST API under /compute-panel/ (see ``openapi.yaml``): one module per resource,
each a list of thin handlers over the metering service; hosts mount ``handlers()``."""

from __future__ import annotations

from typing import Any

from . import dashboard, grants, meta, reproduce, runs


def handlers() -> list[tuple[str, Any]]:
    return [*meta.handlers, *grants.handlers, *runs.handlers, *dashboard.handlers, *reproduce.handlers]
