"""The ledger: the truth about who ran what, where, for how long, at what rate."""

from .store import Ledger, LedgerError, RunView, utcnow

__all__ = ["Ledger", "LedgerError", "RunView", "utcnow"]
