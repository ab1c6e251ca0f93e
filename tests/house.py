"""A board and an ECM-1240 side by side for two update intervals, and what their sensors should show.

The statistics and InfluxDB tests share this scenario. Both entries are set up at
12:00:00 and publish every minute: their snapshots fall at 12:01:00 and 12:02:00.
In the first 5 s of each minute the board sends a reading a second and the unit
(CH1 a house, CH2 net-metered solar) a packet a second, the very first one a
baseline before any load; then both are silent until the minute ends. So the
event loop's clock, which runs on in real time besides the test's ticks, may run
almost a minute ahead before a snapshot falls early. The figures are worked out
from what the simulators send, by the definitions in the README.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
import math
from statistics import fmean, linear_regression, pstdev
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import (
    CONF_DEVICE_KIND,
    CONF_LINE_FORMAT,
    CONF_MODE,
    CONF_NAME,
    CONF_PORT,
    CONF_SILENCE_TIMEOUT,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
    DeviceKind,
)
from custom_components.mains_monitor.kinds.mfm import DEFAULT_OPTIONS, TITLE
from custom_components.mains_monitor.protocol.mfm import LineFormat
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from simulator.ecm1240 import Loads
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from tests.ecm_unit import ENTRY_ID, Simulation, ecm_entry_for, kwh
from tests.helpers import (
    START,
    Clock,
    advance,
    entity_key,
    load_difference,
    send,
    set_up_connected,
)

# The board's readings (mHz), one a second, in each update interval.
READINGS = ([50010, 50014, 50006, 50012, 50008], [49990, 49985, 49980, 49975, 49970])
# The unit's loads and line voltage in each update interval: a kettle and a
# 1.5 kW burst on AUX5 come on in the second, and a cloud cuts the export.
LOADS = (
    Loads(ch1_watts=400, ch2_watts=-1500, aux_watts=(60, 25, 0, 0, 0)),
    Loads(ch1_watts=2400, ch2_watts=-1000, aux_watts=(60, 100, 0, 0, 1500)),
)
VOLTS = (120.0, 122.0)
# The unit's line voltage at its baseline packet (tests.ecm_unit.new_unit).
BASELINE_VOLTS = 120.0
# Seconds of load each snapshot adds to the totals: the first packet is the baseline.
SECONDS = (len(READINGS[0]) - 1, len(READINGS[1]))
UPDATE_INTERVAL = 60  # s
# Longer than the silence at the end of each interval.
SILENCE_TIMEOUT = 2 * UPDATE_INTERVAL
OPTIONS = {CONF_UPDATE_INTERVAL: UPDATE_INTERVAL, CONF_SILENCE_TIMEOUT: SILENCE_TIMEOUT}
CHANNELS: dict[str, dict[str, Any]] = {
    "ch1": {CONF_NAME: "House", CONF_MODE: "consumption"},
    "ch2": {CONF_NAME: "Solar", CONF_MODE: "net"},
}
AUX = ("aux1", "aux2", "aux3", "aux4", "aux5")
NOMINAL_MHZ = 50000
BOARD_ENTRY_ID = "01JMAINSMONITORTESTENTRY01"

# The unit of every sensor that has one, by key; the energy totals are in kWh.
BOARD_UNITS = {
    "frequency": "Hz",
    "frequency_minimum": "Hz",
    "frequency_maximum": "Hz",
    "deviation": "mHz",
    "rate_of_change": "mHz/s",
    "grid_time_deviation": "s",
    "load_difference": "MW",
    "deviation_spread": "mHz",
    **{f"deviation_p{percent}": "mHz" for percent in (1, 5, 10, 90, 95, 99)},
    "correction_expected": "mHz",
    "mean_deviation_recent": "mHz",
}
# The day's figures that only grow until midnight (total increasing), by key, with their units.
BOARD_TOTALS = {
    "measured_time": "min",
    **{
        f"time_{side}_{band}": "min"
        for band in (50, 100, 200)
        for side in ("over", "under")
    },
    "excursions": None,
    "excursions_not_restored": None,
}
ENERGIES = (
    "ch1_energy",
    "ch2_energy_imported",
    "ch2_energy_exported",
    *(f"{aux}_energy" for aux in AUX),
)
ECM_UNITS = {
    "voltage": "V",
    "voltage_minimum": "V",
    "voltage_maximum": "V",
    "ch1_current": "A",
    "ch2_current": "A",
    **{f"{channel}_power": "W" for channel in ("ch1", "ch2", *AUX)},
    **dict.fromkeys(ENERGIES, "kWh"),
}

# The unit's day of line voltage (total increasing), by key, with its unit.
ECM_TOTALS = {
    "voltage_measured_time": "min",
    "voltage_time_over": "min",
    "voltage_time_under": "min",
}

BEGIN = datetime.fromisoformat(START)
SNAPSHOTS = tuple(
    BEGIN + timedelta(seconds=UPDATE_INTERVAL * n) for n in range(1, len(READINGS) + 1)
)


def board_entry(link: PtyLink) -> MockConfigEntry:
    """The board's entry on `link`, with this scenario's interval and silence timeout."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=TITLE,
        data={
            CONF_DEVICE_KIND: DeviceKind.MFM,
            CONF_PORT: str(link.path),
            CONF_LINE_FORMAT: LineFormat.P4,
        },
        options=DEFAULT_OPTIONS | OPTIONS,
        entry_id=BOARD_ENTRY_ID,
    )


def unit_entry(link: PtyLink) -> MockConfigEntry:
    """The unit's entry on `link`, with this scenario's channels, interval and silence timeout."""
    return ecm_entry_for(
        str(link.path), options={**OPTIONS, **CHANNELS}, entry_id=ENTRY_ID
    )


async def play(
    hass: HomeAssistant,
    mfm_entry: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    simulation: Simulation,
    clock: Clock,
) -> None:
    """Set both entries up and run both devices through both intervals."""
    # The unit's entry is in Home Assistant already: loading the integration sets it up.
    await simulation.set_up()
    await set_up_connected(hass, mfm_entry)
    for interval, readings in enumerate(READINGS):
        for second, millihertz in enumerate(readings):
            line = board.line(millihertz, clock.elapsed)
            await send(mfm_entry, mfm_link, line, 1)
            if interval == second == 0:
                await simulation.start()
            else:
                await simulation.step(LOADS[interval], VOLTS[interval])
        await advance(hass, clock, UPDATE_INTERVAL - len(readings))


def entity_ids(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, str]:
    """The entry's entity ids by key, disabled ones included."""
    return {
        entity_key(hass, registered): registered.entity_id
        for registered in er.async_entries_for_config_entry(
            er.async_get(hass), entry.entry_id
        )
    }


def day_figures(deviations: list[int], measured: float) -> dict[str, float]:
    """The day's quality after the readings' `deviations` (mHz) over `measured` seconds.

    All within ±50 mHz: nothing beyond a limit, no excursion.
    """
    assert all(abs(deviation) <= 50 for deviation in deviations)
    ranked = sorted(deviations)
    return {
        "measured_time": round(measured / 60),
        **{
            f"time_{side}_{band}": 0.0
            for band in (50, 100, 200)
            for side in ("over", "under")
        },
        "excursions": 0,
        "excursions_not_restored": 0,
        "deviation_spread": round(pstdev(deviations), 1),
        **{
            f"deviation_p{percent}": ranked[math.ceil(percent / 100 * len(ranked)) - 1]
            for percent in (1, 5, 10, 90, 95, 99)
        },
        # The grid time stays far within ±20 s.
        "correction_expected": 0,
        "mean_deviation_recent": round(fmean(deviations)),
    }


def board_figures() -> list[dict[str, float]]:
    """The board's measurements and the day's figures at each snapshot, by key."""
    snapshots: list[dict[str, float]] = []
    grid_time = 0.0
    deviations: list[int] = []
    for readings in READINGS:
        deviations += [reading - NOMINAL_MHZ for reading in readings]
        mean = fmean(readings)
        slope = linear_regression(range(len(readings)), readings).slope
        # The trapezoids between consecutive readings, 1 s apart, as seconds of
        # grid time; the silence between the intervals counts for nothing.
        grid_time += sum((a + b) / 2 - NOMINAL_MHZ for a, b in pairwise(readings))
        snapshots.append(
            {
                "frequency": round(mean / 1000, 4),
                "frequency_minimum": min(readings) / 1000,
                "frequency_maximum": max(readings) / 1000,
                "deviation": round(mean - NOMINAL_MHZ, 1),
                "rate_of_change": round(slope, 2),
                "grid_time_deviation": round(grid_time / NOMINAL_MHZ, 3),
                "load_difference": round(fmean(map(load_difference, readings))),
                # Readings 1 s apart, each interval's first after a gap: one second
                # measured per reading, less one per interval.
                **day_figures(deviations, len(deviations) - len(snapshots) - 1),
            }
        )
    return snapshots


def amps(watts: float, volts: float) -> float:
    """A current as the unit sends it, in hundredths of an amp."""
    return round(abs(watts) / volts * 100) / 100


def ecm_figures() -> list[dict[str, float]]:
    """The unit's measurements and totals (kWh) at each snapshot, by key."""
    snapshots = []
    watt_seconds = dict.fromkeys(ENERGIES, 0.0)
    # A packet a second in the first seconds of each interval; the silence between
    # the intervals is shorter than the silence timeout, so it is measured time too.
    sent_at = [
        UPDATE_INTERVAL * index + second
        for index, readings in enumerate(READINGS)
        for second in range(len(readings))
    ]
    for index, (loads, volts, seconds) in enumerate(
        zip(LOADS, VOLTS, SECONDS, strict=True)
    ):
        currents = (amps(loads.ch1_watts, volts), amps(loads.ch2_watts, volts))
        # A current is the mean of the interval's packets; the baseline was sent before any load.
        packets = [(0.0, 0.0)] * (index == 0) + [currents] * seconds
        voltages = [BASELINE_VOLTS] * (index == 0) + [volts] * seconds
        arrived = sent_at[: sum(SECONDS[: index + 1]) + 1]
        measured = sum(
            later - earlier
            for earlier, later in pairwise(arrived)
            if later - earlier <= SILENCE_TIMEOUT
        )
        aux = dict(zip(AUX, loads.aux_watts, strict=True))
        for key, watts in (
            ("ch1_energy", abs(loads.ch1_watts)),
            ("ch2_energy_imported", max(loads.ch2_watts, 0)),
            ("ch2_energy_exported", max(-loads.ch2_watts, 0)),
            *((f"{name}_energy", abs(w)) for name, w in aux.items()),
        ):
            watt_seconds[key] += watts * seconds
        snapshots.append(
            {
                "voltage": volts,
                "voltage_minimum": min(voltages),
                "voltage_maximum": max(voltages),
                # 120 V and 122 V: automatically 120 V nominal, and within ±10 %.
                "voltage_measured_time": round(measured / 60),
                "voltage_time_over": 0.0,
                "voltage_time_under": 0.0,
                "nominal_voltage": 120,
                "ch1_current": round(fmean(ch1 for ch1, _ in packets), 2),
                "ch2_current": round(fmean(ch2 for _, ch2 in packets), 2),
                "ch1_power": abs(loads.ch1_watts),
                # Net metered: negative while exporting.
                "ch2_power": loads.ch2_watts,
                **{f"{name}_power": abs(w) for name, w in aux.items()},
                **{key: float(kwh(ws)) for key, ws in watt_seconds.items()},
            }
        )
    return snapshots
