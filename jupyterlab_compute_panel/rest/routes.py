"""Every route the extension serves, from the modules that define them."""

from __future__ import annotations

from typing import Any


def all_handlers() -> list[tuple[Any, ...]]:
    from .dashboard import dashboard_handlers
    from .handlers import default_handlers
    from .reproduce import reproduce_handlers

    return [*default_handlers, *dashboard_handlers, *reproduce_handlers]
