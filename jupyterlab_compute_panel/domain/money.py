"""Exact money: amounts are integer micro-units of their currency (1e-6).

Prices, budgets and costs never pass through binary floats. A run's cost is its
rate times its duration in milliseconds, rounded half-up to one micro-unit, so
that every total is an integer sum of the costs it covers.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MICROS = 1_000_000
MS_PER_HOUR = 3_600_000
# Amounts are stored as 64-bit integers of micro-units: keep well inside that range.
MAX_AMOUNT = Decimal(10) ** 12
_MICRO = Decimal(1).scaleb(-6)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class MoneyError(ValueError):
    """A value that is not a valid amount of money."""


def parse_amount(value: object, *, allow_negative: bool = False) -> int:
    """Parse a decimal amount (string, int, Decimal) into integer micro-units.

    A float is accepted only through its shortest repr (what the admin typed in a
    Python config file), so ``0.1`` means exactly one tenth.
    """
    if isinstance(value, bool) or value is None:
        raise MoneyError(f'must be a decimal amount such as "0.50", got {value!r}')
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise MoneyError(f'must be a decimal amount such as "0.50", got {value!r}') from None
    if not amount.is_finite():
        raise MoneyError(f"must be a finite amount, got {value!r}")
    if amount < 0 and not allow_negative:
        raise MoneyError(f"must not be negative, got {value!r}")
    if abs(amount) >= MAX_AMOUNT:
        raise MoneyError(f"must be less than {MAX_AMOUNT:f} in magnitude, got {value!r}")
    # Bounded amounts quantize exactly (at most 19 digits), and Decimal comparison is
    # exact, so a digit beyond the sixth place is never rounded away silently.
    exact = amount.quantize(_MICRO)
    if exact != amount:
        raise MoneyError(f"has more than 6 decimal places: {value!r}")
    return int(exact.scaleb(6))


def quoted_amount(value: object) -> int:
    """A provider's quoted price (a decimal string, or a JSON number read as Decimal) in
    integer micro-units, rounded half-up to one micro-unit: provider lists quote more
    places than the ledger keeps (0.3486666 an hour). Never through a binary float."""
    if isinstance(value, bool) or isinstance(value, float) or value is None:
        raise MoneyError(f"must be a decimal amount, got {value!r}")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise MoneyError(f"must be a decimal amount, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise MoneyError(f"must be a finite amount, not negative, got {value!r}")
    if amount >= MAX_AMOUNT:
        raise MoneyError(f"must be less than {MAX_AMOUNT:f}, got {value!r}")
    return int(amount.quantize(_MICRO, rounding=ROUND_HALF_UP).scaleb(6))


def parse_currency(value: object) -> str:
    if not isinstance(value, str) or not _CURRENCY.match(value):
        raise MoneyError(f'must be a three-letter ISO 4217 code such as "USD", got {value!r}')
    return value


def to_decimal(micros: int) -> Decimal:
    return Decimal(micros).scaleb(-6)


def format_amount(micros: int, min_places: int = 2) -> str:
    """Render micro-units as a decimal string, keeping every significant digit."""
    text = format(to_decimal(micros).normalize(), "f")
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0")
    if len(frac) < min_places:
        frac = frac + "0" * (min_places - len(frac))
    return f"{whole}.{frac}" if frac else whole


def display_amount(micros: int) -> str:
    """Micro-units as the views show money: two decimals, or two significant digits below a
    cent (``0.00014``), rounded half away from zero; the exact figure is ``format_amount``'s."""
    sign = "-" if micros < 0 else ""
    value = abs(micros)
    places = 2
    if 0 < value < 10_000:  # 10,000 micro-units are a cent
        places = min(6, max(3, 8 - len(str(value))))
    step = 10 ** (6 - places)
    rounded = (value + step // 2) // step
    if places > 2 and rounded * step >= 10_000:  # rounded up to a whole cent
        places, step = 2, 10_000
        rounded = (value + step // 2) // step
    scale = 10**places
    return f"{sign if rounded else ''}{rounded // scale}.{rounded % scale:0{places}d}"


def cost_micros(rate_micros_per_hour: int, duration_ms: int) -> int:
    """Cost of ``duration_ms`` at an hourly rate, rounded half-up to a micro-unit."""
    if duration_ms <= 0 or rate_micros_per_hour <= 0:
        return 0
    exact = Decimal(rate_micros_per_hour) * Decimal(duration_ms) / Decimal(MS_PER_HOUR)
    return int(exact.to_integral_value(rounding=ROUND_HALF_UP))
