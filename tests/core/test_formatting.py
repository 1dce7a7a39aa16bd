"""Numbers and CSV cells as people write them (core.formatting), the one place every app
formats them from."""

from decimal import Decimal

import pytest

from core.formatting import csv_text, number_text, quantity_format


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (Decimal("80.0000"), "80"),
        (Decimal("0.2000"), "0.2"),
        (Decimal("49.90"), "49.9"),
        (Decimal("7.5"), "7.5"),
        (Decimal("1E+2"), "100"),  # no exponent: normalize() alone gives 1E+2
        (Decimal("100"), "100"),
        (Decimal("0.0001"), "0.0001"),
        (Decimal("-2.50"), "-2.5"),
        (Decimal("-0.000"), "0"),  # never "-0"
        (Decimal("0E-4"), "0"),
        (12, "12"),
        ("2.50", "2.5"),
        (None, ""),
    ],
)
def test_quantity_format_writes_numbers_without_trailing_zeros_or_exponent(value, shown):
    assert quantity_format(value) == shown


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=SUM(A1:A2)", "'=SUM(A1:A2)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@cmd", "'@cmd"),
        ("MO-2026-00001", "MO-2026-00001"),
        ("", ""),
        (None, ""),
        (42, "42"),
    ],
)
def test_csv_text_quotes_what_a_spreadsheet_would_run(value, cell):
    assert csv_text(value) == cell


@pytest.mark.parametrize(
    ("value", "places", "shown"),
    [
        (12.0, 2, "12"),
        (12.5, 2, "12.5"),
        (12.25, 2, "12.25"),
        (12.256, 2, "12.26"),  # rounded to the places asked
        (89.99, 2, "89.99"),
        (12.25, 1, "12.2"),
        (100.0, 0, "100"),  # no decimals asked: the zeros of the number stay
        (None, 2, ""),
    ],
)
def test_number_text_writes_floats_without_trailing_zeros(value, places, shown):
    assert number_text(value, places) == shown
