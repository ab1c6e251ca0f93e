"""Home Assistant restarts as they happen: a stop, which unloads no entry, then a new start.

The second Home Assistant starts on the storage the first one left: what its stop
wrote, or, after a crash or a power cut, an older save. Expected values are worked
out from the simulated loads: watts times seconds, 3 600 000 Ws to the kWh.
"""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)

from custom_components.mains_monitor.const import (
    CONF_MODE,
    CONF_NAME,
    DOMAIN,
    ConnectionState,
)
from custom_components.mains_monitor.energy import EnergyLedger
from custom_components.mains_monitor.protocol.ecm1240 import EcmParser
from homeassistant.components.recorder.core import Recorder
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import (
    ATTR_DEVICE_CLASS,
    ATTR_UNIT_OF_MEASUREMENT,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from simulator.ecm1240 import EcmUnit, Loads
from simulator.links import PtyLink
from simulator.mfm import MfmBoard
from tests.ecm_unit import DEVICE_ID, ENTRY_ID, INTERVAL, Simulation, kwh
from tests.helpers import (
    GRID_TIME,
    Clock,
    advance,
    restarted,
    same_entry,
    send_readings,
    shown_states,
    state,
    wait_for_connection,
)

# A house on CH1, net-metered solar exporting on CH2, two circuits on AUX1 and AUX2.
HOUSE = Loads(ch1_watts=400, ch2_watts=-1500, aux_watts=(60, 25, 0, 0, 0))
PREFIX = f"sensor.ecm_1240_{DEVICE_ID}"
# Each energy sensor by its unique id's suffix: its entity id, and the watts of HOUSE it counts.
ENERGY_SENSORS = {
    "ch1_energy": (f"{PREFIX}_house_energy", 400),
    "ch2_energy_imported": (f"{PREFIX}_solar_energy_imported", 0),
    "ch2_energy_exported": (f"{PREFIX}_solar_energy_exported", 1500),
    "aux1_energy": (f"{PREFIX}_aux1_energy", 60),
    "aux2_energy": (f"{PREFIX}_aux2_energy", 25),
    **{f"aux{n}_energy": (f"{PREFIX}_aux{n}_energy", 0) for n in (3, 4, 5)},
}
CHANNELS = {
    "ch1": {CONF_NAME: "House", CONF_MODE: "consumption"},
    "ch2": {CONF_NAME: "Solar", CONF_MODE: "net"},
}


def energy_states(hass: HomeAssistant) -> dict[str, float]:
    """Every energy sensor's current value."""
    return {
        entity.entity_id: float(entity.state)
        for entity in hass.states.async_all("sensor")
        if entity.attributes.get(ATTR_DEVICE_CLASS) == SensorDeviceClass.ENERGY
    }


# The recorder (`recorder_mock`) starts before Home Assistant.
pytestmark = pytest.mark.recorder_before_hass


@pytest.fixture
def channels() -> dict[str, dict[str, Any]]:
    """The channel sections of the options: the house above."""
    return CHANNELS


@pytest.fixture
async def ecm(ecm: Simulation) -> Simulation:
    """The unit read by the first Home Assistant, its first packet taken."""
    await ecm.start()
    return ecm


def expected_totals(seconds: int) -> dict[str, str]:
    """The energy states after `seconds` of the house's loads."""
    return {
        entity_id: kwh(seconds * watts) for entity_id, watts in ENERGY_SENSORS.values()
    }


async def test_a_stop_saves_the_newest_totals(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    ecm: Simulation,
    ecm_entry: MockConfigEntry,
    unit: EcmUnit,
) -> None:
    """No save fell due yet; the stop writes the ledger, and the next start goes on from it."""
    await ecm.steps(HOUSE, 4 + 5 * INTERVAL)
    assert energy_states(hass) == {
        entity_id: float(value) for entity_id, value in expected_totals(29).items()
    }

    async with restarted(hass, hass_storage) as new:
        ledger = hass_storage[f"{DOMAIN}.{ENTRY_ID}"]["data"]
        assert ledger["totals"]["ch1"] == [29 * 400, 0]
        assert ledger["totals"]["ch2"] == [29 * 1500, 29 * 1500]
        assert ledger["baseline"]["seconds"] == unit.seconds == 29

        again = ecm.restarted_in(new)
        down = 3 * 60 + 1
        await again.idle(HOUSE, down)
        await again.set_up()
        await again.steps(HOUSE, 2 * INTERVAL)
        for entity_id, value in expected_totals(29 + down + 2 * INTERVAL).items():
            assert state(new, entity_id) == value


async def test_a_start_from_an_older_save_never_shows_less(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    ecm: Simulation,
    ecm_entry: MockConfigEntry,
    unit: EcmUnit,
) -> None:
    """After a crash the ledger is a minute old: energy waits for the first packet's catch-up."""
    await ecm.steps(HOUSE, 59)
    # The first packet (t = 0 s) asked for a save, which fell due at 60 s.
    saved = copy.deepcopy(hass_storage)
    assert saved[f"{DOMAIN}.{ENTRY_ID}"]["data"]["totals"]["ch1"] == [59 * 400, 0]
    await ecm.steps(HOUSE, 40)
    last = energy_states(hass)
    assert last == {
        entity_id: float(value) for entity_id, value in expected_totals(99).items()
    }

    async with restarted(hass, hass_storage, left_behind=saved) as new:
        again = ecm.restarted_in(new)
        down = 2 * 60 + 1
        await again.idle(HOUSE, down)
        with shown_states(new, list(last)) as shown:
            await again.set_up()
            # The unit sends its first packet two update intervals after the start.
            await again.idle(HOUSE, 2 * INTERVAL)
            await again.steps(HOUSE, 3 * INTERVAL)

        for entity_id, states in shown.items():
            numbers = [float(value) for value in states if value != STATE_UNAVAILABLE]
            assert states[0] == STATE_UNAVAILABLE, entity_id
            assert numbers, entity_id
            assert min(numbers) >= last[entity_id], (entity_id, states)
        for entity_id, value in expected_totals(99 + down + 5 * INTERVAL).items():
            assert state(new, entity_id) == value


async def test_grid_time_goes_on_after_a_stop(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    init_integration: MockConfigEntry,
    mfm_link: PtyLink,
    board: MfmBoard,
    clock: Clock,
) -> None:
    """The stop writes the grid time; the next start shows it and integrates on from it."""
    await send_readings(
        init_integration, mfm_link, clock, board, [50100, 50100, 50100], spacing=2.0
    )
    await advance(hass, clock, 5.0)
    # 4 s at +100 mHz on 50 Hz: 4 x 0.1 / 50 = 0.008 s.
    assert state(hass, GRID_TIME) == "0.008"

    async with restarted(hass, hass_storage) as new:
        assert hass_storage[f"{DOMAIN}.{init_integration.entry_id}"]["data"][
            "grid_time_deviation"
        ] == pytest.approx(0.008)
        entry = same_entry(init_integration)
        entry.add_to_hass(new)
        assert await new.config_entries.async_setup(entry.entry_id)
        await wait_for_connection(entry, ConnectionState.CONNECTED)
        await send_readings(entry, mfm_link, clock, board, [50100, 50100], spacing=2.0)
        await advance(new, clock, 5.0)
        # 2 s more at +100 mHz: 0.004 s more.
        assert state(new, GRID_TIME) == "0.012"


def saved_ledger(unit: EcmUnit, seconds: int) -> dict[str, Any]:
    """The ledger as the first Home Assistant saved it, after `seconds` of the house."""
    ledger = EnergyLedger()
    parser = EcmParser()
    for packet in parser.feed(unit.packet()):
        ledger.add(packet)
    unit.advance(seconds, HOUSE)
    for packet in parser.feed(unit.packet()):
        ledger.add(packet)
    return ledger.as_dict()


@pytest.mark.parametrize("reset", [True, False], ids=["unit_reset", "unit_ran_on"])
async def test_a_power_cut_after_the_last_save_never_lowers_a_total(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    entity_registry: er.EntityRegistry,
    ecm_entry: MockConfigEntry,
    ecm_link: PtyLink,
    clock: Clock,
    unit: EcmUnit,
    reset: bool,
) -> None:
    """The ledger is 20 s older than the states the recorder holds.

    If the unit restarted too, its first packet adds nothing, and the totals go on
    from the recorded states; if it ran on, the first packet's step covers the
    time since the save, and the recorded states change nothing.
    """
    key = f"{DOMAIN}.{ENTRY_ID}"
    saved_at = dt_util.utcnow() - timedelta(seconds=30)
    hass_storage[key] = {
        "version": 1,
        "key": key,
        "data": saved_ledger(unit, 40) | {"saved_at": saved_at.isoformat()},
    }
    ecm_entry.add_to_hass(hass)
    last = expected_totals(60)
    for suffix, (entity_id, _) in ENERGY_SENSORS.items():
        entity_registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{ENTRY_ID}_{suffix}",
            config_entry=ecm_entry,
            suggested_object_id=entity_id.removeprefix("sensor."),
            original_device_class=SensorDeviceClass.ENERGY,
        )
        hass.states.async_set(
            entity_id, last[entity_id], {ATTR_UNIT_OF_MEASUREMENT: "kWh"}
        )
    await async_wait_recording_done(hass)
    # Recorded; gone from the state machine, as in a new start.
    for entity_id in last:
        hass.states.async_remove(entity_id)

    unit.advance(20, HOUSE)  # the 20 s shown after the save
    if reset:
        unit.reset()
    else:
        unit.advance(100, HOUSE)  # the time Home Assistant was down
    ecm = Simulation(hass, ecm_entry, ecm_link, clock, unit, [Platform.SENSOR])
    with shown_states(hass, list(last)) as shown:
        await ecm.set_up()
        await ecm.start()
        await ecm.steps(HOUSE, 2 * INTERVAL - 1)

    seconds = (60 if reset else 40 + 20 + 100) + 2 * INTERVAL - 1
    for entity_id, value in expected_totals(seconds).items():
        assert state(hass, entity_id) == value
    for entity_id, states in shown.items():
        numbers = [float(value) for value in states if value != STATE_UNAVAILABLE]
        assert min(numbers) >= float(last[entity_id]), (entity_id, states)
