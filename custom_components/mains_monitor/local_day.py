"""The local day over which the daily quality figures count: it ends at local midnight."""

from __future__ import annotations

from datetime import datetime, timedelta

from homeassistant.util import dt as dt_util


def next_midnight(moment: datetime) -> float:
    """The timestamp of the local midnight after `moment`: where its day's figures end."""
    tomorrow = dt_util.as_local(moment).date() + timedelta(days=1)
    return dt_util.start_of_local_day(tomorrow).timestamp()
