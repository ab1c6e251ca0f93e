"""Diagnostics download for Mains Monitor."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant

from .const import CONF_PORT
from .coordinator import MainsMonitorConfigEntry
from .kinds import device_kind
from .mqtt_publish import publishing
from .port_session import redacted


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: MainsMonitorConfigEntry
) -> dict[str, Any]:
    """What a bug report needs: settings, link state, counters, last snapshot, publishing."""
    coordinator = entry.runtime_data
    kind = device_kind(entry)
    enabled, prefix = publishing(entry, kind.mqtt_topic)
    publisher = coordinator.publisher
    return {
        "data": {**entry.data, CONF_PORT: redacted(entry.data[CONF_PORT])},
        "options": dict(entry.options),
        "connection": {
            "state": coordinator.connection_state,
            "available": coordinator.last_update_success,
            "last_error": coordinator.connection.last_error,
        },
        "device": kind.diagnostics(kind.coordinator_of(entry)),
        "snapshot": (
            None
            if coordinator.data is None
            else kind.snapshot_diagnostics(coordinator.data)
        ),
        "mqtt": {
            "enabled": enabled,
            "topic_prefix": prefix,
            "broker_connected": publisher is not None and publisher.connected,
            "published": 0 if publisher is None else publisher.published,
        },
    }
