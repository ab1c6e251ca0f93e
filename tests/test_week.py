"""A week of the board's readings fast-forwarded through the day's quality figures and the recorder.

The simulator's week (simulator/week.py) is read two windows a day at one line every
5 s, silent in between. The frozen clock moves from line to line; each silence is an
outage of the link. Each local day's figures are worked out here from the values sent,
by the README's definitions, and compared with what the sensors show at the day's end
and with the state the recorder's hourly statistics keep for the day's last hour.
"""

from __future__ import annotations

from datetime import datetime, timedelta
import math
import statistics as stats

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)

from custom_components.mains_monitor.const import (
    CONF_SILENCE_TIMEOUT,
    CONF_UPDATE_INTERVAL,
)
from custom_components.mains_monitor.mfm_coordinator import MfmCoordinator
from homeassistant.components.recorder import statistics
from homeassistant.components.recorder.core import Recorder
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from simulator.week import DAYS, SPACING, excursions, week
from tests.helpers import (
    Clock,
    coordinator_of,
    send,
    send_readings,
    set_up_connected,
    silent_for,
    with_options,
)
from tests.house import entity_ids

NOMINAL_MHZ = 50000
BANDS = (50, 100, 200)
PERCENTILES = (1, 5, 10, 90, 95, 99)
MAX_GAP = 5.0  # s between readings the day still counts as measured
RESTORE_TIME = 900.0  # s
# The day's figures that only grow until midnight: their statistics keep a state.
TOTALS = (
    "measured_time",
    *(f"time_{side}_{band}" for band in BANDS for side in ("over", "under")),
    "excursions",
    "excursions_not_restored",
)
FIGURES = (
    *TOTALS,
    "deviation_spread",
    *(f"deviation_p{percent}" for percent in PERCENTILES),
)
# The day's last figures are published this long before midnight.
DAY_END_LEAD = timedelta(milliseconds=1)

pytestmark = pytest.mark.recorder_before_hass


@pytest.fixture
def platforms() -> list[Platform]:
    """The sensors alone."""
    return [Platform.SENSOR]


@pytest.fixture
def mock_config_entry(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """The board's entry, updated every minute, out after a minute's silence."""
    return with_options(
        mock_config_entry, {CONF_UPDATE_INTERVAL: 60, CONF_SILENCE_TIMEOUT: 60}
    )


def day_figures(readings: list[tuple[float, int]]) -> dict[str, str]:
    """A day's figures, as its sensors show them, from its readings (time, mHz from nominal)."""
    measured = 0.0
    over = dict.fromkeys(BANDS, 0.0)
    under = dict.fromkeys(BANDS, 0.0)
    counted = late = 0
    started: float | None = None
    is_late = False
    previous: float | None = None
    for at, deviation in readings:
        if previous is not None and at - previous <= MAX_GAP:
            measured += at - previous
            for band in BANDS:
                over[band] += (at - previous) * (deviation > band)
                under[band] += (at - previous) * (deviation < -band)
        else:
            started = None  # a gap ends an excursion without a verdict
        previous = at
        if abs(deviation) <= 50:
            started = None
        elif started is None:
            started, is_late, counted = at, False, counted + 1
        elif not is_late and at - started > RESTORE_TIME:
            is_late, late = True, late + 1
    ranked = sorted(deviation for _, deviation in readings)
    return {
        "measured_time": str(round(measured / 60)),
        **{f"time_over_{band}": str(round(over[band] / 60, 1)) for band in BANDS},
        **{f"time_under_{band}": str(round(under[band] / 60, 1)) for band in BANDS},
        "excursions": str(counted),
        "excursions_not_restored": str(late),
        "deviation_spread": str(round(stats.pstdev(ranked), 1)),
        **{
            f"deviation_p{percent}": str(
                ranked[math.ceil(percent / 100 * len(ranked)) - 1]
            )
            for percent in PERCENTILES
        },
    }


class Week:
    """Plays the simulator's week into the entry, noting the figures shown at each day's end."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: MockConfigEntry,
        link: PtyLink,
        clock: Clock,
        first_midnight: datetime,
    ) -> None:
        """Start before the week's first midnight."""
        self.hass = hass
        self.entry = entry
        self.link = link
        self.clock = clock
        self.midnights = [
            dt_util.start_of_local_day(first_midnight.date() + timedelta(days=day))
            for day in range(1, DAYS + 2)
        ]
        self.sent: list[tuple[float, int]] = []
        self.shown: list[dict[str, str]] = []

    async def play(self, board: MfmBoard, begin: float) -> None:
        """Send every line of the week at its time after `begin`."""
        ids = entity_ids(self.hass, self.entry)
        for t, line in week(board):
            at = begin + t
            if at - self.now > SPACING:
                await self._outage_until(at)
            else:
                await self._tick_to(at, ids)
            await send(self.entry, self.link, line, 1)
            self.sent.append((at, int(line[:5]) - NOMINAL_MHZ))

    @property
    def now(self) -> float:
        """The frozen clock's time."""
        return dt_util.utcnow().timestamp()

    async def _outage_until(self, at: float) -> None:
        """Stay silent until `at`: the link is found down, then the port opens again."""
        await silent_for(self.hass, self.clock, self.entry, at - self.now)

    async def _tick_to(self, at: float, ids: dict[str, str]) -> None:
        """Let time pass until `at`; stop at a day's end to let its figures be published."""
        day_end = (self.midnights[len(self.shown)] - DAY_END_LEAD).timestamp()
        if self.now < day_end <= at:
            self.clock.tick(day_end - self.now)
            async_fire_time_changed(self.hass)
            await self.hass.async_block_till_done()
            self.shown.append(
                {key: self._state(ids[key]) for key in FIGURES},
            )
        self.clock.tick(at - self.now)

    def _state(self, entity_id: str) -> str:
        """The state of an entity that must exist."""
        state = self.hass.states.get(entity_id)
        assert state is not None, entity_id
        return state.state


async def hourly_states(
    hass: HomeAssistant, ids: list[str], start: datetime
) -> dict[str, list[statistics.StatisticsRow]]:
    """The hourly statistics' states of the sensors from `start` on."""
    return await get_instance(hass).async_add_executor_job(
        statistics.statistics_during_period,
        hass,
        start,
        None,
        set(ids),
        "hour",
        None,
        {"state"},
    )


async def test_a_week_of_days_through_the_statistics(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """Each day's minutes outside the bands, excursions and percentiles, shown at its end and kept."""
    await set_up_connected(hass, mock_config_entry, platforms=[Platform.SENSOR])
    first_midnight = dt_util.start_of_local_day(dt_util.now().date() + timedelta(1))
    played = Week(hass, mock_config_entry, mfm_link, clock, first_midnight)
    await played.play(board, first_midnight.timestamp())

    days = [
        [
            (at, deviation)
            for at, deviation in played.sent
            if start.timestamp() <= at < end.timestamp()
        ]
        for start, end in zip(
            [first_midnight, *played.midnights[: DAYS - 1]],
            played.midnights[:DAYS],
            strict=True,
        )
    ]
    expected = [day_figures(readings) for readings in days]
    # The planned excursions, as counted: the dips, the long dip, the rise, and the
    # dip across the midnight after day 3, counted again in day 4.
    assert [int(day["excursions"]) for day in expected] == [
        len(excursions(day)) + (day == 4) for day in range(DAYS)
    ]
    assert [day["excursions_not_restored"] for day in expected] == [
        "0", "0", "1", "0", "0", "1", "0",
    ]  # fmt: skip
    assert played.shown == expected

    ids = entity_ids(hass, mock_config_entry)
    await async_wait_recording_done(hass)
    for midnight in played.midnights[:DAYS]:
        # The recorder compiles periods given in UTC.
        do_adhoc_statistics(hass, start=dt_util.as_utc(midnight - timedelta(minutes=5)))
        await async_wait_recording_done(hass)
    rows = await hourly_states(hass, [ids[key] for key in TOTALS], first_midnight)
    last_hours = {midnight - timedelta(hours=1) for midnight in played.midnights}
    kept = [
        {
            key: row["state"]
            for key in TOTALS
            for row in rows[ids[key]]
            if dt_util.utc_from_timestamp(row["start"]) == last_hour
        }
        for last_hour in sorted(last_hours)[:DAYS]
    ]
    assert kept == [{key: float(day[key]) for key in TOTALS} for day in expected]


async def test_a_snapshot_taken_after_midnight_for_the_day_before_shows_that_day(
    hass: HomeAssistant,
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """A reading after midnight may come before the day's last update: that update still shows the ended day."""
    midnight = dt_util.start_of_local_day(dt_util.now().date() + timedelta(1))
    seconds = (midnight - dt_util.now()).total_seconds() - 10
    await silent_for(hass, clock, init_integration, seconds)
    # -60 mHz at 23:59:50 and 23:59:55, nominal at midnight.
    await send_readings(
        init_integration,
        mfm_link,
        clock,
        board,
        [49940, 49940, 50000],
        spacing=SPACING,
    )
    assert dt_util.now() == midnight
    coordinator = coordinator_of(init_integration)
    assert isinstance(coordinator, MfmCoordinator)

    ended = coordinator.build_snapshot(midnight - DAY_END_LEAD).quality
    today = coordinator.build_snapshot(midnight).quality

    assert (ended.measured, ended.under[50], ended.excursions) == (5.0, 5.0, 1)
    assert (today.measured, today.under[50], today.excursions) == (0.0, 0.0, 0)
