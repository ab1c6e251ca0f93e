"""The mfm board's coordinator: readings in, one frequency snapshot per interval out."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime
import math
from typing import Any

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.util import dt as dt_util

from .const import (
    CONF_CALIBRATION_OFFSET,
    CONF_NOMINAL_FREQUENCY,
    CONF_OSCILLATION_THRESHOLD,
    CONF_ROCOF_THRESHOLD,
    CONF_STEP_THRESHOLD,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
    NOMINAL_AUTO,
)
from .coordinator import (
    MainsMonitorConfigEntry,
    MainsMonitorCoordinator,
    Snapshot,
    rounded,
)
from .disturbance import (
    DEFAULT_OSCILLATION,
    DEFAULT_ROCOF,
    DEFAULT_STEP,
    Disturbance,
    DisturbanceDetector,
    Thresholds,
)
from .errors import FailureReason
from .frequency import AlarmHold, FrequencyBand, frequency_band, least_squares_slope
from .protocol.mfm import MfmParser, MfmReading, RejectReason
from .quality import DayQuality, QualitySummary
from .stability import (
    ISLAND_WINDOW,
    Recent,
    expected_correction,
    inferred_correction,
    island,
)

# The latest disturbances a snapshot carries (for the event entity and the diagnostics).
KEPT_DISTURBANCES = 5

# The board sends five to seven lines a second, and waking the event loop for each
# costs more than parsing it; the entities change once an update interval. So its
# reader lets lines gather between reads: for a quarter of the update interval, and
# no longer than at the default interval. The lines of one read are spread over the
# time they gathered in, so the rate of change, the steps and the oscillation analysis
# see the board's pace, not the reader's.
READS_PER_INTERVAL = 4
MAX_READ_SPACING = DEFAULT_UPDATE_INTERVAL / READS_PER_INTERVAL  # s

# Readings further apart than this leave the grid's path between them unknown:
# grid time is not integrated across such a gap.
GRID_TIME_MAX_GAP = 5.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FrequencyStats:
    """Aggregates over every reading of one update interval."""

    last: float  # Hz, the interval's last reading
    mean: float  # Hz
    minimum: float  # Hz
    maximum: float  # Hz
    deviation: float  # mHz, mean minus nominal
    rate_of_change: float | None  # mHz/s, least-squares slope
    band: FrequencyBand
    load_difference: int | None  # MW, mean of the lines that carry it
    alarms: int  # the alarm byte, OR of every reading in the interval


@dataclass(frozen=True, slots=True, kw_only=True)
class MfmSnapshot(Snapshot):
    """Everything the board's entities show."""

    stats: FrequencyStats | None
    grid_time_deviation: float  # s
    grid_time_since: datetime
    quality: QualitySummary  # the local day so far
    correction_expected: int  # mHz, the setpoint offset the grid time calls for
    mean_deviation_recent: float | None  # mHz, over the last 3 hours
    correction_inferred: int | None  # mHz, the setpoint offset that mean shows
    allan_deviations: dict[int, float | None]  # averaging time (s) -> mHz
    disturbances: tuple[tuple[int, Disturbance], ...]  # the latest, numbered from 1
    island: bool | None  # whether the supply looks like an island or a generator
    readings_accepted: int
    lines_rejected: int
    board_restarts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class GridTimeCount:
    """The grid time counted since it began, unrounded, for a calibration."""

    deviation: float  # s
    since: datetime
    # s of readings integrated; None for a count begun before this was kept
    covered: float | None


@dataclass(slots=True)
class _Window:
    """The calibrated readings of the current update interval."""

    times: list[float] = field(default_factory=list)
    frequencies: list[float] = field(default_factory=list)
    load_differences: list[int] = field(default_factory=list)
    alarms: int = 0

    def stats(self, nominal: int) -> FrequencyStats | None:
        """Aggregate the window; None when it is empty."""
        if not self.frequencies:
            return None
        mean = math.fsum(self.frequencies) / len(self.frequencies)
        # Rounded to 0.1 mHz first, so 50.2 Hz is +200 mHz, not +200.0000000003.
        deviation = rounded((mean - nominal) * 1000, 1)
        slope = least_squares_slope(self.times, self.frequencies)
        loads = self.load_differences
        return FrequencyStats(
            last=rounded(self.frequencies[-1], 4),
            mean=rounded(mean, 4),
            minimum=rounded(min(self.frequencies), 4),
            maximum=rounded(max(self.frequencies), 4),
            deviation=deviation,
            rate_of_change=None if slope is None else rounded(slope * 1000, 2),
            band=frequency_band(deviation),
            load_difference=round(math.fsum(loads) / len(loads)) if loads else None,
            alarms=self.alarms,
        )


class MfmCoordinator(MainsMonitorCoordinator[MfmSnapshot]):
    """Aggregates the board's readings and keeps the grid time."""

    parser: MfmParser

    def __init__(self, hass: HomeAssistant, entry: MainsMonitorConfigEntry) -> None:
        """Set up the parser and the persisted grid time."""
        super().__init__(hass, entry)
        nominal = entry.options.get(CONF_NOMINAL_FREQUENCY, NOMINAL_AUTO)
        self.parser = MfmParser(None if nominal == NOMINAL_AUTO else int(nominal))
        # mHz, as the options hold it; added to every reading in Hz.
        self.calibration: float = entry.options.get(CONF_CALIBRATION_OFFSET, 0.0)
        self._calibration = self.calibration / 1000
        self._window = _Window()
        self._alarm_hold = AlarmHold()
        self._previous: tuple[float, float] | None = None
        self._grid_time = 0.0
        self._grid_time_since = dt_util.utcnow()
        self._grid_time_covered: float | None = 0.0
        self._day = DayQuality()
        self._ended_quality = self._day.summary()  # the last day's, for a late snapshot
        self._recent = Recent()
        self._island: bool | None = None
        options = entry.options
        self.disturbance_thresholds = Thresholds(
            rocof=options.get(CONF_ROCOF_THRESHOLD, DEFAULT_ROCOF),
            step=options.get(CONF_STEP_THRESHOLD, DEFAULT_STEP),
            oscillation=options.get(CONF_OSCILLATION_THRESHOLD, DEFAULT_OSCILLATION),
        )
        self._detector = DisturbanceDetector(self.disturbance_thresholds)
        self._disturbances: deque[tuple[int, Disturbance]] = deque(
            maxlen=KEPT_DISTURBANCES
        )
        self._disturbances_found = 0
        self._last_read: float | None = None  # s, when the last readings were read

    def read_spacing(self) -> float:
        """Seconds the reader lets the board's lines gather after each read."""
        return gathering(self.publish_interval.total_seconds())

    @property
    def device_info(self) -> DeviceInfo:
        """The board: it reports no serial number, so the entry names it."""
        return DeviceInfo(
            identifiers={(DOMAIN, self.identity(self.config_entry))},
            name=self.config_entry.title,
            manufacturer="pc-projekte.de",
            model="mfm board",
        )

    def restore(self, stored: dict[str, Any]) -> None:
        """Continue the grid time saved before."""
        self._grid_time = stored["grid_time_deviation"]
        self._grid_time_since = dt_util.parse_datetime(stored["since"]) or (
            self._grid_time_since
        )
        # A count taken partly with another offset cannot calibrate this one.
        same_offset = stored.get("offset") == self.calibration
        self._grid_time_covered = stored.get("covered") if same_offset else None
        # A day's figures continue only on the same local day (after a gap).
        quality = stored.get("quality")
        if quality is not None and quality["day_ends"] == self.day_ends:
            self._day = DayQuality.from_dict(quality)

    def feed(self, data: bytes) -> bool:
        """Parse bytes; add every reading to the interval's window."""
        readings = self.parser.feed(data)
        if not readings:
            return False
        now = dt_util.utcnow().timestamp()
        for reading, timestamp in zip(
            readings,
            arrival_times(
                len(readings), now, self._last_read, self.connection.read_spacing
            ),
            strict=True,
        ):
            self._add(reading, timestamp)
        self._last_read = now
        return True

    def unframed(self) -> dict[FailureReason, int]:
        """Signs of life without a reading (banners, missing signal), then rejected lines."""
        parser = self.parser
        rejected = parser.rejected
        return {
            FailureReason.NO_SIGNAL: parser.banner_lines
            + rejected[RejectReason.SIGNAL_MISSING]
            + rejected[RejectReason.ERROR_LINE],
            FailureReason.WRONG_DEVICE: parser.rejected_total,
        }

    def _add(self, reading: MfmReading, timestamp: float) -> None:
        """Count one reading in the window, the alarms, the day's quality and the grid time."""
        nominal = self.nominal
        frequency = reading.frequency + self._calibration
        # To 10^-6 mHz: 49.900 Hz is -100 mHz, not -100.0000000000014 (beyond -100).
        deviation = round((frequency - nominal) * 1000, 6)
        computed_alarms = self._alarm_hold.update(deviation, timestamp)
        self.roll_day(timestamp)
        self._day.add(deviation, timestamp)
        self._recent.add(deviation, timestamp)
        self._keep(self._detector.add(deviation, timestamp))
        window = self._window
        window.times.append(timestamp)
        window.frequencies.append(frequency)
        if reading.load_difference is not None:
            window.load_differences.append(reading.load_difference)
        window.alarms |= computed_alarms if reading.alarms is None else reading.alarms
        if self._previous is not None:
            previous_time, previous_frequency = self._previous
            elapsed = timestamp - previous_time
            if elapsed <= GRID_TIME_MAX_GAP:
                mean = (previous_frequency + frequency) / 2
                self._grid_time += (mean - nominal) / nominal * elapsed
                if self._grid_time_covered is not None:
                    self._grid_time_covered += elapsed
        self._previous = (timestamp, frequency)

    def grid_time_count(self) -> GridTimeCount:
        """The grid time counted since it began, with the seconds it covers."""
        return GridTimeCount(
            deviation=self._grid_time,
            since=self._grid_time_since,
            # None also for a count taken partly with another calibration offset.
            covered=self._grid_time_covered,
        )

    def recent_means(self, seconds: int, now: datetime) -> list[float]:
        """The calibrated 1-second means (mHz from nominal) of the last `seconds` before `now`."""
        return self._recent.means_after(now.timestamp() - seconds)

    @property
    def nominal(self) -> int:
        """The nominal frequency (Hz): the option, the banner, or the first value's."""
        # The parser knows it once it has accepted a reading.
        return self.parser.nominal_frequency or 50

    def _keep(self, disturbance: Disturbance | None) -> None:
        """Number and keep a disturbance that ended."""
        if disturbance is not None:
            self._disturbances_found += 1
            self._disturbances.append((self._disturbances_found, disturbance))

    def start_day(self) -> None:
        """Keep the ended day's quality for a late snapshot; count the new day's."""
        self._ended_quality = self._day.summary()
        self._day = DayQuality()

    def build_snapshot(self, now: datetime) -> MfmSnapshot:
        """Aggregate the interval's window and start a new one."""
        self.roll_day(now.timestamp())
        stats = self._window.stats(self.nominal)
        mean_deviation = self._recent.mean_deviation(now.timestamp())
        self._island = island(
            self._recent.last_seconds(ISLAND_WINDOW, now.timestamp()), self._island
        )
        fresh = stats is not None
        if not fresh and self.last_update_success and self.data is not None:
            stats = self.data.stats
        self._window = _Window()
        return MfmSnapshot(
            fresh=fresh,
            stats=stats,
            grid_time_deviation=rounded(self._grid_time, 3),
            grid_time_since=self._grid_time_since,
            quality=(
                self._ended_quality
                if self.shows_ended_day(now.timestamp())
                else self._day.summary()
            ),
            correction_expected=expected_correction(self._grid_time),
            # Whole mHz: enough to tell a 10 mHz offset, and it seldom changes.
            mean_deviation_recent=(
                None if mean_deviation is None else rounded(mean_deviation, 0)
            ),
            correction_inferred=inferred_correction(
                mean_deviation, self._recent.covered(now.timestamp())
            ),
            allan_deviations=self._recent.allan_deviations(),
            disturbances=tuple(self._disturbances),
            island=self._island,
            readings_accepted=self.parser.accepted,
            lines_rejected=self.parser.rejected_total,
            board_restarts=self.parser.restarts,
            connection_state=self.shown_connection_state,
            time=now,
        )

    def availability_changed(self, available: bool) -> None:
        """Forget the interval's readings when data stops: they are stale."""
        if not available:
            self._window = _Window()
            self._previous = None
            self._last_read = None
            self._day.gap()
            self._recent.gap()
            self._keep(self._detector.gap())
            if self.data is not None:
                self.data = replace(self.data, stats=None)
        super().availability_changed(available)

    @callback
    def async_reset_grid_time(self) -> None:
        """Start integrating the grid time afresh from now."""
        self._grid_time = 0.0
        self._grid_time_since = dt_util.utcnow()
        self._grid_time_covered = 0.0
        self.async_save_within(0)
        if self.data is not None:
            self.data = replace(
                self.data,
                grid_time_deviation=0.0,
                grid_time_since=self._grid_time_since,
            )
            self.async_update_listeners()

    def stored_data(self) -> dict[str, Any]:
        """The grid time as saved."""
        return {
            "grid_time_deviation": self._grid_time,
            "since": self._grid_time_since.isoformat(),
            "covered": self._grid_time_covered,
            "offset": self.calibration,
            "quality": self._day.as_dict() | {"day_ends": self.day_ends},
        }


def gathering(update_interval: float) -> float:
    """How long the board's reader lets lines gather between two reads, in seconds."""
    return min(update_interval / READS_PER_INTERVAL, MAX_READ_SPACING)


def arrival_times(
    count: int, now: float, last_read: float | None, rest: float
) -> list[float]:
    """When `count` readings read together at `now` arrived, the last at `now`.

    They gathered since the last read, for at most a rest: spread evenly over that.
    """
    span = 0.0 if last_read is None else min(max(now - last_read, 0.0), rest)
    step = span / count
    return [now - (count - 1 - index) * step for index in range(count)]
