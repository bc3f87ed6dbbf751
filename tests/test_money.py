"""Exact money: parsing, formatting and the cost of a run, never through binary floats."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_UP, Decimal

import pytest

from jupyterlab_compute_panel.domain.money import (
    MICROS,
    MS_PER_HOUR,
    MoneyError,
    cost_micros,
    display_amount,
    format_amount,
    parse_amount,
    parse_currency,
    to_decimal,
)


@pytest.mark.parametrize(
    ("value", "micros"),
    [
        ("0", 0),
        ("0.50", 500_000),
        ("3.50", 3_500_000),
        (" 12.25 ", 12_250_000),
        ("0.000001", 1),
        ("5000.00", 5_000_000_000),
        ("0.5000000", 500_000),  # trailing zeros past the sixth place are not precision
        ("1E+3", 1_000_000_000),
        ("999999999999.999999", 999_999_999_999_999_999),
        (0, 0),
        (3, 3_000_000),
        (Decimal("1.234567"), 1_234_567),
        (Decimal("0.1"), 100_000),
        # A float is read through its shortest repr: what the admin typed.
        (0.1, 100_000),
        (0.3, 300_000),
        (1.1, 1_100_000),
        (2.675, 2_675_000),
    ],
)
def test_parse_amount_accepts(value, micros):
    result = parse_amount(value)
    assert result == micros
    assert type(result) is int


def test_parse_amount_float_is_its_repr_not_its_binary_value():
    # Decimal(0.1) is 0.1000000000000000055511151231257827...: far more than 6 places.
    assert Decimal(0.1) != Decimal("0.1")  # noqa: RUF032 - the point of the test
    assert parse_amount(0.1) == parse_amount("0.1") == 100_000
    with pytest.raises(MoneyError, match="more than 6 decimal places"):
        parse_amount(0.1 + 0.2)  # repr is 0.30000000000000004


@pytest.mark.parametrize(("value", "micros"), [("-1.5", -1_500_000), (-2, -2_000_000), ("-0.000001", -1)])
def test_negative_amounts_only_when_allowed(value, micros):
    assert parse_amount(value, allow_negative=True) == micros
    with pytest.raises(MoneyError, match=r"^must not be negative, got "):
        parse_amount(value)


def test_negative_zero_is_zero():
    assert parse_amount("-0") == 0


@pytest.mark.parametrize(
    "value",
    [
        "0.0000001",
        "1.1234567",
        Decimal("0.0000005"),
        1e-7,
        # More significant digits than Decimal's default 28-digit context: must not be rounded away.
        "0.50000000000000000000000000001",
        "1.0000000000000000000000000001",
    ],
)
def test_more_than_six_places_is_refused(value):
    with pytest.raises(MoneyError) as info:
        parse_amount(value)
    assert str(info.value) == f"has more than 6 decimal places: {value!r}"


@pytest.mark.parametrize(
    "value", ["NaN", "nan", "sNaN", "Infinity", "-inf", float("nan"), float("inf"), Decimal("NaN")]
)
def test_non_finite_is_refused(value):
    with pytest.raises(MoneyError) as info:
        parse_amount(value, allow_negative=True)
    assert str(info.value) == f"must be a finite amount, got {value!r}"


@pytest.mark.parametrize("value", [True, False, None, "", "abc", "1,50", "0.5 USD", "$1", [1], {"a": 1}])
def test_non_amounts_are_refused_with_the_value(value):
    with pytest.raises(MoneyError) as info:
        parse_amount(value)
    assert str(info.value) == f'must be a decimal amount such as "0.50", got {value!r}'
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("value", ["1e12", "1000000000000", "-1e12", "1e30", 10**15])
def test_amounts_beyond_the_ledger_range_are_refused(value):
    # Amounts are stored as 64-bit integers of micro-units; a bigger one must fail here,
    # as one line, not later in the database.
    with pytest.raises(MoneyError, match="must be less than 1000000000000 in magnitude"):
        parse_amount(value, allow_negative=True)


def test_money_error_is_a_value_error():
    assert issubclass(MoneyError, ValueError)


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "CHF"])
def test_parse_currency_accepts_iso_codes(code):
    assert parse_currency(code) == code


@pytest.mark.parametrize("value", ["usd", "US", "USDT", " USD", "USD ", "", None, 840, b"USD", "U$D"])
def test_parse_currency_refuses(value):
    with pytest.raises(MoneyError) as info:
        parse_currency(value)
    assert str(info.value) == f'must be a three-letter ISO 4217 code such as "USD", got {value!r}'


@pytest.mark.parametrize(
    ("micros", "text"),
    [
        (0, "0.00"),
        (1, "0.000001"),
        (10, "0.00001"),
        (500_000, "0.50"),
        (3_500_000, "3.50"),
        (13_889, "0.013889"),
        (1_000_000, "1.00"),
        (5_000_000_000, "5000.00"),
        (10**17, "100000000000.00"),
        (-1_500_000, "-1.50"),
        (-1, "-0.000001"),
        (1_234_567, "1.234567"),
        (1_230_000, "1.23"),
        (1_200_000, "1.20"),
    ],
)
def test_format_amount(micros, text):
    assert format_amount(micros) == text
    assert parse_amount(text, allow_negative=True) == micros  # round-trips exactly


def test_format_amount_min_places():
    assert format_amount(3_000_000, 0) == "3"
    assert format_amount(3_500_000, 0) == "3.5"
    assert format_amount(3_000_000, 4) == "3.0000"
    assert format_amount(1, 4) == "0.000001"
    assert format_amount(0, 0) == "0"


def test_to_decimal_is_exact():
    assert to_decimal(1) == Decimal("0.000001")
    assert to_decimal(123_456_789) == Decimal("123.456789")


def test_cost_of_whole_hours_is_the_rate():
    assert cost_micros(500_000, MS_PER_HOUR) == 500_000  # 0.50 USD/h for 1 h
    assert cost_micros(3_500_000, 2 * MS_PER_HOUR) == 7_000_000
    assert cost_micros(500_000, MS_PER_HOUR // 2) == 250_000
    assert cost_micros(3_500_000, 60_000) == 58_333  # one minute of H200: 58333.33... micros


def test_cost_of_one_millisecond_rounds_half_up():
    # 3.50 USD/h for 1 ms = 0.97222... micros -> 1 micro
    assert cost_micros(3_500_000, 1) == 1
    # 0.50 USD/h for 1 ms = 0.1388... micros -> 0
    assert cost_micros(500_000, 1) == 0
    # 0.50 USD/h for 4 ms = 0.5555... -> 1
    assert cost_micros(500_000, 4) == 1


@pytest.mark.parametrize(
    ("rate", "ms", "expected"),
    [
        (1_800, 1_000, 1),  # exactly 0.5 -> 1 (half-up, not half-even's 0)
        (9_000, 1_000, 3),  # exactly 2.5 -> 3 (half-even would give 2)
        (5_400, 1_000, 2),  # exactly 1.5 -> 2
        (1_799, 1_000, 0),  # 0.49972 -> 0
        (1_801, 1_000, 1),  # 0.50027 -> 1
        (3_600_000, 1, 1),  # exactly 1
    ],
)
def test_cost_rounding_is_half_up(rate, ms, expected):
    assert cost_micros(rate, ms) == expected


def test_cost_is_exact_for_large_values():
    # 10 years of a 99999.999999/h tier: no float could hold every digit.
    rate = 99_999_999_999
    ms = 10 * 365 * 24 * MS_PER_HOUR + 1
    exact = Decimal(rate) * Decimal(ms) / Decimal(MS_PER_HOUR)
    assert cost_micros(rate, ms) == int(exact.to_integral_value(rounding=ROUND_HALF_UP))
    # Integer arithmetic agrees: floor((2 * rate * ms + hour) / (2 * hour)) is half-up.
    assert cost_micros(rate, ms) == (2 * rate * ms + MS_PER_HOUR) // (2 * MS_PER_HOUR)


@pytest.mark.parametrize(("rate", "ms"), [(0, 1_000), (500_000, 0), (500_000, -5), (-1, 1_000)])
def test_no_cost_for_free_or_empty_runs(rate, ms):
    assert cost_micros(rate, ms) == 0


def test_totals_equal_the_sum_of_their_parts():
    rng = random.Random(20261101)
    rates = [parse_amount(r) for r in ("0.50", "3.50", "0.10", "1.234567")]
    parts = [cost_micros(rng.choice(rates), rng.randrange(1, 5 * MS_PER_HOUR)) for _ in range(500)]
    total = sum(parts)
    assert all(type(p) is int for p in parts)
    # The formatted total is exactly the sum of the formatted parts: no cent is lost or made up.
    assert Decimal(format_amount(total)) == sum(Decimal(format_amount(p)) for p in parts)
    assert parse_amount(format_amount(total)) == total
    # And the decimal view agrees with integer arithmetic.
    assert sum(to_decimal(p) for p in parts) * MICROS == total


@pytest.mark.parametrize(
    ("micros", "shown"),
    [
        (0, "0.00"),
        (1, "0.000001"),
        (140, "0.00014"),
        (3_000, "0.0030"),
        (9_999, "0.01"),  # rounded up to a whole cent: shown as cents
        (16_423, "0.02"),
        (999_999, "1.00"),
        (4_999_879_288, "4999.88"),
        (-140, "-0.00014"),
    ],
)
def test_display_amount_is_the_views_one_money_format(micros, shown):
    """The server's sentences (a comparison's summary) show money as the views do
    (src/money.ts formatDisplayMicros): two decimals, two significant digits below a cent."""
    assert display_amount(micros) == shown
