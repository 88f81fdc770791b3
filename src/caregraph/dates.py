"""Validity intervals: the law changes, so every answer is given as of a date."""

from __future__ import annotations

import datetime as dt


def parse_day(text: str | dt.date | None) -> dt.date:
    """A date from 'YYYY-MM-DD', 'today' or None (today)."""
    if text is None or text == "today":
        return dt.date.today()
    if isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)") from None


def holds(start: object, end: object, day: dt.date) -> bool:
    """Whether an interval with optional inclusive ends contains `day`."""
    if isinstance(start, dt.date) and day < start:
        return False
    if isinstance(end, dt.date) and day > end:
        return False
    return True
