"""The line voltage's figures, from a simulated unit on a real pty: the interval's extremes, the day's time beyond ±10 %.

Expected values are worked out here from the packets written to the pty: the voltage
is read from each packet's bytes 3-4 (big-endian tenths of a volt), then compared as
decimals. The unit sends a packet a second; each packet stands for the second since the
packet before it, unless a gap (an outage, a restart, midnight) came between them.
The entry publishes every 5 s from its set-up.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import (
    CONF_NOMINAL_VOLTAGE,
    DOMAIN,
    NOMINAL_AUTO,
)
from custom_components.mains_monitor.diagnostics import (
    async_get_config_entry_diagnostics,
)
from homeassistant.components.sensor import ATTR_STATE_CLASS, SensorStateClass
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
from simulator.ecm1240 import (
    SAG_AT,
    SAG_SECONDS,
    SWELL_AT,
    SWELL_SECONDS,
    EcmModel,
    sags_and_swells,
)
from simulator.links import PtyLink
from tests.ecm_unit import ENTRY_ID, INTERVAL, Simulation, ch1, ecm_entry_for
from tests.helpers import advance, restarted, silent_for

MINIMUM = "line_voltage_minimum"
MAXIMUM = "line_voltage_maximum"
VOLTAGE = "line_voltage"
OVER = "time_above_10_line_voltage_today"
UNDER = "time_below_10_line_voltage_today"
MEASURED = "line_voltage_measured_time_today"
NOMINAL = "nominal_line_voltage"
DAY = (OVER, UNDER, MEASURED)
LOAD = ch1(300)
# The simulator's 120 V line from 5 s before its sag to 5 s after its swell.
PROFILE = sags_and_swells(120.0)
SWINGS = [
    PROFILE(t)
    for t in (
        *range(SAG_AT - 5, SAG_AT + SAG_SECONDS + 5),
        *range(SWELL_AT - 5, SWELL_AT + SWELL_SECONDS + 5),
    )
]


@pytest.fixture
def nominal() -> str:
    """The entry's nominal voltage option."""
    return NOMINAL_AUTO


@pytest.fixture
def ecm_entry(ecm_link: PtyLink, model: EcmModel, nominal: str) -> MockConfigEntry:
    """Unit 5, serial 434 on the unit's pty, with the nominal voltage option."""
    return ecm_entry_for(
        str(ecm_link.path),
        model,
        options={CONF_NOMINAL_VOLTAGE: nominal},
        entry_id=ENTRY_ID,
    )


def sent_voltage(packet: bytes) -> Decimal:
    """The voltage a packet carries: bytes 3-4, big-endian, in tenths of a volt."""
    return Decimal(int.from_bytes(packet[3:5], "big")).scaleb(-1)


async def send_voltages(ecm: Simulation, voltages: list[float]) -> list[Decimal]:
    """One packet a second at each voltage, under LOAD; the voltages the packets carried."""
    sent = []
    for voltage in voltages:
        ecm.unit.voltage = voltage
        ecm.unit.advance(1, LOAD)
        packet = ecm.unit.packet()
        await ecm.send(packet)
        await ecm.tick()
        sent.append(sent_voltage(packet))
    return sent


def day_states(runs: list[list[Decimal]], nominal: int) -> dict[str, str]:
    """The day's states after runs of packets a second apart, each run after a gap."""
    upper, lower = Decimal(nominal) * Decimal("1.1"), Decimal(nominal) * Decimal("0.9")
    counted = [voltage for run in runs for voltage in run[1:]]
    over = sum(1 for voltage in counted if voltage > upper)
    under = sum(1 for voltage in counted if voltage < lower)
    return {
        OVER: str(round(over / 60, 1)),
        UNDER: str(round(under / 60, 1)),
        MEASURED: str(round(len(counted) / 60)),
    }


def shown(ecm: Simulation, keys: tuple[str, ...]) -> dict[str, str]:
    """The states of the unit's sensors by key."""
    return {key: ecm.state(key) for key in keys}


async def test_the_lowest_and_highest_voltage_of_each_interval(
    ecm: Simulation,
) -> None:
    """Through the simulator's sag: each interval's extremes; none in an interval without a packet."""
    ecm.unit.voltage = 120.0
    await ecm.start()
    first = [Decimal("120.0"), *await send_voltages(ecm, SWINGS[:4])]
    assert (ecm.state(MINIMUM), ecm.state(MAXIMUM)) == (
        str(min(first)),
        str(max(first)),
    )
    for start in range(4, 24, INTERVAL):
        interval = await send_voltages(ecm, SWINGS[start : start + INTERVAL])
        assert (ecm.state(MINIMUM), ecm.state(MAXIMUM)) == (
            str(min(interval)),
            str(max(interval)),
        ), interval
    assert ecm.state(MINIMUM) == "104.4"  # 120 V x 0.87, the sag's depth

    mean = ecm.state(VOLTAGE)
    await ecm.idle(LOAD, INTERVAL)
    assert (ecm.state(MINIMUM), ecm.state(MAXIMUM)) == (STATE_UNAVAILABLE,) * 2
    assert ecm.state(VOLTAGE) == mean  # the mean stands until the silence timeout
    await send_voltages(ecm, [121.3] * INTERVAL)
    assert (ecm.state(MINIMUM), ecm.state(MAXIMUM)) == ("121.3", "121.3")


async def test_a_day_of_sags_and_swells(hass: HomeAssistant, ecm: Simulation) -> None:
    """Automatic 120 V; the limits themselves are within; every second beyond is counted."""
    ecm.unit.voltage = 120.0
    await ecm.start()
    limits = [132.0, 132.1, 108.0, 107.9, 120.0]
    sent = [Decimal("120.0"), *await send_voltages(ecm, limits + SWINGS)]
    await ecm.tick(INTERVAL)

    expected = day_states([sent], 120)
    # The sag (90 s) and the swell (45 s), plus one second each at 132.1 V and 107.9 V,
    # in 160 s.
    assert expected == {OVER: "0.8", UNDER: "1.5", MEASURED: "3"}
    assert shown(ecm, DAY) == expected
    assert ecm.state(NOMINAL) == "120"
    diagnostics = await async_get_config_entry_diagnostics(hass, ecm.entry)
    counted = sent[1:]
    assert diagnostics["device"]["nominal_voltage"] == 120
    assert diagnostics["snapshot"]["voltage_day"] == {
        "nominal": 120,
        "measured": len(counted),
        "over": sum(1 for voltage in counted if voltage > 132),
        "under": sum(1 for voltage in counted if voltage < 108),
    }
    for key in DAY:
        entity = hass.states.get(f"{ecm.prefix}_{key}")
        assert entity is not None
        assert entity.attributes[ATTR_STATE_CLASS] == SensorStateClass.TOTAL_INCREASING


@pytest.mark.parametrize(
    ("nominal", "voltage", "states"),
    [
        # 35 s below 207 V; 35 s above 132 V; 35 s within.
        ("230", 120.0, {NOMINAL: "230", OVER: "0.0", UNDER: "0.6", MEASURED: "1"}),
        ("120", 230.0, {NOMINAL: "120", OVER: "0.6", UNDER: "0.0", MEASURED: "1"}),
        (
            NOMINAL_AUTO,
            230.0,
            {NOMINAL: "230", OVER: "0.0", UNDER: "0.0", MEASURED: "1"},
        ),
        # Near neither nominal: nothing is decided, nothing counted.
        (
            NOMINAL_AUTO,
            100.0,
            {NOMINAL: STATE_UNKNOWN, OVER: "0.0", UNDER: "0.0", MEASURED: "0"},
        ),
    ],
)
async def test_the_nominal_voltage_in_force(
    ecm: Simulation, voltage: float, states: dict[str, str]
) -> None:
    """The option's nominal voltage, or the automatic one; a diagnostic sensor shows it."""
    ecm.unit.voltage = voltage
    await ecm.start()
    await send_voltages(ecm, [voltage] * 35)
    await ecm.tick(INTERVAL)
    assert shown(ecm, tuple(states)) == states


@pytest.mark.parametrize("nominal", ["120"])
async def test_the_day_is_not_counted_across_an_outage(ecm: Simulation) -> None:
    """120 V fixed, 100 V sent around a 70 s outage: only the seconds between packets count."""
    ecm.unit.voltage = 100.0
    await ecm.start()
    before = [Decimal("100.0"), *await send_voltages(ecm, [100.0] * 44)]
    await ecm.unplug(LOAD, 70)
    after = await send_voltages(ecm, [100.0] * 40)
    await ecm.tick(INTERVAL)
    expected = day_states([before, after], 120)
    assert expected == {OVER: "0.0", UNDER: "1.4", MEASURED: "1"}  # 44 s + 39 s
    assert shown(ecm, DAY) == expected


async def test_the_day_starts_again_at_local_midnight(
    hass: HomeAssistant, ecm: Simulation
) -> None:
    """Yesterday's minutes are gone after midnight; today's packets alone count, on the same nominal."""
    ecm.unit.voltage = 104.0
    await ecm.start()
    await send_voltages(ecm, [104.0] * 30)
    await ecm.tick(INTERVAL)
    assert ecm.state(UNDER) == "0.5"

    now = dt_util.now()
    midnight = dt_util.start_of_local_day(now.date() + timedelta(days=1))
    # Silent until 10 s past midnight: the unit is lost, then the port reopened.
    await silent_for(hass, ecm.clock, ecm.entry, (midnight - now).total_seconds() + 10)
    today = await send_voltages(ecm, [135.0] * 13)
    await ecm.tick(INTERVAL)
    assert dt_util.now() > midnight
    assert day_states([today], 120) == {OVER: "0.2", UNDER: "0.0", MEASURED: "0"}
    assert shown(ecm, DAY) == day_states([today], 120)
    assert ecm.state(NOMINAL) == "120"


async def test_the_days_last_figures_are_shown_before_midnight(
    hass: HomeAssistant, ecm: Simulation
) -> None:
    """An update just before midnight shows the day's last figures; a late one still shows that day."""
    ecm.unit.voltage = 104.0
    await ecm.start()
    now = dt_util.now()
    midnight = dt_util.start_of_local_day(now.date() + timedelta(days=1))
    # Silent until 20 s before midnight: the unit is lost, then the port reopened.
    await silent_for(hass, ecm.clock, ecm.entry, (midnight - now).total_seconds() - 20)
    coordinator = ecm.coordinator
    shown: list[tuple[datetime, float]] = []
    coordinator.async_add_listener(
        lambda: shown.append(
            (coordinator.data.time, coordinator.data.voltage_day.under)
        )
    )
    sent = await send_voltages(ecm, [104.0] * 19)
    await advance(hass, ecm.clock, (midnight - dt_util.now()).total_seconds() + 0.5)
    # A packet after midnight starts the new day before anything else is published.
    ecm.unit.advance(1, LOAD)
    await ecm.send()

    day_end = midnight - timedelta(milliseconds=1)
    # Every packet but the first after the gap stands for a second below 108 V.
    assert [under for time, under in shown if time < midnight][-1:] == [len(sent) - 1]
    assert [time for time, _ in shown if time < midnight][-1] == day_end
    assert coordinator.build_snapshot(day_end).voltage_day.under == len(sent) - 1
    assert coordinator.voltage_day.summary().under == 0


async def test_the_day_goes_on_after_a_restart(
    hass: HomeAssistant, hass_storage: dict[str, Any], ecm: Simulation
) -> None:
    """The stop writes the day so far; the next start adds to it, with the restart as a gap."""
    ecm.unit.voltage = 120.0
    await ecm.start()
    before = [Decimal("120.0"), *await send_voltages(ecm, [106.0] * 40 + SWINGS)]
    await ecm.tick(INTERVAL)
    assert shown(ecm, DAY) == day_states([before], 120)

    async with restarted(hass, hass_storage) as new:
        stored = hass_storage[f"{DOMAIN}.{ENTRY_ID}"]["data"]["voltage_day"]
        counted = before[1:]
        assert {key: stored[key] for key in ("measured", "under", "nominal")} == {
            "measured": len(counted),
            "under": [sum(1 for voltage in counted if voltage < 108)],
            "nominal": 120,
        }
        again = ecm.restarted_in(new)
        await again.idle(LOAD, 60)
        await again.set_up()
        after = await send_voltages(again, [140.0] * 50)
        await again.tick(INTERVAL)
        expected = day_states([before, after], 120)
        assert shown(again, DAY) == expected
        assert expected[OVER] == str(round((45 + 49) / 60, 1))


async def test_a_day_saved_on_another_nominal_starts_again(
    hass: HomeAssistant, hass_storage: dict[str, Any], ecm: Simulation
) -> None:
    """Counted on the automatic 120 V, then restarted with 230 V set: the day starts again on 230 V."""
    ecm.unit.voltage = 120.0
    await ecm.start()
    await send_voltages(ecm, [106.0] * 30)
    await ecm.tick(INTERVAL)
    assert ecm.state(UNDER) == "0.5"

    async with restarted(hass, hass_storage) as new:
        again = ecm.restarted_in(new)
        new.config_entries.async_update_entry(
            again.entry, options={**again.entry.options, CONF_NOMINAL_VOLTAGE: "230"}
        )
        await again.set_up()
        after = await send_voltages(again, [120.0] * 13)
        await again.tick(INTERVAL)
        assert shown(again, (NOMINAL, *DAY)) == {
            NOMINAL: "230",
            **day_states([after], 230),
        }
        assert day_states([after], 230)[UNDER] == "0.2"  # 12 s below 207 V
