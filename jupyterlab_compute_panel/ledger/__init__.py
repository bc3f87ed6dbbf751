"""The ledger: the truth about who ran what, where, for how long, at what rate.

This package's names are its whole surface for the layers above (the metering
service, and through it the REST layer and the CLI); ``ledger.models`` is the
schema that migrations and seeds write.
"""

from .alerts import AlertView, BudgetStatus
from .engine import MIGRATIONS, LedgerError, LedgerUnreachable, day_of, duration_ms, iso, outage_kind, utcnow
from .grants import GrantView
from .ledger import Ledger
from .reruns import RerunView, close_abandoned, create_rerun, get_rerun, list_reruns, rerun_for_run, update_rerun
from .rollups import NO_NOTEBOOK, burn_down, grant_rollup, spend_by, spend_by_month, spent_micros
from .run_queries import RUN_SORTS, RunFilter
from .runs import HOST, BudgetExhausted, RunView

__all__ = [
    "HOST",
    "MIGRATIONS",
    "NO_NOTEBOOK",
    "RUN_SORTS",
    "AlertView",
    "BudgetExhausted",
    "BudgetStatus",
    "GrantView",
    "Ledger",
    "LedgerError",
    "LedgerUnreachable",
    "RerunView",
    "RunFilter",
    "RunView",
    "burn_down",
    "close_abandoned",
    "create_rerun",
    "day_of",
    "duration_ms",
    "get_rerun",
    "grant_rollup",
    "iso",
    "list_reruns",
    "outage_kind",
    "rerun_for_run",
    "spend_by",
    "spend_by_month",
    "spent_micros",
    "update_rerun",
    "utcnow",
]
