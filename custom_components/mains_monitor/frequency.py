"""Pure arithmetic on mains-frequency readings: statistics, bands, alarms."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
import math

# The board's alarm byte: bit n is set while the frequency is, or was within the
# last ALARM_HOLD seconds, at least this many mHz away from nominal.
ALARM_THRESHOLDS_MHZ: tuple[int, ...] = (70, 100, 200, 1000)
SUMMARY_ALARM_BIT = 7
# The board keeps an alarm set about 10 s after the last breach.
ALARM_HOLD = 10.0


class FrequencyBand(StrEnum):
    """Where a frequency stands in the Continental European operating ranges."""

    GENERATOR_DISCONNECTION = "generator_disconnection"  # below 47.5 Hz
    LOAD_SHEDDING = "load_shedding"  # 49.0 Hz and below
    UNDERFREQUENCY_RESERVES = "underfrequency_reserves"  # below 49.8 Hz
    PRIMARY_CONTROL = "primary_control"  # outside ±50 mHz, inside ±200 mHz
    STANDARD = "standard"  # within ±50 mHz
    OVERFREQUENCY_CURTAILMENT = "overfrequency_curtailment"  # above 50.2 Hz


def frequency_band(deviation_mhz: float) -> FrequencyBand:
    """Name the band a deviation from nominal falls in."""
    if deviation_mhz < -2500:
        return FrequencyBand.GENERATOR_DISCONNECTION
    if deviation_mhz <= -1000:
        return FrequencyBand.LOAD_SHEDDING
    if deviation_mhz < -200:
        return FrequencyBand.UNDERFREQUENCY_RESERVES
    if deviation_mhz > 200:
        return FrequencyBand.OVERFREQUENCY_CURTAILMENT
    if abs(deviation_mhz) > 50:
        return FrequencyBand.PRIMARY_CONTROL
    return FrequencyBand.STANDARD


def least_squares_slope(
    times: Sequence[float], values: Sequence[float]
) -> float | None:
    """Slope of the best straight line through the points; None without two times."""
    count = len(times)
    if count < 2:
        return None
    mean_t = math.fsum(times) / count
    mean_v = math.fsum(values) / count
    spread = math.fsum((t - mean_t) ** 2 for t in times)
    if spread == 0:
        return None
    covariance = math.fsum(
        (t - mean_t) * (v - mean_v) for t, v in zip(times, values, strict=True)
    )
    return covariance / spread


class AlarmHold:
    """Computes the board's alarm byte for formats that do not carry it."""

    def __init__(self) -> None:
        """Start with no breach seen."""
        self._last_breach: list[float | None] = [None] * len(ALARM_THRESHOLDS_MHZ)

    def update(self, deviation_mhz: float, timestamp: float) -> int:
        """Record one reading; return the alarm byte as the board would."""
        alarms = 0
        for bit, threshold in enumerate(ALARM_THRESHOLDS_MHZ):
            if abs(deviation_mhz) >= threshold:
                self._last_breach[bit] = timestamp
            last = self._last_breach[bit]
            if last is not None and timestamp - last <= ALARM_HOLD:
                alarms |= 1 << bit
        if alarms:
            alarms |= 1 << SUMMARY_ALARM_BIT
        return alarms
