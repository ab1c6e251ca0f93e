"""The config and options flows as the tests drive them: start, submit, read the form."""

from __future__ import annotations

from typing import Any

from custom_components.mains_monitor.const import (
    CONF_DEVICE_KIND,
    CONF_PORT,
    DOMAIN,
    DeviceKind,
)
from custom_components.mains_monitor.validation import vol
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState, ConfigFlowResult
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, section


def form_schema(result: ConfigFlowResult) -> vol.Schema:
    """The schema of a form."""
    schema = result["data_schema"]
    assert schema is not None
    return schema


def suggested(result: ConfigFlowResult) -> dict[str, Any]:
    """The values a form fills in, sections as nested dicts."""
    return _suggested_in(form_schema(result))


def _suggested_in(schema: vol.Schema) -> dict[str, Any]:
    """The values a schema fills in, its sections' as nested dicts."""
    values: dict[str, Any] = {}
    for key, value in schema.schema.items():
        if isinstance(value, section):
            if inner := _suggested_in(value.schema):
                values[str(key)] = inner
        elif key.description and "suggested_value" in key.description:
            values[str(key)] = key.description["suggested_value"]
    return values


async def start_port_step(
    hass: HomeAssistant, kind: DeviceKind = DeviceKind.MFM
) -> ConfigFlowResult:
    """Start adding a device and choose its kind (the mfm board, as the form does)."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_DEVICE_KIND: kind.value}
    )


async def submit(
    hass: HomeAssistant, flow: ConfigFlowResult, user_input: dict[str, Any]
) -> ConfigFlowResult:
    """Submit a form of a config flow."""
    return await hass.config_entries.flow.async_configure(flow["flow_id"], user_input)


async def submit_port(
    hass: HomeAssistant, flow: ConfigFlowResult, port: str
) -> ConfigFlowResult:
    """Submit a port in a flow's port form."""
    return await submit(hass, flow, {CONF_PORT: port})


async def submit_options(
    hass: HomeAssistant, flow: ConfigFlowResult, user_input: dict[str, Any]
) -> ConfigFlowResult:
    """Submit an options form; an entry that was not set up is unloaded again after saving.

    Saved options that changed reload the entry, which sets up one that was not loaded.
    """
    entry = hass.config_entries.async_get_known_entry(flow["handler"])
    was_loaded = entry.state is ConfigEntryState.LOADED
    result = await hass.config_entries.options.async_configure(
        flow["flow_id"], user_input
    )
    if result["type"] is FlowResultType.CREATE_ENTRY and not was_loaded:
        await hass.async_block_till_done()
        if entry.state is ConfigEntryState.LOADED:
            assert await hass.config_entries.async_unload(entry.entry_id)
    return result


async def open_options(hass: HomeAssistant, entry_id: str) -> ConfigFlowResult:
    """Open an entry's options form: from the menu, for a kind that has one."""
    result = await hass.config_entries.options.async_init(entry_id)
    if result["type"] is FlowResultType.MENU:
        result = await hass.config_entries.options.async_configure(
            result["flow_id"], {"next_step_id": "settings"}
        )
    return result
