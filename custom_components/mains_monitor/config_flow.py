"""Set-up, reconfigure and options flows for Mains Monitor."""

from __future__ import annotations

from typing import Any

import voluptuous as vol

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)

from .const import (
    CONF_CALIBRATION_OFFSET,
    CONF_DEVICE_KIND,
    CONF_LINE_FORMAT,
    CONF_NOMINAL_FREQUENCY,
    CONF_PORT,
    CONF_SILENCE_TIMEOUT,
    CONF_UPDATE_INTERVAL,
    DEFAULT_SILENCE_TIMEOUT,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
    NOMINAL_AUTO,
    DeviceKind,
)
from .errors import InvalidPortError, MainsMonitorError
from .ports import async_list_ports, stable_port
from .probe import MfmProbeResult, async_probe_mfm

MFM_TITLE = "Mains frequency board"


def _number(minimum: float, maximum: float, step: float, unit: str) -> NumberSelector:
    """A number typed into a box, bounded and with its unit."""
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=step,
            mode=NumberSelectorMode.BOX,
            unit_of_measurement=unit,
        )
    )


OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_UPDATE_INTERVAL): _number(1, 60, 1, "s"),
        vol.Required(CONF_NOMINAL_FREQUENCY): SelectSelector(
            SelectSelectorConfig(
                options=[NOMINAL_AUTO, "50", "60"],
                translation_key=CONF_NOMINAL_FREQUENCY,
                mode=SelectSelectorMode.LIST,
            )
        ),
        vol.Required(CONF_CALIBRATION_OFFSET): _number(-100, 100, 0.1, "mHz"),
        vol.Required(CONF_SILENCE_TIMEOUT): _number(5, 600, 1, "s"),
    }
)
DEFAULT_OPTIONS: dict[str, Any] = {
    CONF_UPDATE_INTERVAL: DEFAULT_UPDATE_INTERVAL,
    CONF_NOMINAL_FREQUENCY: NOMINAL_AUTO,
    CONF_CALIBRATION_OFFSET: 0.0,
    CONF_SILENCE_TIMEOUT: DEFAULT_SILENCE_TIMEOUT,
}


class MainsMonitorConfigFlow(ConfigFlow, domain=DOMAIN):
    """Adds a device after reading real data from its port."""

    VERSION = 1

    def __init__(self) -> None:
        """Start with no device kind chosen."""
        self._device_kind = DeviceKind.MFM

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """Return the options flow."""
        return MainsMonitorOptionsFlow()

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask which kind of device is attached."""
        if user_input is not None:
            self._device_kind = DeviceKind(user_input[CONF_DEVICE_KIND])
            return await self.async_step_port()
        schema = vol.Schema(
            {
                vol.Required(CONF_DEVICE_KIND, default=DeviceKind.MFM): SelectSelector(
                    SelectSelectorConfig(
                        options=list(DeviceKind),
                        translation_key=CONF_DEVICE_KIND,
                        mode=SelectSelectorMode.LIST,
                    )
                )
            }
        )
        return self.async_show_form(step_id="user", data_schema=schema)

    async def async_step_port(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Ask for the port and read a reading from it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            port = await self._async_stable_port(user_input[CONF_PORT])
            self._async_abort_entries_match({CONF_PORT: port})
            result = await self._async_probe(port, errors)
            if result is not None:
                return self.async_create_entry(
                    title=MFM_TITLE,
                    data={
                        CONF_DEVICE_KIND: self._device_kind,
                        CONF_PORT: port,
                        CONF_LINE_FORMAT: result.line_format,
                    },
                    options=DEFAULT_OPTIONS,
                )
        return self.async_show_form(
            step_id="port",
            data_schema=await self._async_port_schema(user_input),
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the device to another port, keeping its entities and history."""
        entry = self._get_reconfigure_entry()
        errors: dict[str, str] = {}
        if user_input is not None:
            port = await self._async_stable_port(user_input[CONF_PORT])
            unloaded = False
            if port != entry.data[CONF_PORT]:
                self._async_abort_entries_match({CONF_PORT: port})
            elif entry.state is ConfigEntryState.LOADED:
                # The entry's own reader holds the port exclusively: free it to probe.
                unloaded = await self.hass.config_entries.async_unload(entry.entry_id)
            result = await self._async_probe(port, errors)
            if result is None and unloaded:
                self.hass.config_entries.async_schedule_reload(entry.entry_id)
            if result is not None:
                return self.async_update_reload_and_abort(
                    entry,
                    data_updates={
                        CONF_PORT: port,
                        CONF_LINE_FORMAT: result.line_format,
                    },
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=await self._async_port_schema(user_input or dict(entry.data)),
            errors=errors,
        )

    async def _async_stable_port(self, port: str) -> str:
        """The port as typed, or its stable /dev/serial/by-id name."""
        return await self.hass.async_add_executor_job(stable_port, port.strip())

    async def _async_probe(
        self, port: str, errors: dict[str, str]
    ) -> MfmProbeResult | None:
        """Read from the port; on failure, say why in `errors`."""
        try:
            if not port:
                raise InvalidPortError("no port given")
            return await async_probe_mfm(port)
        except MainsMonitorError as err:
            errors[CONF_PORT] = err.reason
            return None

    async def _async_port_schema(self, current: dict[str, Any] | None) -> vol.Schema:
        """A port picker with the detected ports that also takes a typed path or URL."""
        schema = vol.Schema(
            {
                vol.Required(CONF_PORT): SelectSelector(
                    SelectSelectorConfig(
                        options=await async_list_ports(self.hass),
                        custom_value=True,
                        mode=SelectSelectorMode.DROPDOWN,
                    )
                )
            }
        )
        return self.add_suggested_values_to_schema(schema, current)


class MainsMonitorOptionsFlow(OptionsFlow):
    """Tunes how readings are aggregated and when silence means an outage."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and store the options."""
        if user_input is not None:
            return self.async_create_entry(data=user_input)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA, DEFAULT_OPTIONS | dict(self.config_entry.options)
            ),
        )
