"""How a published value is shown, in the report's pages and in the terminal summary alike: one
function per kind, and each column's kind from its glossary entry (assets/lib/glossary.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from .glossary import column_of

MISSING = "–"


def money(value) -> str:
    return MISSING if value is None else f"{Decimal(value):,.2f}"


def count(value) -> str:
    return MISSING if value is None else f"{int(value):,}"


def percent(value) -> str:
    return MISSING if value is None else f"{float(value) * 100:.1f}%"


def ratio(value) -> str:
    return MISSING if value is None else f"{float(value):.2f}"


def hours(value) -> str:
    return MISSING if value is None else f"{float(value):.1f} h"


def day(value) -> str:
    return MISSING if value is None else value.isoformat() if isinstance(value, dt.date) else str(value)


def text(value) -> str:
    return MISSING if value is None else str(value)


FORMATS = {"money": money, "count": count, "percent": percent, "ratio": ratio, "hours": hours, "day": day, "text": text}


def show(column: str | None, value, table: str | None = None) -> str:
    """`value` as its column is shown (the glossary's kind, `table`'s own where it gives the column
    another meaning); a column the glossary does not define by the value's type: whole numbers as
    counts, decimals as money, the rest as text."""
    if column is not None and (defined := column_of(table, column)) is not None:
        return FORMATS[defined.shown_as](value)
    if isinstance(value, bool):
        return text(value)
    if isinstance(value, int):
        return count(value)
    if isinstance(value, (Decimal, float)):
        return money(value)
    return text(value)
