"""The Energy dashboard takes every ECM power and energy sensor: Home Assistant's own validation says so.

A house as an ECM-1240 measures it: CH1 what the house draws, CH2 net-metered on the
mains feed (exporting), AUX1 a solar inverter's output, AUX2-AUX5 circuits. The
recorder runs and compiles the statistics the dashboard reads; then the Energy
integration's `energy/validate` command judges the preferences a user would save.
"""

from __future__ import annotations

from typing import Any

import pytest
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
    do_adhoc_statistics,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.mains_monitor.const import (
    CONF_MODE,
    CONF_NAME,
    CONF_ROLE,
)
from homeassistant.components.energy.data import async_get_manager
from homeassistant.components.recorder.core import Recorder
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
from scripts import demo_setup
from simulator.ecm1240 import Loads
from tests.ecm_unit import DEVICE_ID, ENTRY_ID, INTERVAL, Simulation
from tests.helpers import state

PREFIX = f"sensor.ecm_1240_{DEVICE_ID}"
CHANNELS = {
    "ch1": {CONF_NAME: "House", CONF_MODE: "consumption"},
    "ch2": {CONF_NAME: "Grid", CONF_MODE: "net"},
    "aux1": {CONF_NAME: "Solar", CONF_MODE: "consumption"},
}
# Midday: the house draws 400 W, the inverter gives 1500 W, so 1100 W go to the grid.
MIDDAY = Loads(ch1_watts=400, ch2_watts=-1100, aux_watts=(1500, 60, 25, 0, 0))
CIRCUITS = ("house", "aux2", "aux3", "aux4", "aux5")
# Every power sensor and its state at midday; the net channel's is negative while exporting.
POWERS = {
    f"{PREFIX}_house_power": "400.0",
    f"{PREFIX}_grid_power": "-1100.0",
    f"{PREFIX}_solar_power": "1500.0",
    f"{PREFIX}_aux2_power": "60.0",
    f"{PREFIX}_aux3_power": "25.0",
    f"{PREFIX}_aux4_power": "0.0",
    f"{PREFIX}_aux5_power": "0.0",
}
ENERGIES = {
    f"{PREFIX}_grid_energy_imported",
    f"{PREFIX}_grid_energy_exported",
    f"{PREFIX}_solar_energy",
    *(f"{PREFIX}_{circuit}_energy" for circuit in CIRCUITS),
}
# The grid's power as Home Assistant 2026 takes it: positive while importing,
# negative while exporting, as the net channel's. The frontend saves it as a
# power_config, from which Home Assistant sets stat_rate; older set-ups hold stat_rate.
GRID_POWER_FORMS = {
    "power_config": {"power_config": {"stat_rate": f"{PREFIX}_grid_power"}},
    "stat_rate": {"stat_rate": f"{PREFIX}_grid_power"},
}


# The same house with roles: CH2 the main, AUX1 solar, the rest circuits inside the
# main. 400 + 60 + 25 W of circuits and 15 W nothing measures; with 1500 W of solar,
# 1000 W go to the grid.
ROLE_CHANNELS = {
    "ch1": {CONF_NAME: "House", CONF_MODE: "consumption"},
    "ch2": {CONF_NAME: "Grid", CONF_MODE: "net", CONF_ROLE: "main"},
    "aux1": {CONF_NAME: "Solar", CONF_MODE: "consumption", CONF_ROLE: "solar"},
}
ROLE_MIDDAY = Loads(ch1_watts=400, ch2_watts=-1000, aux_watts=(1500, 60, 25, 0, 0))
ROLE_POWERS = {
    f"{PREFIX}_grid_consumption_power": "0.0",
    f"{PREFIX}_return_to_grid_power": "1000.0",
    f"{PREFIX}_solar_production_power": "1500.0",
    f"{PREFIX}_unmetered_power": "15.0",
}
ROLE_ENERGIES = {
    f"{PREFIX}_grid_consumption_energy",
    f"{PREFIX}_return_to_grid_energy",
    f"{PREFIX}_solar_production_energy",
}
# The grid's power from the role sensors: one for each direction, as a power_config
# of two sensors; or the main's own power, positive while importing.
ROLE_GRID_POWER_FORMS = {
    "two_sensors": {
        "power_config": {
            "stat_rate_from": f"{PREFIX}_grid_consumption_power",
            "stat_rate_to": f"{PREFIX}_return_to_grid_power",
        }
    },
    "main_power": {"power_config": {"stat_rate": f"{PREFIX}_grid_power"}},
}


def role_dashboard(grid_power: dict[str, Any]) -> dict[str, Any]:
    """The dashboard from the role sensors: grid and solar, the main as a device holding the circuits."""
    main = f"{PREFIX}_grid_consumption_energy"
    grid = {
        "type": "grid",
        "stat_energy_from": main,
        "stat_energy_to": f"{PREFIX}_return_to_grid_energy",
        "cost_adjustment_day": 0,
        **grid_power,
    }
    solar = {
        "type": "solar",
        "stat_energy_from": f"{PREFIX}_solar_production_energy",
        "stat_rate": f"{PREFIX}_solar_production_power",
    }
    devices = [
        {"stat_consumption": main, "stat_rate": f"{PREFIX}_grid_consumption_power"},
        *(
            {
                "stat_consumption": f"{PREFIX}_{circuit}_energy",
                "stat_rate": f"{PREFIX}_{circuit}_power",
                "included_in_stat": main,
            }
            for circuit in CIRCUITS
        ),
    ]
    return {"energy_sources": [grid, solar], "device_consumption": devices}


# The recorder (`recorder_mock`) starts before Home Assistant.
pytestmark = pytest.mark.recorder_before_hass


@pytest.fixture
def channels() -> dict[str, dict[str, Any]]:
    """The channel sections of the options: the house above."""
    return CHANNELS


@pytest.fixture
def loads() -> Loads:
    """The loads at midday."""
    return MIDDAY


@pytest.fixture
def early_prefs() -> dict[str, Any] | None:
    """Energy preferences saved before the loads run; none by default."""
    return None


@pytest.fixture
async def midday(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    simulation: Simulation,
    loads: Loads,
    early_prefs: dict[str, Any] | None,
) -> None:
    """Two update intervals of the midday loads, recorded, with their statistics compiled.

    Preferences saved early let the sensors Home Assistant adds for them record too.
    """
    assert await async_setup_component(hass, "energy", {})
    await simulation.set_up()
    if early_prefs is not None:
        # As the frontend's save does: the Energy integration adds its sensors.
        await (await async_get_manager(hass)).async_update(early_prefs)  # type: ignore[arg-type]
        await hass.async_block_till_done()
    await simulation.start()
    await simulation.steps(loads, 4 + INTERVAL)
    await async_wait_recording_done(hass)
    # The statistics of the 5-minute period the states fall in, as the recorder
    # compiles them once it ends: they create the statistics the dashboard reads.
    do_adhoc_statistics(hass, start=dt_util.utcnow().replace(second=0, microsecond=0))
    await async_wait_recording_done(hass)


def offered(hass: HomeAssistant, device_class: str) -> dict[str, str]:
    """The entry's sensors of `device_class`, with their states."""
    return {
        entity.entity_id: state(hass, entity.entity_id)
        for entity in er.async_entries_for_config_entry(er.async_get(hass), ENTRY_ID)
        if entity.original_device_class == device_class
    }


def dashboard(grid_power: dict[str, Any]) -> dict[str, Any]:
    """Every power and energy sensor in the Energy dashboard, in the roles a user gives them."""
    grid = {
        "type": "grid",
        "stat_energy_from": f"{PREFIX}_grid_energy_imported",
        "stat_energy_to": f"{PREFIX}_grid_energy_exported",
        "cost_adjustment_day": 0,
        **grid_power,
    }
    solar = {
        "type": "solar",
        "stat_energy_from": f"{PREFIX}_solar_energy",
        "stat_rate": f"{PREFIX}_solar_power",
    }
    devices = [
        {
            "stat_consumption": f"{PREFIX}_{circuit}_energy",
            "stat_rate": f"{PREFIX}_{circuit}_power",
        }
        for circuit in CIRCUITS
    ]
    return {"energy_sources": [grid, solar], "device_consumption": devices}


async def save_and_validate(
    hass_ws_client: WebSocketGenerator, prefs: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Save the preferences as the frontend does; return them as stored, and their validation."""
    client = await hass_ws_client()
    answers = []
    for message in (
        {"type": "energy/save_prefs", **prefs},
        {"type": "energy/get_prefs"},
        {"type": "energy/validate"},
    ):
        await client.send_json_auto_id(message)
        answer = await client.receive_json()
        assert answer["success"], answer
        answers.append(answer["result"])
    return answers[1], answers[2]


@pytest.mark.usefixtures("midday")
async def test_every_sensor_is_offered_with_a_value(hass: HomeAssistant) -> None:
    """The sensors the dashboard below uses are all the power and energy sensors there are."""
    assert offered(hass, "power") == POWERS
    assert offered(hass, "energy").keys() == ENERGIES


@pytest.mark.usefixtures("midday")
@pytest.mark.parametrize("grid_power", GRID_POWER_FORMS.values(), ids=GRID_POWER_FORMS)
async def test_the_energy_dashboard_accepts_every_sensor(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    grid_power: dict[str, Any],
) -> None:
    """Grid, solar and seven channels, energy and power: not one validation issue."""
    stored, validation = await save_and_validate(hass_ws_client, dashboard(grid_power))

    grid = stored["energy_sources"][0]
    assert grid["stat_rate"] == f"{PREFIX}_grid_power"
    assert grid.get("power_config") == grid_power.get("power_config")
    assert validation == {
        "energy_sources": [[], []],
        "device_consumption": [[]] * len(CIRCUITS),
        "device_consumption_water": [],
    }


@pytest.mark.usefixtures("midday")
async def test_every_power_sensor_passes_the_power_check(
    hass: HomeAssistant, hass_ws_client: WebSocketGenerator
) -> None:
    """Each power sensor as a grid connection's power, where validation checks power.

    Home Assistant 2026 validates the power of a grid connection (device class
    power, a power unit, state class measurement, a number, statistics) but not
    the power of solar or of a device, so this puts each one where it is checked.
    """
    grids = [
        {"type": "grid", "cost_adjustment_day": 0, "stat_rate": entity_id}
        for entity_id in POWERS
    ]
    _, validation = await save_and_validate(
        hass_ws_client, {"energy_sources": grids, "device_consumption": []}
    )

    assert validation == {
        "energy_sources": [[]] * len(POWERS),
        "device_consumption": [],
        "device_consumption_water": [],
    }


# The demo's house in the morning sun: 300 W on no AUX channel, 85 W on the circuits,
# 1400 W of solar, so 1015 W go to the grid through the main.
DEMO_MORNING = Loads(ch1_watts=-1015, ch2_watts=-1400, aux_watts=(60, 25, 0, 0, 0))
DEMO_CIRCUITS = ("lighting", "network_cabinet", "garage", "office", "pulses")
# The demo's entities by description key, as the demo's names give their entity ids.
DEMO_ENTITIES = {
    **{key: f"{PREFIX}_{key}" for key in demo_setup.ROLE_KEYS},
    **{
        f"aux{number}_{kind}": f"{PREFIX}_{circuit}_{kind}"
        for number, circuit in enumerate(DEMO_CIRCUITS, start=1)
        for kind in ("power", "energy")
    },
}


@pytest.mark.usefixtures("midday")
@pytest.mark.parametrize(
    ("channels", "loads", "early_prefs"),
    [
        (
            demo_setup.ECM_CHANNELS,
            DEMO_MORNING,
            demo_setup.energy_preferences(DEMO_ENTITIES),
        )
    ],
)
async def test_the_demo_dashboard_is_accepted(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    early_prefs: dict[str, Any],
) -> None:
    """The demo's channels and Energy dashboard: grid and solar from the roles, five circuits, no issue."""
    registry = er.async_get(hass)
    entities = demo_setup.by_key(
        {
            entity.unique_id: entity.entity_id
            for entity in er.async_entries_for_config_entry(registry, ENTRY_ID)
        }
    )
    prefs = demo_setup.energy_preferences(entities)
    assert prefs == early_prefs

    stored, validation = await save_and_validate(hass_ws_client, prefs)

    assert demo_setup.holds(stored, prefs)
    assert not demo_setup.holds(stored, {**prefs, "device_consumption": []})
    grid, solar = prefs["energy_sources"]
    assert (grid["stat_energy_from"], grid["stat_energy_to"]) == (
        f"{PREFIX}_grid_consumption_energy",
        f"{PREFIX}_return_to_grid_energy",
    )
    assert solar["stat_energy_from"] == f"{PREFIX}_solar_production_energy"
    # No upstream device: with solar the house uses more than the main imports.
    assert [
        device.get("included_in_stat") for device in stored["device_consumption"]
    ] == [None] * 5
    assert {
        key: state(hass, entities[key])
        for key in (
            "grid_consumption_power",
            "return_to_grid_power",
            "solar_production_power",
            "unmetered_power",
        )
    } == {
        "grid_consumption_power": "0.0",
        "return_to_grid_power": "1015.0",
        "solar_production_power": "1400.0",
        "unmetered_power": "300.0",
    }
    assert state(hass, stored["energy_sources"][0]["stat_rate"]) == "-1015.0"
    assert validation == {
        "energy_sources": [[], []],
        "device_consumption": [[]] * 5,
        "device_consumption_water": [],
    }


@pytest.mark.usefixtures("midday")
@pytest.mark.parametrize(("channels", "loads"), [(ROLE_CHANNELS, ROLE_MIDDAY)])
async def test_the_role_sensors_are_offered_with_their_values(
    hass: HomeAssistant,
) -> None:
    """Grid consumption and return, solar production and the remainder, beside the channels'."""
    assert offered(hass, "power").items() >= ROLE_POWERS.items()
    assert offered(hass, "energy").keys() >= ROLE_ENERGIES
    assert f"{PREFIX}_unmetered_energy" not in offered(hass, "energy")


@pytest.mark.usefixtures("midday")
@pytest.mark.parametrize(("channels", "loads"), [(ROLE_CHANNELS, ROLE_MIDDAY)])
@pytest.mark.parametrize(
    "early_prefs",
    [role_dashboard(form) for form in ROLE_GRID_POWER_FORMS.values()],
    ids=list(ROLE_GRID_POWER_FORMS),
)
async def test_the_energy_dashboard_accepts_the_role_sensors(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    early_prefs: dict[str, Any],
) -> None:
    """Grid and solar from the roles, circuits included in the main: not one validation issue.

    Two power sensors for the grid make Home Assistant add a sensor of its own, the
    import minus the export: it shows the main's power, and once its statistics
    are compiled, validation has nothing to say.
    """
    stored, validation = await save_and_validate(hass_ws_client, early_prefs)

    grid = stored["energy_sources"][0]
    assert grid["power_config"] == early_prefs["energy_sources"][0]["power_config"]
    assert state(hass, grid["stat_rate"]) == "-1000.0"
    assert stored["device_consumption"] == early_prefs["device_consumption"]
    assert validation == {
        "energy_sources": [[], []],
        "device_consumption": [[]] * (1 + len(CIRCUITS)),
        "device_consumption_water": [],
    }


@pytest.mark.usefixtures("midday")
@pytest.mark.parametrize(("channels", "loads"), [(ROLE_CHANNELS, ROLE_MIDDAY)])
async def test_every_role_power_sensor_passes_the_power_check(
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Each role power sensor as a grid connection's power, where validation checks power."""
    grids = [
        {"type": "grid", "cost_adjustment_day": 0, "stat_rate": entity_id}
        for entity_id in ROLE_POWERS
    ]
    _, validation = await save_and_validate(
        hass_ws_client, {"energy_sources": grids, "device_consumption": []}
    )

    assert validation == {
        "energy_sources": [[]] * len(ROLE_POWERS),
        "device_consumption": [],
        "device_consumption_water": [],
    }
