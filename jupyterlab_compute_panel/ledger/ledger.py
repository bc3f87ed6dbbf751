"""The Ledger: one object over one database, composed of one part per concern.

Synchronous ledger operations. Callers off the event loop only (see service.py).
"""

from __future__ import annotations

from .alerts import AlertsMixin
from .environments import EnvironmentsMixin
from .grants import GrantsMixin
from .run_queries import RunQueriesMixin
from .runs import RunsMixin
from .spend import SpendMixin
from .tiers import TiersMixin


class Ledger(
    TiersMixin,
    GrantsMixin,
    RunsMixin,
    RunQueriesMixin,
    SpendMixin,
    AlertsMixin,
    EnvironmentsMixin,
):
    """The runs, grants and bindings in one database.

    Each part derives from ``engine.LedgerBase`` (the engine, sessions and schema) and
    keeps to its concern: ``tiers``, ``grants`` (with members and bindings), ``runs`` (open,
    reserve, launch, heartbeat, close), ``run_queries``, ``spend`` (with the rollup rows that
    closing a run writes), ``alerts`` (budget status and alerts), ``environments``.
    """
