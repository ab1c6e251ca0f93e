"""Set-up, reconfigure and options flows for Mains Monitor."""

from __future__ import annotations

from collections.abc import Coroutine
import math
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
from homeassistant.data_entry_flow import section
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    SerialPortSelector,
    SerialPortSelectorConfig,
    TextSelector,
)

from .const import (
    CONF_CALIBRATION_OFFSET,
    CONF_DEVICE_ID,
    CONF_DEVICE_KIND,
    CONF_ECM_MODE,
    CONF_FIRMWARE,
    CONF_INVERTED,
    CONF_LINE_FORMAT,
    CONF_MODE,
    CONF_MODEL,
    CONF_NAME,
    CONF_NOMINAL_FREQUENCY,
    CONF_POLL_INTERVAL,
    CONF_PORT,
    CONF_READ_SETTINGS,
    CONF_SILENCE_TIMEOUT,
    CONF_UPDATE_INTERVAL,
    DEFAULT_ECM_SILENCE_TIMEOUT,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_SILENCE_TIMEOUT,
    DEFAULT_UPDATE_INTERVAL,
    DOMAIN,
    ECM_MODE_POLL,
    ECM_MODE_REALTIME,
    NOMINAL_AUTO,
    ChannelMode,
    DeviceKind,
)
from .errors import MainsMonitorError, reason_key
from .ports import stable_port
from .probe import (
    EcmProbeResult,
    async_probe_ecm,
    async_probe_mfm,
    async_read_ecm_settings,
    async_send_ecm_command,
)
from .protocol.ecm1240 import (
    POLARIZED_CHANNELS,
    EcmPacket,
    model_channels,
    realtime_command,
)
from .validation import vol

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


def _ecm_unique_id(packet: EcmPacket, port: str) -> str:
    """The unit's unit id and serial; the port for units that report 0 and 0."""
    return port if packet.unit_id == packet.serial == 0 else packet.device_id


ECM_DEFAULT_OPTIONS: dict[str, Any] = {
    CONF_UPDATE_INTERVAL: DEFAULT_UPDATE_INTERVAL,
    CONF_SILENCE_TIMEOUT: DEFAULT_ECM_SILENCE_TIMEOUT,
}


def _channel_schemas(model: str) -> dict[str, vol.Schema]:
    """The fields of each channel the model has: name, mode, polarity."""
    return {channel: _channel_schema(channel) for channel in model_channels(model)}


def _channel_schema(channel: str) -> vol.Schema:
    """A channel's name and mode; CH1 and CH2 also net metering and polarity."""
    polarized = channel in POLARIZED_CHANNELS
    modes = (
        list(ChannelMode) if polarized else [ChannelMode.CONSUMPTION, ChannelMode.OFF]
    )
    fields: dict[vol.Marker, Any] = {
        vol.Optional(CONF_NAME): TextSelector(),
        vol.Required(CONF_MODE, default=ChannelMode.CONSUMPTION): SelectSelector(
            SelectSelectorConfig(options=modes, translation_key="channel_mode")
        ),
    }
    if polarized:
        fields[vol.Required(CONF_INVERTED, default=False)] = BooleanSelector()
    return vol.Schema(fields)


def _ecm_options_schema(model: str, expanded: set[str]) -> vol.Schema:
    """Intervals, then one section per channel, collapsed unless `expanded`."""
    fields: dict[vol.Marker, Any] = {
        vol.Required(CONF_UPDATE_INTERVAL): _number(1, 60, 1, "s"),
        vol.Required(CONF_POLL_INTERVAL): _number(0, 3600, 1, "s"),
        # Up to three polls of the longest polling interval.
        vol.Required(CONF_SILENCE_TIMEOUT): _number(5, 10800, 1, "s"),
    }
    for channel, schema in _channel_schemas(model).items():
        fields[vol.Required(channel)] = section(
            schema, {"collapsed": channel not in expanded}
        )
    return vol.Schema(fields)


def _channel_name(channel: str, values: dict[str, Any]) -> str:
    """The name a channel's entities get: the user's, or its label on the unit."""
    return str(values.get(CONF_NAME) or channel.upper())


def _duplicate_names(model: str, user_input: dict[str, Any]) -> dict[str, str]:
    """An error on each channel whose entities would be named like an earlier one's."""
    errors: dict[str, str] = {}
    seen: set[str] = set()
    for channel in _channel_schemas(model):
        values = user_input.get(channel, {})
        if values.get(CONF_MODE) == ChannelMode.OFF:
            continue
        name = _channel_name(channel, values).strip().casefold()
        if name in seen:
            errors[channel] = "duplicate_name"
        seen.add(name)
    return errors


def _section_titles(model: str, options: dict[str, Any]) -> dict[str, str]:
    """Each channel section's title: the user's name and the unit's label."""
    titles: dict[str, str] = {}
    for channel in _channel_schemas(model):
        label = channel.upper()
        name = _channel_name(channel, options.get(channel, {}))
        titles[channel] = label if name == label else f"{name} ({label})"
    return titles


class MainsMonitorConfigFlow(ConfigFlow, domain=DOMAIN):
    """Adds a device after reading real data from its port."""

    VERSION = 1

    _ecm: EcmPacket

    def __init__(self) -> None:
        """Start with no device kind chosen."""
        self._device_kind = DeviceKind.MFM
        self._port = ""
        self._firmware: str | None = None

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
        """Ask for the port and read the device's data from it."""
        errors: dict[str, str] = {}
        if user_input is not None:
            self._port = await self._async_stable_port(user_input[CONF_PORT])
            if self._port_in_use(self._port):
                errors[CONF_PORT] = "port_in_use"
            elif self._device_kind is DeviceKind.ECM1240:
                if ecm := await self._async_try(async_probe_ecm(self._port), errors):
                    return await self._async_ecm_found(ecm)
            elif mfm := await self._async_try(async_probe_mfm(self._port), errors):
                return self.async_create_entry(
                    title=MFM_TITLE,
                    data={
                        CONF_DEVICE_KIND: DeviceKind.MFM,
                        CONF_PORT: self._port,
                        CONF_LINE_FORMAT: mfm.line_format,
                    },
                    options=DEFAULT_OPTIONS,
                )
        return self.async_show_form(
            step_id="port",
            data_schema=self._port_schema(user_input),
            errors=errors,
        )

    async def _async_ecm_found(self, probe: EcmProbeResult) -> ConfigFlowResult:
        """Identify the unit; ask how to read it if it does not push by itself."""
        self._ecm = probe.packet
        await self.async_set_unique_id(_ecm_unique_id(probe.packet, self._port))
        self._abort_if_unique_id_configured(updates={CONF_PORT: self._port})
        if probe.realtime:
            return self._async_create_ecm_entry(poll_interval=0)
        return await self.async_step_ecm_mode()

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
                self._firmware = settings.firmware if settings else None
            if not errors and user_input[CONF_ECM_MODE] == ECM_MODE_POLL:
                return self._async_create_ecm_entry(
                    poll_interval=int(user_input[CONF_POLL_INTERVAL])
                )
            if not errors and await self._async_try(
                async_send_ecm_command(self._port, realtime_command(on=True)),
                errors,
                field="base",
            ):
                return self._async_create_ecm_entry(poll_interval=0)
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
                ): _number(1, 3600, 1, "s"),
                vol.Optional(CONF_READ_SETTINGS, default=False): BooleanSelector(),
            }
        )
        return self.async_show_form(
            step_id="ecm_mode", data_schema=schema, errors=errors
        )

    @callback
    def _async_create_ecm_entry(self, poll_interval: int) -> ConfigFlowResult:
        """Add the unit found on the port."""
        packet = self._ecm
        return self.async_create_entry(
            title=f"{packet.model} {packet.device_id}",
            data={
                CONF_DEVICE_KIND: DeviceKind.ECM1240,
                CONF_PORT: self._port,
                CONF_DEVICE_ID: packet.device_id,
                CONF_MODEL: packet.model,
            }
            | ({CONF_FIRMWARE: self._firmware} if self._firmware else {}),
            options={
                **ECM_DEFAULT_OPTIONS,
                CONF_POLL_INTERVAL: poll_interval,
                # A poll every few minutes must not count as an outage in between.
                CONF_SILENCE_TIMEOUT: max(
                    DEFAULT_ECM_SILENCE_TIMEOUT, 3 * poll_interval
                ),
            },
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
        if entry.data[CONF_DEVICE_KIND] == DeviceKind.MFM:
            if mfm := await self._async_try(async_probe_mfm(port), errors):
                return {CONF_LINE_FORMAT: mfm.line_format}
            return None
        if ecm := await self._async_try(async_probe_ecm(port), errors):
            if ecm.packet.device_id == entry.data[CONF_DEVICE_ID]:
                return {}
            errors[CONF_PORT] = "another_unit"
        return None

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


def _edited_sections(
    model: str, stored: dict[str, Any], user_input: dict[str, Any]
) -> set[str]:
    """The channels whose fields the user changed from what the form showed."""
    return {
        channel
        for channel, schema in _channel_schemas(model).items()
        if user_input.get(channel) != schema(stored.get(channel, {}))
    }


def _not_numbers(user_input: dict[str, Any]) -> dict[str, str]:
    """Errors for number fields holding NaN, which passes every range check."""
    return {
        field: "not_a_number"
        for field, value in user_input.items()
        if isinstance(value, float) and math.isnan(value)
    }


class MainsMonitorOptionsFlow(OptionsFlowWithReload):
    """Tunes how readings are aggregated and when silence means an outage.

    Saved options that differ from the entry's reload it; unchanged ones do not.
    """

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and store the board's options."""
        if self.config_entry.data[CONF_DEVICE_KIND] == DeviceKind.ECM1240:
            return await self.async_step_ecm()
        errors: dict[str, str] = {}
        if user_input is not None and not (errors := _not_numbers(user_input)):
            return self.async_create_entry(data=user_input)
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(
                OPTIONS_SCHEMA,
                DEFAULT_OPTIONS | dict(self.config_entry.options) | (user_input or {}),
            ),
            errors=errors,
            description_placeholders={"device": self.config_entry.title},
        )

    async def async_step_ecm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and store the energy monitor's options and channels."""
        model = self.config_entry.data[CONF_MODEL]
        stored = dict(self.config_entry.options)
        errors: dict[str, str] = {}
        expanded: set[str] = set()
        if user_input is not None:
            poll = user_input[CONF_POLL_INTERVAL]
            errors = _not_numbers(user_input) | _duplicate_names(model, user_input)
            if not errors and poll and user_input[CONF_SILENCE_TIMEOUT] <= poll:
                errors[CONF_SILENCE_TIMEOUT] = "silence_shorter_than_poll"
            if not errors:
                return self.async_create_entry(data=user_input)
            # Shown again: the sections the user worked in, or that hold an error, stay open.
            expanded = _edited_sections(model, stored, user_input) | errors.keys()
        values = user_input or stored
        return self.async_show_form(
            step_id="ecm",
            data_schema=self.add_suggested_values_to_schema(
                _ecm_options_schema(model, expanded), values
            ),
            errors=errors,
            description_placeholders={
                "device": self.config_entry.title,
                **_section_titles(model, values),
            },
        )
