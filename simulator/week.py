"""A week of the board's readings, fast-forwarded: each day's quality figures, known in advance.

Simulated time only: t = 0 is a local midnight, and the caller maps t to its clock.
The board is read in two windows a day, one line every SPACING s (the board itself
sends 5.6 a second; 5 s is the longest step the day's quality still counts as
measured), and is silent in between, as if its link were down:

- 11:00-11:40, the day's excursions: on day d (0-6), d % 3 + 1 dips of 2 minutes to
  -(60 + 10 d) mHz, from 11:02, 4 minutes apart; on days 2 and 5 a dip to -70 mHz
  for 16 minutes from 11:14 (not restored within 15 minutes); on odd days a rise to
  +120 mHz for a minute from 11:35.
- 23:55-00:05, across midnight: quiet, but on day 3 a dip to -80 mHz from 23:58 to
  00:02, an excursion in both days.

Outside the excursions the grid wanders (a seeded random walk) within ±40 mHz, so
every excursion is one of the above. The board moves its value by at most 100 mHz a
line: the deepest dips reach their depth one line late.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .mfm import MfmBoard, Profile, RandomWalk, measure

DAY = 86400.0
HOUR = 3600.0
MINUTE = 60.0
SPACING = 5.0
DAYS = 7
# (start, end) of the windows read each day, in seconds after its midnight.
WINDOWS = (
    (11 * HOUR, 11 * HOUR + 40 * MINUTE),
    (24 * HOUR - 5 * MINUTE, 24 * HOUR + 5 * MINUTE),
)
WANDER_LIMIT = 40  # mHz


@dataclass(frozen=True, slots=True)
class Excursion:
    """A planned excursion: from `start` s for `duration` s at `deviation` mHz."""

    start: float
    duration: float
    deviation: int


def excursions(day: int) -> list[Excursion]:
    """The excursions planned for `day` (0-6), by their start after the week's first midnight."""
    noon = day * DAY + 11 * HOUR
    planned = [
        Excursion(noon + (2 + 4 * k) * MINUTE, 2 * MINUTE, -(60 + 10 * day))
        for k in range(day % 3 + 1)
    ]
    if day in (2, 5):
        planned.append(Excursion(noon + 14 * MINUTE, 16 * MINUTE, -70))
    if day % 2:
        planned.append(Excursion(noon + 35 * MINUTE, MINUTE, 120))
    if day == 3:
        planned.append(Excursion((day + 1) * DAY - 2 * MINUTE, 4 * MINUTE, -80))
    return planned


def week_profile(seed: int = 0, center: int = 50000) -> Profile:
    """The true frequency over the week: the wander, and each day's excursions."""
    walk = RandomWalk(seed=seed, center=0)
    planned = [excursion for day in range(DAYS) for excursion in excursions(day)]

    def profile(t: float) -> int:
        """The excursion under way at `t`, else the wander."""
        for excursion in planned:
            if excursion.start <= t < excursion.start + excursion.duration:
                return center + excursion.deviation
        return center + max(-WANDER_LIMIT, min(WANDER_LIMIT, walk(t)))

    return profile


def week(
    board: MfmBoard, seed: int = 0, days: int = DAYS
) -> Iterator[tuple[float, bytes]]:
    """The board's lines in each day's windows, timed from the first midnight."""
    profile = week_profile(seed, board.nominal_mhz)
    for day in range(days):
        for start, end in WINDOWS:
            t = day * DAY + start
            while t < day * DAY + end:
                yield t, board.line(measure(board, profile, t), t)
                t += SPACING
