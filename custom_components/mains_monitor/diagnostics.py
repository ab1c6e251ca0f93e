"""Diagnostics download for Mains Monitor."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.core import HomeAssistant

from .connection import redacted
from .const import CONF_PORT
from .coordinator import MainsMonitorConfigEntry, MainsMonitorCoordinator
from .ecm_coordinator import EcmCoordinator
from .mfm_coordinator import MfmCoordinator


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MainsMonitorConfigEntry
) -> dict[str, Any]:
    """What a bug report needs: settings, link state, counters, last snapshot."""
    coordinator = entry.runtime_data
    return {
        "data": {**entry.data, CONF_PORT: redacted(entry.data[CONF_PORT])},
        "options": dict(entry.options),
        "connection": {
            "state": coordinator.connection_state,
            "available": coordinator.last_update_success,
            "last_error": coordinator.connection.last_error,
        },
        "device": _device(coordinator),
        "snapshot": None if coordinator.data is None else asdict(coordinator.data),
    }


def _device(coordinator: MainsMonitorCoordinator[Any]) -> dict[str, Any]:
    """What the parser and the accounting know of the device."""
    if isinstance(coordinator, EcmCoordinator):
        packets = coordinator.parser
        return {
            "accepted": packets.accepted,
            "rejected": dict(packets.rejected),
            "discarded_bytes": packets.discarded_bytes,
            "foreign_packets": coordinator.packets_foreign,
            "ledger": coordinator.ledger.as_dict(),
            "resyncs": coordinator.ledger.resyncs,
        }
    assert isinstance(coordinator, MfmCoordinator)
    parser = coordinator.parser
    return {
        "firmware": parser.firmware,
        "output_format": parser.output_format,
        "nominal_frequency": parser.nominal_frequency,
        "restarts": parser.restarts,
        "accepted": parser.accepted,
        "banner_lines": parser.banner_lines,
        "rejected": dict(parser.rejected),
    }
