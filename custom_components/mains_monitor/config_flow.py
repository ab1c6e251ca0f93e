"""Set-up, reconfigure and options flows for Mains Monitor."""

from __future__ import annotations

from collections.abc import Coroutine
from dataclasses import replace
from typing import Any

from homeassistant.config_entries import (
    ConfigEntry,
    ConfigEntryState,
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
    OptionsFlowWithReload,
)
from homeassistant.core import callback
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    SerialPortSelector,
    SerialPortSelectorConfig,
)

from .calibration_flow import CalibrationSteps
from .const import (
    CONF_DEVICE_KIND,
    CONF_ECM_MODE,
    CONF_FIRMWARE,
    CONF_POLL_INTERVAL,
    CONF_PORT,
    CONF_READ_SETTINGS,
    DEFAULT_POLL_INTERVAL,
    DOMAIN,
    ECM_MODE_POLL,
    ECM_MODE_REALTIME,
    DeviceKind,
)
from .errors import MainsMonitorError, reason_key
from .kinds import KINDS, device_kind
from .kinds.base import NewEntry, number_field
from .kinds.ecm1240 import entry_options as ecm_entry_options
from .ports import stable_port
from .probe import async_read_ecm_settings, async_send_ecm_command
from .protocol.ecm1240 import realtime_command
from .validation import vol


class MainsMonitorConfigFlow(ConfigFlow, domain=DOMAIN):
    """Adds a device after reading real data from its port."""

    VERSION = 1
    # 1.2: an energy monitor's device and entities are identified by the unit.
    MINOR_VERSION = 2

    _new_entry: NewEntry

    def __init__(self) -> None:
        """Start with no device kind chosen."""
        self._device_kind = DeviceKind.MFM
        self._port = ""

    @staticmethod
    @callback
    def async_get_options_flow(config_entry: ConfigEntry) -> OptionsFlow:
        """The options flow of an entry."""
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
                        options=list(KINDS),
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
        """Ask for the port and read the device's data from it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            kind = KINDS[self._device_kind]
            self._port = await self._async_stable_port(user_input[CONF_PORT])
            if self._port_in_use(self._port):
                errors[CONF_PORT] = "port_in_use"
            elif probed := await self._async_try(kind.async_probe(self._port), errors):
                return await self._async_device_found(
                    kind.new_entry(probed, self._port)
                )
        return self.async_show_form(
            step_id="port",
            data_schema=self._port_schema(user_input),
            errors=errors,
        )

    async def _async_device_found(self, new_entry: NewEntry) -> ConfigFlowResult:
        """Add the device, unless it has an entry; ask how to read it if it must be polled."""
        if new_entry.unique_id is not None:
            await self.async_set_unique_id(new_entry.unique_id)
            self._abort_if_unique_id_configured(updates={CONF_PORT: self._port})
        if new_entry.asks_read_mode:
            self._new_entry = new_entry
            return await self.async_step_ecm_mode()
        return self._async_create(new_entry)

    @callback
    def _async_create(self, new_entry: NewEntry) -> ConfigFlowResult:
        """Add the entry."""
        return self.async_create_entry(
            title=new_entry.title,
            data=dict(new_entry.data),
            options=dict(new_entry.options),
        )

    async def async_step_ecm_mode(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The unit answers polls only: poll it, or switch its real-time mode on."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if user_input.get(CONF_READ_SETTINGS):
                settings = await self._async_try(
                    async_read_ecm_settings(self._port), errors, field="base"
                )
                if settings:
                    self._new_entry = replace(
                        self._new_entry,
                        data={**self._new_entry.data, CONF_FIRMWARE: settings.firmware},
                    )
            if not errors and user_input[CONF_ECM_MODE] == ECM_MODE_POLL:
                poll_interval = int(user_input[CONF_POLL_INTERVAL])
                return self._async_create(
                    replace(self._new_entry, options=ecm_entry_options(poll_interval))
                )
            if not errors and await self._async_try(
                async_send_ecm_command(self._port, realtime_command(on=True)),
                errors,
                field="base",
            ):
                return self._async_create(self._new_entry)
        schema = vol.Schema(
            {
                vol.Required(CONF_ECM_MODE, default=ECM_MODE_POLL): SelectSelector(
                    SelectSelectorConfig(
                        options=[ECM_MODE_POLL, ECM_MODE_REALTIME],
                        translation_key=CONF_ECM_MODE,
                        mode=SelectSelectorMode.LIST,
                    )
                ),
                vol.Required(
                    CONF_POLL_INTERVAL, default=DEFAULT_POLL_INTERVAL
                ): number_field(1, 3600, 1, "s"),
                vol.Optional(CONF_READ_SETTINGS, default=False): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id="ecm_mode", data_schema=schema, errors=errors
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Move the device to another port, keeping its entities and history."""
        entry = self._get_reconfigure_entry()
        self._device_kind = DeviceKind(entry.data[CONF_DEVICE_KIND])
        errors: dict[str, str] = {}
        if user_input is not None:
            port = await self._async_stable_port(user_input[CONF_PORT])
            if self._port_in_use(port, entry):
                errors[CONF_PORT] = "port_in_use"
            elif (
                updates := await self._async_reprobe(entry, port, errors)
            ) is not None:
                return self.async_update_reload_and_abort(
                    entry, data_updates={CONF_PORT: port, **updates}
                )
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self._port_schema(user_input or dict(entry.data)),
            errors=errors,
        )

    async def _async_reprobe(
        self, entry: ConfigEntry, port: str, errors: dict[str, str]
    ) -> dict[str, Any] | None:
        """Read the entry's device on `port`, freeing the port first if it is its own."""
        unloaded = False
        if port == entry.data[CONF_PORT] and entry.state is ConfigEntryState.LOADED:
            # The entry's own reader holds the port exclusively: free it to probe.
            unloaded = await self.hass.config_entries.async_unload(entry.entry_id)
        updates = await self._async_read_again(entry, port, errors)
        if updates is None and unloaded:
            self.hass.config_entries.async_schedule_reload(entry.entry_id)
        return updates

    def _port_in_use(self, port: str, own: ConfigEntry | None = None) -> bool:
        """Whether another entry than `own` reads from `port`."""
        return any(
            entry.data.get(CONF_PORT) == port
            for entry in self._async_current_entries(include_ignore=False)
            if entry is not own
        )

    async def _async_stable_port(self, port: str) -> str:
        """The port as typed, or its stable /dev/serial/by-id name."""
        return await self.hass.async_add_executor_job(stable_port, port.strip())

    async def _async_read_again(
        self, entry: ConfigEntry, port: str, errors: dict[str, str]
    ) -> dict[str, Any] | None:
        """Read the entry's device on `port`; what its data should now say."""
        kind = device_kind(entry)
        if not (probed := await self._async_try(kind.async_probe(port), errors)):
            return None
        if (updates := kind.moved_entry_data(entry, probed)) is None:
            errors[CONF_PORT] = "another_unit"
            return None
        return dict(updates)

    async def _async_try[T](
        self,
        attempt: Coroutine[Any, Any, T],
        errors: dict[str, str],
        field: str = CONF_PORT,
    ) -> T | None:
        """Await a probe or command; on failure, say why in `errors[field]`."""
        try:
            return await attempt
        except MainsMonitorError as err:
            errors[field] = reason_key(err.reason, self._device_kind)
            return None

    def _port_schema(self, current: dict[str, Any] | None) -> vol.Schema:
        """Home Assistant's port picker: detected ports, ESPHome proxies or a typed path or URL."""
        schema = vol.Schema(
            {
                vol.Required(CONF_PORT): SerialPortSelector(
                    SerialPortSelectorConfig(extra_recommended_domains=[DOMAIN])
                )
            }
        )
        return self.add_suggested_values_to_schema(schema, current)


class MainsMonitorOptionsFlow(CalibrationSteps, OptionsFlowWithReload):
    """Tunes how readings are aggregated and when silence means an outage.

    Saved options that differ from the entry's reload it; unchanged ones do not.
    """

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """The kind's options menu, if it has one; else its options form."""
        entry = self.config_entry
        if menu := device_kind(entry).options_menu:
            return self.async_show_menu(
                step_id="init",
                # No placeholders: the frontend leaves them unfilled in a menu's title.
                menu_options=list(menu),
            )
        return await self.async_step_settings(user_input)

    async def async_step_settings(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and store the options of the entry's device kind."""
        entry = self.config_entry
        kind = device_kind(entry)
        errors: dict[str, str] = {}
        if user_input is not None:
            errors = kind.options_errors(self.hass, entry, user_input)
            if not errors:
                return self.async_create_entry(data=user_input)
        form = kind.options_form(entry, user_input, errors)
        return self.async_show_form(
            step_id=kind.options_step_id,
            data_schema=self.add_suggested_values_to_schema(form.schema, form.values),
            errors=errors,
            description_placeholders={"device": entry.title, **form.placeholders},
        )

    # The energy monitor's form has a step id (and texts) of its own.
    async_step_ecm = async_step_settings
