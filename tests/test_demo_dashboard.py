"""The demo's views name the devices' real entities, as Home Assistant names them."""

from __future__ import annotations

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from scripts import demo_dashboard, demo_setup
from tests.ecm_unit import Simulation

SENSOR = "sensor.mains_frequency_board"


def rows(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    """Entities card rows from (entity id, name) pairs."""
    return [{"entity": entity_id, "name": name} for entity_id, name in pairs]


async def test_the_quality_view_shows_the_days_figures(
    hass: HomeAssistant, init_integration: MockConfigEntry
) -> None:
    """Three cards: time outside the bands, the spread, disturbances and grid time."""
    registry = er.async_get(hass)
    board = demo_setup.by_key(
        {
            entity.unique_id: entity.entity_id
            for entity in er.async_entries_for_config_entry(
                registry, init_integration.entry_id
            )
        }
    )
    names = {
        state.entity_id: str(state.attributes["friendly_name"])
        for state in hass.states.async_all()
    }

    view = demo_dashboard.quality_view(board, names)

    assert view == {
        "title": "Grid quality today",
        "path": "quality",
        "cards": [
            {
                "type": "entities",
                "title": "Time outside the bands today",
                "entities": rows(
                    (f"{SENSOR}_measured_time_today", "Measured time"),
                    (f"{SENSOR}_time_above_50_mhz_today", "Time above +50 mHz"),
                    (f"{SENSOR}_time_below_50_mhz_today", "Time below \u221250 mHz"),
                    (f"{SENSOR}_time_above_100_mhz_today", "Time above +100 mHz"),
                    (f"{SENSOR}_time_below_100_mhz_today", "Time below \u2212100 mHz"),
                    (f"{SENSOR}_time_above_200_mhz_today", "Time above +200 mHz"),
                    (f"{SENSOR}_time_below_200_mhz_today", "Time below \u2212200 mHz"),
                    (
                        f"{SENSOR}_excursions_beyond_50_mhz_today",
                        "Excursions beyond ±50 mHz",
                    ),
                    (
                        f"{SENSOR}_excursions_not_restored_in_15_min_today",
                        "Excursions not restored in 15 min",
                    ),
                ),
            },
            {
                "type": "entities",
                "title": "Deviation today",
                "entities": rows(
                    (f"{SENSOR}_deviation_spread_today", "Deviation spread"),
                    *(
                        (
                            f"{SENSOR}_deviation_{percent}_percentile_today",
                            f"Deviation {percent} % percentile",
                        )
                        for percent in (1, 5, 10, 90, 95, 99)
                    ),
                ),
            },
            {
                "type": "entities",
                "title": "Disturbances and grid time",
                "entities": rows(
                    (
                        "event.mains_frequency_board_frequency_disturbance",
                        "Last disturbance",
                    ),
                    (
                        "binary_sensor.mains_frequency_board_island_or_generator_supply",
                        "Island or generator supply",
                    ),
                    (f"{SENSOR}_grid_time_deviation", "Grid time deviation"),
                    (
                        f"{SENSOR}_time_correction_called_for",
                        "Time correction called for",
                    ),
                    (f"{SENSOR}_time_correction_in_force", "Time correction in force"),
                    (
                        f"{SENSOR}_mean_deviation_last_3_hours",
                        "Mean deviation, last 3 hours",
                    ),
                ),
            },
        ],
    }


ECM = "sensor.ecm_1240_500434"


@pytest.mark.parametrize("channels", [demo_setup.ECM_CHANNELS])
async def test_the_live_view_shows_the_channels_roles_and_line_voltage(
    hass: HomeAssistant, init_integration: MockConfigEntry, ecm: Simulation
) -> None:
    """The ECM's channels, then what their roles make of them and the line voltage."""
    registry = er.async_get(hass)

    def by_key(entry_id: str) -> dict[str, str]:
        """An entry's entities by description key."""
        return demo_setup.by_key(
            {
                entity.unique_id: entity.entity_id
                for entity in er.async_entries_for_config_entry(registry, entry_id)
            }
        )

    names = {
        state.entity_id: str(state.attributes["friendly_name"])
        for state in hass.states.async_all()
    }

    view = demo_dashboard.live_view(
        by_key(init_integration.entry_id),
        by_key(ecm.entry.entry_id),
        "ECM-1240 500434",
        names,
    )

    assert view["title"] == "Live"
    assert view["path"] == "live"
    board, channels, roles = view["cards"]
    assert [card["title"] for card in board["cards"][1:]] == [demo_dashboard.BOARD]
    assert channels == {
        "type": "entities",
        "title": "ECM-1240 500434",
        "entities": rows(
            (f"{ECM}_line_voltage", "Line voltage"),
            (f"{ECM}_ch1_current", "CH1 current"),
            (f"{ECM}_ch2_current", "CH2 current"),
            (f"{ECM}_grid_power", "Grid power"),
            (f"{ECM}_solar_power", "Solar power"),
            (f"{ECM}_lighting_power", "Lighting power"),
            (f"{ECM}_network_cabinet_power", "Network cabinet power"),
            (f"{ECM}_garage_power", "Garage power"),
            (f"{ECM}_office_power", "Office power"),
            (f"{ECM}_pulses_power", "Pulses power"),
        ),
    }
    assert roles == {
        "type": "vertical-stack",
        "cards": [
            {
                "type": "entities",
                "title": "Grid and solar",
                "entities": rows(
                    (f"{ECM}_grid_consumption_power", "Grid consumption power"),
                    (f"{ECM}_return_to_grid_power", "Return to grid power"),
                    (f"{ECM}_solar_production_power", "Solar production power"),
                    (f"{ECM}_unmetered_power", "Unmetered power"),
                    (f"{ECM}_grid_consumption_energy", "Grid consumption energy"),
                    (f"{ECM}_return_to_grid_energy", "Return to grid energy"),
                    (f"{ECM}_solar_production_energy", "Solar production energy"),
                ),
            },
            {
                "type": "entities",
                "title": "Line voltage",
                "entities": rows(
                    (f"{ECM}_line_voltage_minimum", "Minimum"),
                    (f"{ECM}_line_voltage_maximum", "Maximum"),
                    (
                        f"{ECM}_time_above_10_line_voltage_today",
                        "Time above +10 % today",
                    ),
                    (
                        f"{ECM}_time_below_10_line_voltage_today",
                        "Time below \u221210 % today",
                    ),
                    (f"{ECM}_line_voltage_measured_time_today", "Measured today"),
                    (f"{ECM}_nominal_line_voltage", "Nominal"),
                ),
            },
        ],
    }
