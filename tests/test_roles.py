"""Channel roles end to end: grid, return, solar and the unmetered remainder, exact.

A house is simulated second by second: circuits, solar and a load no CT measures
(the hidden remainder); the main carries their sum. Each packet the unit sends is
decoded here from its bytes, by the offsets of the protocol notes; every expected
power and energy is worked out from those counters, and the remainder is checked
once more against the hidden load itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings, strategies as st
import pytest

from custom_components.mains_monitor.const import (
    CONF_INVERTED,
    CONF_MODE,
    CONF_ROLE,
    ChannelMode,
    ChannelRole,
)
from custom_components.mains_monitor.diagnostics import (
    async_get_config_entry_diagnostics,
)
from custom_components.mains_monitor.energy import ChannelCounters
from custom_components.mains_monitor.roles import Roles, role_errors, role_sensors
from homeassistant.components.sensor import ATTR_STATE_CLASS
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from simulator.ecm1240 import Loads
from tests.ecm_unit import ENTRY_ID, INTERVAL, Simulation, kwh
from tests.helpers import restarted

AUX = ("aux1", "aux2", "aux3", "aux4", "aux5")
# Loads in whole watts: the unit counts whole watt-seconds, so nothing is rounded
# away and the remainder equals the hidden load exactly.
HIDDEN = (120, 80, 95, 300, 60)


@dataclass(frozen=True, slots=True)
class House:
    """One second of the house: the loads the unit sees and the load it does not."""

    loads: Loads
    hidden: int


def battery_house(t: int) -> House:
    """CH1 the net-metered main, CH2 a battery (a net circuit), AUX1 solar, AUX5 off."""
    i = t % 5
    hidden = HIDDEN[i] + t
    battery = (500, -200, 0, -1000, 250)[i]
    solar = (0, 900, 1500, 1400, 300)[i]
    circuits = (60, (25, 2000, 2000, 0, 25)[i], 310)
    main = battery + sum(circuits) + hidden - solar
    return House(
        Loads(ch1_watts=main, ch2_watts=battery, aux_watts=(solar, *circuits, 4000)),
        hidden,
    )


def inverter_house(t: int) -> House:
    """AUX1 a consumption main, CH2 an inverter net-metered (production is export), CH1 and AUX2-AUX5 circuits."""
    i = t % 5
    hidden = HIDDEN[i] + t
    production = (0, 700, 2500, 1200, 0)[i]
    # At night the inverter draws a few watts of its own.
    inverter = 5 if production == 0 else -production
    circuits = (2600 + 100 * i, 60, 25, 0, 300)
    main = sum(circuits) + hidden + inverter
    return House(
        Loads(
            ch1_watts=circuits[0], ch2_watts=inverter, aux_watts=(main, *circuits[1:])
        ),
        hidden,
    )


BATTERY_HOUSE: dict[str, dict[str, Any]] = {
    "ch1": {CONF_MODE: "net", CONF_INVERTED: False, CONF_ROLE: "main"},
    "ch2": {CONF_MODE: "net", CONF_INVERTED: False, CONF_ROLE: "circuit"},
    "aux1": {CONF_MODE: "consumption", CONF_ROLE: "solar"},
    "aux5": {CONF_MODE: "off", CONF_ROLE: "circuit"},
}
INVERTER_HOUSE: dict[str, dict[str, Any]] = {
    "ch2": {CONF_MODE: "net", CONF_INVERTED: False, CONF_ROLE: "solar"},
    "aux1": {CONF_MODE: "consumption", CONF_ROLE: "main"},
}
HOUSES = {
    "battery": (BATTERY_HOUSE, battery_house),
    "inverter": (INVERTER_HOUSE, inverter_house),
}


# --- the packets, decoded here --------------------------------------------------------

type Steps = dict[str, tuple[int, int]]  # watt-seconds by channel: (imported, exported)


def decoded(packet: bytes) -> tuple[int, dict[str, tuple[int, int]]]:
    """The seconds and the (absolute, polarized) counters of an ECM-1240 packet."""

    def field(offset: int, size: int) -> int:
        """A little-endian field."""
        return int.from_bytes(packet[offset : offset + size], "little")

    counters = {
        "ch1": (field(5, 5), field(15, 5)),
        "ch2": (field(10, 5), field(20, 5)),
    }
    for number, channel in enumerate(AUX):
        counters[channel] = (field(40 + 4 * number, 4), 0)
    return field(37, 3), counters


def between(first: bytes, last: bytes) -> tuple[int, Steps]:
    """The seconds and each channel's imported and exported watt-seconds from one packet to another."""
    start, before = decoded(first)
    end, after = decoded(last)
    steps: Steps = {}
    for channel, (absolute, polarized) in after.items():
        bits = 32 if channel in AUX else 40
        gone = (absolute - before[channel][0]) % (1 << bits)
        exported = (polarized - before[channel][1]) % (1 << 40)
        steps[channel] = (gone - exported, exported)
    return (end - start) % (1 << 24), steps


def expected(channels: dict[str, dict[str, Any]], steps: Steps) -> dict[str, int]:
    """Watt-seconds by role, by the README's definitions.

    Grid consumption is the main's import (all it carries, if not net-metered),
    return to grid its export; solar production what the solar channels put out
    (their export, if net-metered); the remainder is what the house used beyond
    its circuits: the main's net import, plus what solar put out, minus the
    circuits' draw (net of export).
    """
    flows = {"grid_consumption": 0, "grid_return": 0, "solar_production": 0}
    unmetered = 0
    for channel, (imported, exported) in steps.items():
        section = channels.get(channel, {})
        net = section.get(CONF_MODE) == "net"
        role = section.get(CONF_ROLE, "circuit")
        if section.get(CONF_MODE) == "off":
            continue
        drawn = imported - exported if net else imported
        if role == "main":
            flows["grid_consumption"] += imported
            flows["grid_return"] += exported
            unmetered += drawn
        elif role == "solar":
            flows["solar_production"] += exported if net else imported
            unmetered -= drawn if net else -imported
        else:
            unmetered -= drawn
    return flows | {"unmetered": unmetered}


def watts(watt_seconds: int, seconds: int) -> str:
    """The state of a power sensor: the mean over the seconds, to 0.1 W."""
    return str(round(watt_seconds / seconds, 1) + 0.0)


# --- end to end -----------------------------------------------------------------------


@pytest.fixture(params=HOUSES, ids=list(HOUSES))
def house(request: pytest.FixtureRequest) -> str:
    """Which house is simulated."""
    return str(request.param)


@pytest.fixture
def channels(house: str) -> dict[str, dict[str, Any]]:
    """The channel sections of the house's options."""
    return HOUSES[house][0]


async def run(
    ecm: Simulation, second: Callable[[int], House], seconds: int
) -> tuple[list[bytes], list[int]]:
    """The baseline packet, then `seconds` of the house; every packet sent, and the hidden loads."""
    await ecm.start()
    packets = [ecm.unit.packet()]
    hidden: list[int] = []
    for t in range(seconds):
        now = second(t)
        await ecm.step(now.loads)
        packets.append(ecm.unit.packet())
        hidden.append(now.hidden)
    return packets, hidden


async def test_role_figures_are_exact_over_the_simulated_house(
    ecm: Simulation, house: str
) -> None:
    """Power over the last interval and energy since the start, each to its resolution."""
    channels, second = HOUSES[house]
    packets, hidden = await run(ecm, second, 4 + 2 * INTERVAL)

    seconds, interval = between(packets[-1 - INTERVAL], packets[-1])
    power = expected(channels, interval)
    _, since_start = between(packets[0], packets[-1])
    energy = expected(channels, since_start)

    assert seconds == INTERVAL
    assert power["unmetered"] == sum(hidden[-INTERVAL:])
    assert energy["unmetered"] == sum(hidden)
    shown = {
        key: ecm.state(f"{key}_power")
        for key in ("grid_consumption", "solar_production", "unmetered")
    } | {
        key: ecm.state(f"{key}_energy")
        for key in ("grid_consumption", "solar_production")
    }
    assert shown == {
        key: watts(power[key], seconds)
        for key in ("grid_consumption", "solar_production", "unmetered")
    } | {key: kwh(energy[key]) for key in ("grid_consumption", "solar_production")}
    if house == "battery":
        assert ecm.state("return_to_grid_power") == watts(power["grid_return"], seconds)
        assert ecm.state("return_to_grid_energy") == kwh(energy["grid_return"])
        assert power["grid_return"] > 0


async def test_role_sensors_are_made_for_the_energy_dashboard(
    hass: HomeAssistant, ecm: Simulation, house: str
) -> None:
    """Power: W, power, measurement. Energy: kWh, energy, total_increasing. No remainder energy."""
    await run(ecm, HOUSES[house][1], 4)
    registry = er.async_get(hass)
    keys = {
        entity.unique_id.removeprefix(f"{ecm.entry.unique_id}_"): entity.entity_id
        for entity in er.async_entries_for_config_entry(registry, ENTRY_ID)
    }
    roles = {
        "grid_consumption_power",
        "grid_consumption_energy",
        "solar_production_power",
        "solar_production_energy",
        "unmetered_power",
    } | (
        {"return_to_grid_power", "return_to_grid_energy"}
        if house == "battery"
        else set()
    )

    assert roles <= keys.keys()
    assert not {"return_to_grid_power", "unmetered_energy"} & (keys.keys() - roles)
    for key in roles:
        shown = hass.states.get(keys[key])
        assert shown is not None
        attributes = shown.attributes
        power = key.endswith("_power")
        assert (
            attributes[ATTR_DEVICE_CLASS],
            attributes[ATTR_UNIT_OF_MEASUREMENT],
            attributes[ATTR_STATE_CLASS],
        ) == (
            ("power", "W", "measurement")
            if power
            else ("energy", "kWh", "total_increasing")
        ), key


@pytest.mark.parametrize("house", ["inverter"])
async def test_role_sensors_are_unavailable_without_data_and_energy_goes_on(
    ecm: Simulation,
) -> None:
    """Unplugged: every role figure unavailable; back: the outage's energy once, today's power."""
    packets, _ = await run(ecm, inverter_house, 4 + INTERVAL)
    outage = await ecm.unplug(inverter_house(2).loads, 60)
    assert {
        ecm.state(key)
        for key in (
            "grid_consumption_power",
            "solar_production_power",
            "unmetered_power",
            "grid_consumption_energy",
            "solar_production_energy",
        )
    } == {STATE_UNAVAILABLE}

    for t in range(INTERVAL):
        await ecm.step(inverter_house(t).loads)
    last = ecm.unit.packet()

    _, since_start = between(packets[0], last)
    energy = expected(INVERTER_HOUSE, since_start)
    assert decoded(last)[0] == 4 + INTERVAL + outage + INTERVAL
    assert ecm.state("grid_consumption_energy") == kwh(energy["grid_consumption"])
    assert ecm.state("solar_production_energy") == kwh(energy["solar_production"])
    # The first pair spans the outage: the power is that of the four pairs after it.
    hidden = sum(inverter_house(t).hidden for t in range(1, INTERVAL))
    assert ecm.state("unmetered_power") == watts(hidden, INTERVAL - 1)


@pytest.mark.parametrize("house", ["battery"])
async def test_role_energy_goes_on_across_a_restart(
    hass: HomeAssistant, ecm: Simulation, hass_storage: dict[str, Any]
) -> None:
    """Stopped, down six minutes, started again: every role total is what the packets say."""
    packets, _ = await run(ecm, battery_house, 4 + INTERVAL)
    async with restarted(hass, hass_storage) as new:
        again = ecm.restarted_in(new)
        await again.idle(battery_house(3).loads, 6 * 60)
        await again.set_up()
        for t in range(INTERVAL):
            await again.step(battery_house(t).loads)

        _, since_start = between(packets[0], again.unit.packet())
        energy = expected(BATTERY_HOUSE, since_start)
        assert {
            key: again.state(f"{key}_energy")
            for key in ("grid_consumption", "return_to_grid", "solar_production")
        } == {
            "grid_consumption": kwh(energy["grid_consumption"]),
            "return_to_grid": kwh(energy["grid_return"]),
            "solar_production": kwh(energy["solar_production"]),
        }
        assert energy["grid_return"] > 0


# --- which sensors the roles make -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Setup:
    """A channel's role and mode, as the options hold them."""

    role: ChannelRole
    mode: ChannelMode = ChannelMode.CONSUMPTION


MAIN, SOLAR, CIRCUIT = ChannelRole.MAIN, ChannelRole.SOLAR, ChannelRole.CIRCUIT
NET, OFF = ChannelMode.NET, ChannelMode.OFF


@pytest.mark.without_hass
@pytest.mark.parametrize(
    ("setups", "keys"),
    [
        ({"ch1": Setup(CIRCUIT), "aux1": Setup(CIRCUIT)}, set()),
        ({"ch1": Setup(MAIN)}, {"grid_consumption_power", "grid_consumption_energy"}),
        (
            {"ch1": Setup(MAIN, NET), "aux1": Setup(CIRCUIT, OFF)},
            {
                "grid_consumption_power",
                "grid_consumption_energy",
                "return_to_grid_power",
                "return_to_grid_energy",
            },
        ),
        (
            {"ch1": Setup(MAIN), "aux1": Setup(CIRCUIT)},
            {"grid_consumption_power", "grid_consumption_energy", "unmetered_power"},
        ),
        (
            {"ch2": Setup(SOLAR, NET), "aux1": Setup(CIRCUIT)},
            {"solar_production_power", "solar_production_energy"},
        ),
    ],
    ids=["circuits-only", "main-only", "net-main", "main-and-circuit", "solar-only"],
)
def test_sensors_exist_only_where_the_roles_give_them_meaning(
    setups: dict[str, Setup], keys: set[str]
) -> None:
    """Grid needs a main, return a net-metered main, solar a solar channel, the remainder a main and a circuit."""
    assert {sensor.key for sensor in role_sensors(Roles.of(setups))} == keys


@pytest.mark.without_hass
def test_errors_name_the_channel_and_what_to_check() -> None:
    """A main or solar that is off, and every main after the first, in channel order."""
    setups = {
        "ch1": Setup(MAIN, OFF),
        "ch2": Setup(MAIN, NET),
        "aux1": Setup(SOLAR, OFF),
        "aux2": Setup(MAIN),
        "aux3": Setup(CIRCUIT, OFF),
    }
    assert role_errors(setups) == {
        "ch1": "main_off",
        "aux1": "solar_off",
        "aux2": "second_main",
    }


# --- the arithmetic, for any house ----------------------------------------------------

WS = st.integers(0, 10**9)


@st.composite
def houses(
    draw: st.DrawFn,
) -> tuple[dict[str, Setup], dict[str, ChannelCounters], int, int, int]:
    """A house of random roles and flows: setups, counters, and the true unmetered, solar and net import."""
    channels = [f"c{n}" for n in range(draw(st.integers(1, 7)))]
    main = draw(st.sampled_from([None, *channels]))
    setups: dict[str, Setup] = {}
    counters: dict[str, ChannelCounters] = {}
    unmetered = draw(st.integers(-(10**6), 10**9))
    produced = net_output = drawn_by_circuits = 0
    for channel in channels:
        if channel == main:
            continue
        role = draw(st.sampled_from([SOLAR, CIRCUIT, CIRCUIT]))
        mode = draw(st.sampled_from([ChannelMode.CONSUMPTION, NET, OFF]))
        imported, exported = draw(WS), draw(WS) if mode is NET else 0
        setups[channel] = Setup(role, mode)
        counters[channel] = ChannelCounters(imported + exported, exported)
        if mode is OFF:
            continue
        if role is SOLAR:
            # Consumption-mode solar counts all it carries as production.
            produced += exported if mode is NET else imported
            net_output += exported - imported if mode is NET else imported
        else:
            drawn_by_circuits += imported - exported
    grid = unmetered + drawn_by_circuits - net_output
    if main is not None:
        mode = NET if grid < 0 or draw(st.booleans()) else ChannelMode.CONSUMPTION
        extra = draw(WS) if mode is NET else 0  # import and export in one stretch
        imported, exported = max(grid, 0) + extra, max(-grid, 0) + extra
        setups[main] = Setup(MAIN, mode)
        counters[main] = ChannelCounters(imported + exported, exported)
    return setups, counters, unmetered, produced, grid


@pytest.mark.without_hass
@settings(max_examples=300, deadline=None)
@given(houses())
def test_the_remainder_is_the_load_no_circuit_measures(
    house: tuple[dict[str, Setup], dict[str, ChannelCounters], int, int, int],
) -> None:
    """Whatever the roles and flows: the remainder is the hidden load, solar what was produced, grid the net import."""
    setups, counters, unmetered, produced, grid = house
    roles = Roles.of(setups)
    flows = roles.flows(counters)

    assert flows.solar_production == produced
    if roles.main is None:
        assert (flows.grid_consumption, flows.grid_return) == (0, 0)
        return
    assert flows.grid_consumption - flows.grid_return == grid
    assert flows.grid_return == (
        counters[roles.main].polarized if roles.main_net else 0
    )
    assert flows.unmetered == unmetered


# --- diagnostics ----------------------------------------------------------------------


@pytest.mark.parametrize("house", ["battery"])
async def test_diagnostics_show_the_roles_and_their_figures(
    hass: HomeAssistant, ecm: Simulation
) -> None:
    """The channels by role, and the last snapshot's power and energy by role."""
    packets, hidden = await run(ecm, battery_house, 4 + INTERVAL)
    _, interval = between(packets[-1 - INTERVAL], packets[-1])
    power = expected(BATTERY_HOUSE, interval)

    diagnostics = await async_get_config_entry_diagnostics(hass, ecm.entry)

    assert diagnostics["device"]["roles"] == {
        "main": "ch1",
        "main_net_metered": True,
        "solar": ["aux1"],
        "circuits": ["ch2", "aux2", "aux3", "aux4"],
    }
    assert diagnostics["snapshot"]["roles"]["power"] == {
        "grid_consumption": power["grid_consumption"] / INTERVAL,
        "grid_return": power["grid_return"] / INTERVAL,
        "solar_production": power["solar_production"] / INTERVAL,
        "unmetered": sum(hidden[-INTERVAL:]) / INTERVAL,
    }
