"""The demo's grid quality view names the board's real entities, as Home Assistant names them."""

from __future__ import annotations

from pytest_homeassistant_custom_component.common import MockConfigEntry

from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from scripts import demo_dashboard, demo_setup

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
