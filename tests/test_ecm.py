"""The ECM-1240 / ECM-1220 end to end: a simulated unit on a pty, the real harness, exact values.

Every expected value is worked out here from the loads the test applies: watts times
seconds gives watt-seconds, 3 600 000 of them make a kWh. The simulated unit keeps
pace with the test's clock: a `step` integrates one second of load, writes the
packet, waits until the entry has taken it, then lets the second pass. The entry
publishes every 5 s from its set-up, so five steps started on a multiple of 5 s
make one update interval, and the states are read right after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any, cast

import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.mains_monitor.const import (
    CONF_INVERTED,
    CONF_MODE,
    CONF_NAME,
    DOMAIN,
    ConnectionState,
)
from homeassistant.components.sensor import (
    ATTR_STATE_CLASS,
    SensorDeviceClass,
    SensorStateClass,
)
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    Platform,
    UnitOfEnergy,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from simulator.ecm1240 import (
    NEAR_WRAP_AUX,
    NEAR_WRAP_COUNTER,
    NEAR_WRAP_SECONDS,
    EcmCommandPort,
    EcmModel,
    EcmUnit,
    Loads,
    start_near_wraps,
)
from simulator.links import PtyLink
from tests.ecm_unit import DEVICE_ID, ENTRY_ID, INTERVAL, Simulation, ch1, kwh
from tests.helpers import (
    Clock,
    disabled_by_default,
    entity_key,
    restarted,
    track_states,
    wait_for_connection,
)

SOLAR_NET = {"ch2": {CONF_NAME: "Solar", CONF_MODE: "net", CONF_INVERTED: False}}
SOLAR_INVERTED = {"ch2": {CONF_NAME: "Solar", CONF_MODE: "net", CONF_INVERTED: True}}
ACK = b"\xfc"
POLL = b"\xfcSPK"


# --- entities ------------------------------------------------------------------------


@pytest.mark.parametrize("platforms", [[Platform.SENSOR]], ids=["sensor"])
@pytest.mark.parametrize("channels", [SOLAR_NET], ids=["solar_net"])
@pytest.mark.usefixtures("all_entities_enabled")
async def test_entities(
    hass: HomeAssistant,
    ecm: Simulation,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Every sensor, its registry entry and its state after one interval."""
    loads = Loads(ch1_watts=1200, ch2_watts=-600, aux_watts=(60, 25, 0, 10, 1500))
    ecm.unit.advance(0, loads)  # the baseline packet's currents, too
    await ecm.start()
    await ecm.steps(loads, 4)
    await snapshot_platform(hass, entity_registry, snapshot, ecm.entry.entry_id)


async def test_only_the_diagnostics_that_change_at_every_update_start_disabled(
    hass: HomeAssistant, ecm: Simulation
) -> None:
    """Counters, the last packet time and the raw DC input are off; Connection stays on."""
    assert disabled_by_default(hass, ENTRY_ID) == {
        "packets_accepted",
        "packets_rejected",
        "packets_foreign",
        "last_packet",
        "dc_voltage_raw",
    }


@pytest.mark.parametrize("channels", [SOLAR_NET])
async def test_energy_sensors_suit_the_energy_dashboard(
    hass: HomeAssistant, ecm: Simulation, entity_registry: er.EntityRegistry
) -> None:
    """Every energy total is kWh, device class energy, total_increasing."""
    await ecm.start()
    await ecm.steps(ch1(100), 4)
    energy = {
        entry.entity_id: hass.states.get(entry.entity_id)
        for entry in er.async_entries_for_config_entry(entity_registry, ENTRY_ID)
        if entry.original_device_class == SensorDeviceClass.ENERGY
    }
    assert sorted(energy) == sorted(
        f"{ecm.prefix}_{key}"
        for key in (
            "ch1_energy",
            "solar_energy_imported",
            "solar_energy_exported",
            *(f"aux{n}_energy" for n in range(1, 6)),
        )
    )
    for entity_id, state in energy.items():
        assert state is not None, entity_id
        assert state.attributes[ATTR_DEVICE_CLASS] == SensorDeviceClass.ENERGY
        assert state.attributes[ATTR_UNIT_OF_MEASUREMENT] == UnitOfEnergy.KILO_WATT_HOUR
        assert state.attributes[ATTR_STATE_CLASS] == SensorStateClass.TOTAL_INCREASING


# --- power, voltage, currents ---------------------------------------------------------


@pytest.mark.usefixtures("all_entities_enabled")
async def test_power_is_the_mean_of_the_intervals_counter_steps(
    ecm: Simulation,
) -> None:
    """Power per channel is the interval's energy over its seconds; voltage and currents the packets' mean."""
    aux = (60, 25, 0, 10, 1500)
    await ecm.start()
    await ecm.steps(Loads(ch1_watts=1000, aux_watts=aux), 4)
    assert ecm.state("ch1_power") == "1000.0"

    # CH1 draws 10, 4, 20, 15 and 2.5 A, CH2 1 to 5 A, at five voltages.
    volts = (120.0, 125.0, 100.0, 110.0, 128.0)
    ch1_amps = (10.0, 4.0, 20.0, 15.0, 2.5)
    ch2_amps = (1.0, 2.0, 3.0, 4.0, 5.0)
    for v, a1, a2 in zip(volts, ch1_amps, ch2_amps, strict=True):
        await ecm.step(Loads(ch1_watts=a1 * v, ch2_watts=a2 * v, aux_watts=aux), v)

    ch1_ws = 1200 + 500 + 2000 + 1650 + 320
    ch2_ws = 120 + 250 + 300 + 440 + 640
    assert ecm.state("ch1_power") == str(round(ch1_ws / 5, 1))  # 1134.0
    assert ecm.state("ch2_power") == str(round(ch2_ws / 5, 1))  # 350.0
    for n, watts in enumerate(aux, start=1):
        assert ecm.state(f"aux{n}_power") == str(float(watts))
    assert ecm.state("line_voltage") == "116.6"  # 583 V / 5
    assert ecm.state("ch1_current") == "10.3"  # 51.5 A / 5
    assert ecm.state("ch2_current") == "3.0"
    assert ecm.state("ch1_energy") == kwh(4 * 1000 + ch1_ws)
    assert ecm.state("ch2_energy") == kwh(ch2_ws)
    for n, watts in enumerate(aux, start=1):
        assert ecm.state(f"aux{n}_energy") == kwh(9 * watts)
    assert ecm.state("dc_input_raw") == "511"


async def test_an_interval_without_a_packet_keeps_voltage_and_currents(
    ecm: Simulation,
) -> None:
    """No packet in an interval: the last voltage, currents and power stand until the silence timeout."""
    loads = Loads(ch1_watts=7.25 * 118.5, ch2_watts=2.5 * 118.5)
    ecm.unit.voltage = 118.5
    ecm.unit.advance(0, loads)  # the baseline packet's currents, too
    await ecm.start()
    await ecm.steps(loads, 4)
    held = {
        "line_voltage": "118.5",
        "ch1_current": "7.25",
        "ch2_current": "2.5",
        "ch1_power": "859.0",  # the unit counts whole watt-seconds
        "ch2_power": "296.0",
    }
    assert {key: ecm.state(key) for key in held} == held

    await ecm.idle(loads, INTERVAL)  # the unit counts, but sends nothing
    assert {key: ecm.state(key) for key in held} == held
    await ecm.idle(loads, 50)  # 59 s since the last packet
    assert {key: ecm.state(key) for key in held} == held

    await ecm.idle(loads, 1)  # 60 s: the silence timeout
    await wait_for_connection(ecm.entry, ConnectionState.DISCONNECTED)
    assert {ecm.state(key) for key in held} == {STATE_UNAVAILABLE}


@pytest.mark.parametrize(
    ("channels", "power", "imported", "exported"),
    [
        (SOLAR_NET, "-1500.0", 0, 1500),
        (SOLAR_INVERTED, "1500.0", 1500, 0),
    ],
    ids=["as_installed", "inverted"],
)
async def test_a_net_metered_channel_exporting(
    ecm: Simulation, power: str, imported: int, exported: int
) -> None:
    """1 500 W of export: negative power, exported energy grows; inverted polarity swaps them."""
    export = Loads(ch1_watts=400, ch2_watts=-1500)
    await ecm.start()
    await ecm.steps(export, 4)
    assert ecm.state("solar_power") == power
    assert ecm.state("solar_energy_imported") == kwh(4 * imported)
    assert ecm.state("solar_energy_exported") == kwh(4 * exported)

    await ecm.steps(export, 5)
    assert ecm.state("solar_power") == power
    assert ecm.state("solar_energy_imported") == kwh(9 * imported)
    assert ecm.state("solar_energy_exported") == kwh(9 * exported)
    assert ecm.state("ch1_power") == "400.0"
    assert ecm.state("ch1_energy") == kwh(9 * 400)


@pytest.mark.parametrize("channels", [SOLAR_NET])
async def test_a_net_metered_channel_importing_then_exporting(ecm: Simulation) -> None:
    """A net channel's power is signed by direction; each total grows only with its own."""
    await ecm.start()
    await ecm.steps(Loads(ch2_watts=800), 4)
    assert ecm.state("solar_power") == "800.0"
    await ecm.steps(Loads(ch2_watts=800), 2)
    await ecm.steps(Loads(ch2_watts=-1200), 3)
    # 2 s at +800 W and 3 s at -1200 W: (1600 - 3600) / 5 s.
    assert ecm.state("solar_power") == "-400.0"
    assert ecm.state("solar_energy_imported") == kwh(6 * 800)
    assert ecm.state("solar_energy_exported") == kwh(3 * 1200)


# --- energy totals --------------------------------------------------------------------


@pytest.mark.parametrize("channels", [SOLAR_NET])
async def test_totals_run_on_across_every_wrap(ecm: Simulation, unit: EcmUnit) -> None:
    """The 2^40, 2^32 and 2^24 counters all wrap within the minute; totals just grow."""
    start_near_wraps(unit)
    loads = Loads(ch1_watts=1000, ch2_watts=-1500, aux_watts=(100,) * 5)
    await ecm.start()
    await ecm.steps(loads, 4)
    counted = 4
    for _ in range(11):
        await ecm.steps(loads, INTERVAL)
        counted += INTERVAL
        assert ecm.state("ch1_power") == "1000.0"
        assert ecm.state("solar_power") == "-1500.0"
        assert ecm.state("aux1_power") == "100.0"
        assert ecm.state("ch1_energy") == kwh(counted * 1000)
        assert ecm.state("solar_energy_exported") == kwh(counted * 1500)
        assert ecm.state("solar_energy_imported") == "0.0"
        for n in range(1, 6):
            assert ecm.state(f"aux{n}_energy") == kwh(counted * 100)

    # Every counter passed its wrap point.
    assert unit.seconds == (NEAR_WRAP_SECONDS + 59) % 2**24 == 29
    assert unit.ch1_abs_ws == (NEAR_WRAP_COUNTER + 59_000) % 2**40 < NEAR_WRAP_COUNTER
    assert unit.ch2_pol_ws == (NEAR_WRAP_COUNTER + 88_500) % 2**40 < NEAR_WRAP_COUNTER
    assert unit.aux_ws[0] == (NEAR_WRAP_AUX + 5_900) % 2**32 < NEAR_WRAP_AUX


async def test_a_device_reset_adds_and_subtracts_nothing(
    ecm: Simulation, unit: EcmUnit
) -> None:
    """The packet pair around a reset is skipped; the counting goes on from zero."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4)
    await ecm.steps(ch1(1000), 2)
    unit.advance(1, ch1(1000))
    unit.reset()
    await ecm.send()
    await ecm.tick()
    assert unit.reset_counter == 1
    assert unit.ch1_abs_ws == 0
    await ecm.steps(ch1(1000), 2)
    # Four pairs of 1 s each: the one across the reset is not among them.
    assert ecm.state("ch1_power") == "1000.0"
    assert ecm.state("ch1_energy") == kwh((4 + 2 + 2) * 1000)

    await ecm.steps(ch1(1000), INTERVAL)
    assert ecm.state("ch1_energy") == kwh((4 + 2 + 2 + 5) * 1000)


@pytest.mark.usefixtures("all_entities_enabled")
async def test_a_duplicate_and_a_late_packet_add_nothing(
    ecm: Simulation, unit: EcmUnit
) -> None:
    """The same packet twice, and an old one again later: counted as packets, not as energy."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4)
    unit.advance(1, ch1(1000))
    packet = unit.packet()
    await ecm.send(packet)
    await ecm.send(packet)
    await ecm.tick()
    await ecm.steps(ch1(1000), 2)
    await ecm.send(packet)
    await ecm.tick()
    await ecm.step(ch1(1000))
    assert ecm.state("ch1_energy") == kwh((4 + 4) * 1000)
    assert ecm.state("ch1_power") == "1000.0"
    assert ecm.state("packets_accepted") == str(5 + 2 + 2 + 1 + 1)


async def test_an_outage_is_counted_once_from_the_counters(ecm: Simulation) -> None:
    """Ten minutes unplugged at 3 kW: that energy once; power afterwards is today's."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4 + INTERVAL)
    assert ecm.state("ch1_energy") == kwh(9 * 1000)

    outage = await ecm.unplug(ch1(3000), 10 * 60)
    await ecm.steps(ch1(400), INTERVAL)
    # The pair across the outage: its 3 kW seconds and the first 400 W second.
    assert ecm.state("ch1_energy") == kwh(9 * 1000 + outage * 3000 + 5 * 400)
    assert ecm.state("ch1_power") == "400.0"
    await ecm.steps(ch1(400), INTERVAL)
    assert ecm.state("ch1_energy") == kwh(9 * 1000 + outage * 3000 + 10 * 400)
    assert ecm.state("ch1_power") == "400.0"


async def test_power_after_a_short_outage_is_not_the_outages_average(
    ecm: Simulation,
) -> None:
    """Two minutes unplugged at 3 kW, then 400 W: the energy counts, the power is 400 W."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4 + INTERVAL)
    outage = await ecm.unplug(ch1(3000), 2 * 60)
    assert outage < 300
    await ecm.steps(ch1(400), INTERVAL)
    assert ecm.state("ch1_energy") == kwh(9 * 1000 + outage * 3000 + 5 * 400)
    assert ecm.state("ch1_power") == "400.0"


# --- Home Assistant restarts ----------------------------------------------------------


def stored_ledger(hass_storage: dict[str, Any]) -> dict[str, Any]:
    """The energy ledger the entry saved."""
    return cast(dict[str, Any], hass_storage[f"{DOMAIN}.{ENTRY_ID}"]["data"])


async def test_a_restart_keeps_the_totals(
    hass: HomeAssistant, ecm: Simulation, unit: EcmUnit, hass_storage: dict[str, Any]
) -> None:
    """A stop saves the ledger; the next start restores it and counts the time in between once."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4 + INTERVAL)
    down = 6 * 60
    async with restarted(hass, hass_storage) as new:
        ledger = stored_ledger(hass_storage)
        assert ledger["totals"]["ch1"] == [9 * 1000, 0]
        assert ledger["baseline"]["seconds"] == unit.seconds == 9

        again = ecm.restarted_in(new)
        await again.idle(ch1(2000), down)
        await again.set_up()
        await again.steps(ch1(500), INTERVAL)
        assert again.state("ch1_energy") == kwh(9 * 1000 + down * 2000 + 5 * 500)
        assert again.state("ch1_power") == "500.0"
        await again.steps(ch1(500), INTERVAL)
        assert again.state("ch1_energy") == kwh(9 * 1000 + down * 2000 + 10 * 500)

        await again.unload()
        assert stored_ledger(hass_storage)["totals"]["ch1"] == [
            9 * 1000 + down * 2000 + 10 * 500,
            0,
        ]


async def test_a_reset_while_home_assistant_was_down_adds_nothing(
    hass: HomeAssistant, ecm: Simulation, unit: EcmUnit, hass_storage: dict[str, Any]
) -> None:
    """The first packet after the start shows the reset: the totals go on from where they were."""
    await ecm.start()
    await ecm.steps(ch1(1000), 4 + INTERVAL)
    async with restarted(hass, hass_storage) as new:
        assert stored_ledger(hass_storage)["totals"]["ch1"] == [9 * 1000, 0]

        again = ecm.restarted_in(new)
        await again.idle(ch1(2000), 100)
        unit.reset()
        await again.idle(ch1(2000), 20)
        await again.set_up()
        await again.steps(ch1(500), INTERVAL)
        assert again.state("ch1_energy") == kwh(9 * 1000 + 4 * 500)
        assert again.state("ch1_power") == "500.0"
        await again.steps(ch1(500), INTERVAL)
        assert again.state("ch1_energy") == kwh(9 * 1000 + 9 * 500)


# --- other units, counters ------------------------------------------------------------


@pytest.mark.usefixtures("all_entities_enabled")
async def test_a_packet_from_another_unit_is_left_out(
    hass: HomeAssistant, ecm: Simulation, issue_registry: ir.IssueRegistry
) -> None:
    """Another unit's packet: counted as foreign, a repair issue, nothing mixed in."""
    other = EcmUnit(unit_id=7, serial=1234, ch1_abs_ws=9_000_000, seconds=50_000)
    await ecm.start()
    await ecm.steps(ch1(1000), 2)
    ecm.unit.advance(1, ch1(1000))
    await ecm.send(other.packet() + ecm.unit.packet(), packets=2)
    await ecm.tick()
    await ecm.step(ch1(1000))
    assert ecm.state("packets_from_other_units") == "1"
    assert ecm.state("ch1_energy") == kwh(4 * 1000)
    assert ecm.state("ch1_power") == "1000.0"
    issue = issue_registry.async_get_issue(DOMAIN, f"foreign_device_{ENTRY_ID}")
    assert issue is not None
    assert issue.translation_placeholders is not None
    assert issue.translation_placeholders["found"] == "701234"
    assert issue.translation_placeholders["expected"] == DEVICE_ID

    other.advance(5, ch1(50_000))
    ecm.unit.advance(1, ch1(1000))
    await ecm.send(ecm.unit.packet() + other.packet(), packets=2)
    await ecm.tick()
    await ecm.steps(ch1(1000), 4)
    assert ecm.state("packets_from_other_units") == "2"
    assert ecm.state("ch1_energy") == kwh(9 * 1000)
    assert ecm.state("ch1_power") == "1000.0"


@pytest.mark.usefixtures("all_entities_enabled")
async def test_the_last_packet_time_moves_only_with_a_packet(
    hass: HomeAssistant, ecm: Simulation
) -> None:
    """The arrival of the latest packet, written when it changes, not at every update."""
    changes = track_states(hass, f"{ecm.prefix}_last_packet")
    await ecm.start()
    await ecm.steps(ch1(100), 3)
    await ecm.tick()
    assert ecm.state("last_packet") == "2026-11-22T12:00:03+00:00"
    await ecm.tick(INTERVAL)
    assert ecm.state("last_packet") == "2026-11-22T12:00:03+00:00"
    await ecm.step(ch1(100))
    await ecm.tick(INTERVAL - 1)
    assert ecm.state("last_packet") == "2026-11-22T12:00:10+00:00"
    assert changes == ["2026-11-22T12:00:03+00:00", "2026-11-22T12:00:10+00:00"]


async def test_the_replaced_seconds_since_packet_sensor_is_removed(
    simulation: Simulation, entity_registry: er.EntityRegistry
) -> None:
    """An entity of the former time-since-last-packet sensor leaves the registry at set-up."""
    old = entity_registry.async_get_or_create(
        "sensor",
        DOMAIN,
        f"{ENTRY_ID}_seconds_since_packet",
        config_entry=simulation.entry,
        suggested_object_id="ecm_1240_500434_time_since_last_packet",
    )

    await simulation.set_up()

    assert entity_registry.async_get(old.entity_id) is None
    assert entity_registry.async_get(f"{simulation.prefix}_last_packet") is not None


@pytest.mark.usefixtures("all_entities_enabled")
async def test_packets_accepted_and_rejected(ecm: Simulation) -> None:
    """Every good packet is accepted; a corrupted one is rejected and adds nothing."""
    await ecm.start()
    await ecm.steps(ch1(100), 4)
    assert ecm.state("packets_accepted") == "5"
    assert ecm.state("packets_rejected") == "0"

    ecm.unit.advance(1, ch1(100))
    good = ecm.unit.packet()
    corrupted = good[:10] + bytes([good[10] ^ 0x01]) + good[11:]
    await ecm.send(corrupted + good)
    await ecm.tick()
    await ecm.steps(ch1(100), 4)
    assert ecm.state("packets_accepted") == "10"
    assert ecm.state("packets_rejected") == "1"
    assert ecm.state("ch1_energy") == kwh(9 * 100)


# --- polling --------------------------------------------------------------------------


class PolledUnit:
    """A unit with real-time mode off: it only answers what the host writes."""

    def __init__(self, unit: EcmUnit, link: PtyLink, clock: Clock) -> None:
        """Answer on `link`, counting one second of load per second of `clock`."""
        self.unit = unit
        self.port = EcmCommandPort(unit)
        self.link = link
        self.clock = clock
        self.received: list[tuple[float, bytes]] = []
        self.loads = Loads()
        self._counted = 0

    async def serve(self) -> None:
        """Answer the host until cancelled."""
        while True:
            data = await self.link.receive()
            self.received.append((self.clock.elapsed, data))
            now = round(self.clock.elapsed)
            self.unit.advance(now - self._counted, self.loads)
            self._counted = now
            if answer := self.port.receive(data):
                self.link.write(answer)


@pytest.fixture
async def polled_unit(
    unit: EcmUnit, ecm_link: PtyLink, clock: Clock
) -> AsyncIterator[PolledUnit]:
    """The unit, silent and answering the host, for as long as the test runs."""
    unit.realtime = False
    polled = PolledUnit(unit, ecm_link, clock)
    task = asyncio.create_task(polled.serve())
    yield polled
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("poll_interval", [10])
@pytest.mark.usefixtures("all_entities_enabled")
async def test_polling_a_silent_unit(
    polled_unit: PolledUnit, simulation: Simulation
) -> None:
    """Every 10 s the entry sends FC SPK, nothing else, and the answers become the values."""
    await simulation.set_up()
    polled_unit.loads = Loads(ch1_watts=600, aux_watts=(50, 0, 0, 0, 0))
    await simulation.tick(9)
    assert polled_unit.received == []
    async with simulation.expecting(1):
        await simulation.tick()
    await simulation.tick(9)
    async with simulation.expecting(1):
        await simulation.tick()
    polled_unit.loads = Loads(ch1_watts=900, aux_watts=(50, 0, 0, 0, 0))
    await simulation.tick(5)
    # The pair of polls at 10 s and 20 s: 10 s at 600 W, published at 25 s.
    assert simulation.state("ch1_power") == "600.0"
    assert simulation.state("ch1_energy") == kwh(10 * 600)
    assert simulation.state("aux1_power") == "50.0"
    # No packet in the last interval: the voltage of the last one still stands.
    assert simulation.state("line_voltage") == "120.0"
    await simulation.tick(4)
    async with simulation.expecting(1):
        await simulation.tick()
    await simulation.tick(5)
    assert simulation.state("ch1_power") == "900.0"
    assert simulation.state("ch1_energy") == kwh(10 * 600 + 10 * 900)
    assert simulation.state("aux1_energy") == kwh(20 * 50)
    assert simulation.state("packets_accepted") == "3"

    sent = b"".join(data for _at, data in polled_unit.received)
    assert sent == POLL * 3
    assert [at for at, data in polled_unit.received if data.startswith(ACK)] == [
        10.0,
        20.0,
        30.0,
    ]


# --- the ECM-1220 ---------------------------------------------------------------------


ECM_1220_KEYS = {
    "voltage",
    "voltage_minimum",
    "voltage_maximum",
    "voltage_measured_time",
    "voltage_time_over",
    "voltage_time_under",
    "nominal_voltage",
    "ch1_current",
    "ch2_current",
    "packets_accepted",
    "packets_rejected",
    "packets_foreign",
    "last_packet",
    "connection_state",
    "ch1_power",
    "ch1_energy",
    "ch2_power",
    "ch2_energy",
}


def entity_keys(hass: HomeAssistant, entity_registry: er.EntityRegistry) -> set[str]:
    """The description keys of the entry's entities."""
    return {
        entity_key(hass, entry)
        for entry in er.async_entries_for_config_entry(entity_registry, ENTRY_ID)
    }


@pytest.mark.parametrize("model", [EcmModel.ECM_1220])
async def test_an_ecm_1220_has_no_aux_channels(
    ecm: Simulation, entity_registry: er.EntityRegistry
) -> None:
    """The two-channel model gets CH1 and CH2 only, and reads them."""
    assert not {key for key in entity_keys(ecm.hass, entity_registry) if "aux" in key}
    assert entity_keys(ecm.hass, entity_registry).issuperset(ECM_1220_KEYS)
    await ecm.start()
    await ecm.steps(Loads(ch1_watts=700, ch2_watts=300), 4)
    assert ecm.state("ch1_power") == "700.0"
    assert ecm.state("ch2_power") == "300.0"
    assert ecm.state("ch1_energy") == kwh(4 * 700)
    assert ecm.state("ch2_energy") == kwh(4 * 300)


@pytest.mark.parametrize("model", [EcmModel.ECM_1220])
async def test_an_ecm_1220_has_no_dc_input(
    ecm: Simulation, entity_registry: er.EntityRegistry
) -> None:
    """The ECM-1220 has no DC input, so no entity for it."""
    assert entity_keys(ecm.hass, entity_registry) == ECM_1220_KEYS
