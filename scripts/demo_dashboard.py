"""The demo's Mains Monitor dashboard: live values of both devices, and the board's grid quality today.

Run by scripts/demo once the devices are set up (standard library only); scripts/screenshots
photographs its views.

    python -m scripts.demo_dashboard [--url http://127.0.0.1:8123]

The dashboard is created once, from the entities' names at that moment; an existing one is
left as it is.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import sys
from typing import Any
import urllib.error

from scripts import demo_setup
from scripts.demo_setup import Client, WebSocket

BOARD = "Mains frequency board"
DASHBOARD_PATH = "mains-monitor"
DASHBOARD_TITLE = "Mains Monitor"
LIVE_PATH = "live"
QUALITY_PATH = "quality"
# The board's and the ECM's entities on the live view, by description key.
BOARD_ROWS = (
    "frequency",
    "frequency_minimum",
    "frequency_maximum",
    "deviation",
    "rate_of_change",
    "grid_time_deviation",
    "load_difference",
    "band",
    "alarm",
)
ECM_ROWS = (
    "voltage",
    "ch1_current",
    "ch2_current",
    *(f"{channel}_power" for channel in demo_setup.ECM_CHANNELS),
)
# What the channels' roles make of them: the grid both ways, the solar, the remainder ...
ROLE_ROWS = (
    "grid_consumption_power",
    "return_to_grid_power",
    "solar_production_power",
    "unmetered_power",
    "grid_consumption_energy",
    "return_to_grid_energy",
    "solar_production_energy",
)
ROLE_TITLE = "Grid and solar"
# ... and the line voltage: the update interval's extremes, the day's minutes outside ±10 %.
VOLTAGE_ROWS = {
    "voltage_minimum": "Minimum",
    "voltage_maximum": "Maximum",
    "voltage_time_over": "Time above +10 % today",
    "voltage_time_under": "Time below \u221210 % today",
    "voltage_measured_time": "Measured today",
    "nominal_voltage": "Nominal",
}
VOLTAGE_TITLE = "Line voltage"
# The day's figures on the quality view: time outside the bands and the excursions ...
TIME_ROWS = (
    "measured_time",
    *(f"time_{side}_{band}" for band in (50, 100, 200) for side in ("over", "under")),
    "excursions",
    "excursions_not_restored",
)
# ... how the readings spread ...
SPREAD_ROWS = (
    "deviation_spread",
    *(f"deviation_p{percent}" for percent in (1, 5, 10, 90, 95, 99)),
)
# ... and the disturbances, the island detection and the grid time.
DISTURBANCE_ROWS = (
    "disturbance",
    "island",
    "grid_time_deviation",
    "correction_expected",
    "correction_inferred",
    "mean_deviation_recent",
)
# The quality view's cards say "today" once, in their titles.
TODAY = " today"
# Rows named otherwise than their entities: the event row shows when the last one came.
RENAMED = {"disturbance": "Last disturbance"}


@dataclass(frozen=True)
class Demo:
    """The running demo: its API client and each device's entities by description key."""

    client: Client
    board: dict[str, str]
    ecm: dict[str, str]


def find_demo(url: str) -> Demo:
    """Log in to the demo's API; find its two devices' entities by description key."""
    client = Client(url)
    client.token = demo_setup.exchange_code(client, demo_setup.login_code(client))
    ws = WebSocket(client.url, client.token)
    try:
        registry = ws.command({"type": "config/entity_registry/list"})
    finally:
        ws.close()
    ecm_id = demo_setup.ecm_entry_id(client)
    by_entry: dict[str, dict[str, str]] = {}
    for entity in registry:
        if entity["platform"] == demo_setup.DOMAIN:
            by_entry.setdefault(entity["config_entry_id"], {})[entity["unique_id"]] = (
                entity["entity_id"]
            )
    board = next(ids for entry, ids in by_entry.items() if entry != ecm_id)
    return Demo(client, demo_setup.by_key(board), demo_setup.by_key(by_entry[ecm_id]))


def friendly_names(client: Client) -> dict[str, str]:
    """Every entity's name as the web UI shows it, by entity id."""
    return {
        state["entity_id"]: str(state["attributes"].get("friendly_name", ""))
        for state in client.call("GET", "/api/states")
    }


def entity_rows(
    entities: Iterable[str],
    names: Mapping[str, str],
    device: str,
    suffix: str = "",
) -> list[dict[str, str]]:
    """Entities card rows named as the integration names them, without the device's name (and `suffix`)."""
    return [
        {
            "entity": entity_id,
            "name": names[entity_id].removeprefix(f"{device} ").removesuffix(suffix),
        }
        for entity_id in entities
    ]


def live_view(
    board: Mapping[str, str],
    ecm: Mapping[str, str],
    ecm_title: str,
    names: Mapping[str, str],
) -> dict[str, Any]:
    """Both devices: a frequency gauge and the board's values; the ECM's channels, roles and line voltage."""
    gauge = {
        "type": "gauge",
        "entity": board["frequency"],
        "name": "Mains frequency",
        "min": 49.8,
        "max": 50.2,
        "needle": True,
        # Red outside the standard range of ±50 mHz.
        "segments": [
            {"from": 49.8, "color": "#db4437"},
            {"from": 49.95, "color": "#43a047"},
            {"from": 50.05, "color": "#db4437"},
        ],
    }
    board_card = {
        "type": "entities",
        "title": BOARD,
        "entities": entity_rows((board[key] for key in BOARD_ROWS), names, BOARD),
    }
    ecm_card = {
        "type": "entities",
        "title": ecm_title,
        "entities": entity_rows((ecm[key] for key in ECM_ROWS), names, ecm_title),
    }
    role_card = {
        "type": "entities",
        "title": ROLE_TITLE,
        "entities": entity_rows((ecm[key] for key in ROLE_ROWS), names, ecm_title),
    }
    voltage_card = {
        "type": "entities",
        "title": VOLTAGE_TITLE,
        "entities": [
            {"entity": ecm[key], "name": name} for key, name in VOLTAGE_ROWS.items()
        ],
    }
    return {
        "title": "Live",
        "path": LIVE_PATH,
        "cards": [
            {"type": "vertical-stack", "cards": [gauge, board_card]},
            ecm_card,
            {"type": "vertical-stack", "cards": [role_card, voltage_card]},
        ],
    }


def quality_view(board: Mapping[str, str], names: Mapping[str, str]) -> dict[str, Any]:
    """The board's day so far: time outside the bands, the spread, the disturbances."""

    def card(title: str, keys: tuple[str, ...]) -> dict[str, Any]:
        """An entities card of the board's entities with these keys."""
        rows = entity_rows((board[key] for key in keys), names, BOARD, TODAY)
        for key, row in zip(keys, rows, strict=True):
            if key in RENAMED:
                row["name"] = RENAMED[key]
        return {"type": "entities", "title": title, "entities": rows}

    return {
        "title": "Grid quality today",
        "path": QUALITY_PATH,
        "cards": [
            card("Time outside the bands today", TIME_ROWS),
            card("Deviation today", SPREAD_ROWS),
            card("Disturbances and grid time", DISTURBANCE_ROWS),
        ],
    }


def dashboard_config(demo: Demo, ecm_title: str) -> dict[str, Any]:
    """The dashboard's two views, named from the entities' current names."""
    names = friendly_names(demo.client)
    return {
        "title": DASHBOARD_TITLE,
        "views": [
            live_view(demo.board, demo.ecm, ecm_title, names),
            quality_view(demo.board, names),
        ],
    }


def ecm_entry_title(client: Client) -> str:
    """The title of the demo's ECM entry, e.g. ECM-1240 500434."""
    entry_id = demo_setup.ecm_entry_id(client)
    for entry in client.call(
        "GET", f"/api/config/config_entries/entry?domain={demo_setup.DOMAIN}"
    ):
        if entry["entry_id"] == entry_id:
            return str(entry["title"])
    msg = "the demo's ECM-1240 entry is gone"
    raise demo_setup.DemoError(msg)


def create_dashboard(demo: Demo) -> None:
    """Create the Mains Monitor dashboard and fill it, unless it exists."""
    assert demo.client.token is not None  # logged in by find_demo()
    ws = WebSocket(demo.client.url, demo.client.token)
    try:
        dashboards = ws.command({"type": "lovelace/dashboards/list"})
        if any(dashboard["url_path"] == DASHBOARD_PATH for dashboard in dashboards):
            print("the Mains Monitor dashboard exists: left as it is")
            return
        config = dashboard_config(demo, ecm_entry_title(demo.client))
        ws.command(
            {
                "type": "lovelace/dashboards/create",
                "url_path": DASHBOARD_PATH,
                "title": DASHBOARD_TITLE,
                "icon": "mdi:sine-wave",
                "show_in_sidebar": True,
                "require_admin": False,
                "mode": "storage",
            }
        )
        ws.command(
            {
                "type": "lovelace/config/save",
                "url_path": DASHBOARD_PATH,
                "config": config,
            }
        )
    finally:
        ws.close()
    print("created the Mains Monitor dashboard: live values, grid quality today")


def main(argv: list[str]) -> int:
    """Create the dashboard; report a failed step in one line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    args = parser.parse_args(argv)
    try:
        create_dashboard(find_demo(args.url))
    except (demo_setup.DemoError, urllib.error.URLError, TimeoutError) as err:
        print(f"demo: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
