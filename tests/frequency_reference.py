"""Disturbance triggers worked out the long way, by brute force over every reading.

An independent check of the detector: no deques, no running windows, the standard
library's statistics over plain lists.
"""

from __future__ import annotations

import statistics

from custom_components.mains_monitor.disturbance import Thresholds

type Stream = list[tuple[float, float]]  # (s, mHz)


def rate_of_change(readings: Stream, time: float) -> float:
    """The least-squares slope (mHz/s) of the readings in the second up to `time`; 0 below 3."""
    last_second = [(t, d) for t, d in readings if time - 1 < t <= time]
    if len(last_second) < 3:
        return 0.0
    return statistics.linear_regression(*zip(*last_second, strict=True)).slope


def brute_force_triggers(readings: Stream, thresholds: Thresholds) -> list[float]:
    """The times of readings at which the rate of change or a step passes its threshold."""
    times = []
    for time, _ in readings:
        slope = rate_of_change(readings, time)
        last_mean = statistics.fmean(d for t, d in readings if time - 1 < t <= time)
        before = [d for t, d in readings if time - 11 < t <= time - 1]
        step = (
            abs(last_mean - statistics.fmean(before))
            if before and time - readings[0][0] >= 11
            else 0.0
        )
        if abs(slope) >= thresholds.rocof or step >= thresholds.step:
            times.append(time)
    return times


def rocof_peak(readings: Stream, start: float, end: float) -> float:
    """The rate of change farthest from zero at the readings from `start` to `end`."""
    return max(
        (
            rate_of_change(readings, time)
            for time, _ in readings
            if start <= time <= end
        ),
        key=abs,
    )
