"""The options flow's steps that work the board's calibration offset out from a reference."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigFlowResult, OptionsFlow
from homeassistant.util import dt as dt_util

from .calibration import (
    Refusal,
    duration,
    minimum_period,
    offset_from_grid_time,
    offset_from_reference,
)
from .const import CONF_CALIBRATION_OFFSET
from .kinds.base import number_field
from .kinds.mfm import MFM
from .mfm_coordinator import MfmCoordinator
from .validation import vol

CONF_OFFICIAL_NOW = "official_now"
CONF_OFFICIAL_THEN = "official_then"
CONF_REFERENCE = "reference_frequency"
CONF_PERIOD = "period"

GRID_TIME_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_OFFICIAL_THEN): number_field(-1000, 1000, 0.001, "s"),
        vol.Required(CONF_OFFICIAL_NOW): number_field(-1000, 1000, 0.001, "s"),
    }
)
REFERENCE_SCHEMA = vol.Schema(
    {
        # Any number of decimals: a selector's step is at least 0.001.
        vol.Required(CONF_REFERENCE): number_field(45, 65, "any", "Hz"),
        # The board keeps the last hour of 1-second means.
        vol.Required(CONF_PERIOD, default=10): number_field(1, 60, 1, "min"),
    }
)


class CalibrationSteps(OptionsFlow):
    """Works the offset out from the official grid time or a reference reading, then asks to save it."""

    _offset: float

    def _coordinator(self) -> MfmCoordinator | None:
        """The board's coordinator, while the entry is loaded."""
        entry = self.config_entry
        if entry.state is not ConfigEntryState.LOADED:
            return None
        return MFM.coordinator_of(entry)

    async def async_step_calibrate_grid_time(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Compare the board's grid time count with the official deviation's change."""
        if (coordinator := self._coordinator()) is None:
            return self.async_abort(reason="calibration_needs_readings")
        count = coordinator.grid_time_count()
        now = dt_util.utcnow()
        placeholders = {
            "since": dt_util.as_local(count.since).strftime("%Y-%m-%d %H:%M:%S"),
            "elapsed": duration((now - count.since).total_seconds()),
            "counted": f"{count.deviation:+.3f}",
            "minimum": duration(minimum_period(coordinator.nominal)),
        }
        if user_input is None:
            return self._show("calibrate_grid_time", GRID_TIME_SCHEMA, placeholders)
        found = offset_from_grid_time(
            offset=coordinator.calibration,
            nominal=coordinator.nominal,
            counted=count.deviation,
            official_change=user_input[CONF_OFFICIAL_NOW]
            - user_input[CONF_OFFICIAL_THEN],
            covered=count.covered,
            elapsed=(now - count.since).total_seconds(),
        )
        return await self._found(
            "calibrate_grid_time", GRID_TIME_SCHEMA, user_input, placeholders, found
        )

    async def async_step_calibrate_reference(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Compare the board's mean of the last minutes with a reference's."""
        if (coordinator := self._coordinator()) is None:
            return self.async_abort(reason="calibration_needs_readings")
        if user_input is None:
            return self._show("calibrate_reference", REFERENCE_SCHEMA, {})
        period = round(user_input[CONF_PERIOD] * 60)
        found = offset_from_reference(
            offset=coordinator.calibration,
            nominal=coordinator.nominal,
            reference=user_input[CONF_REFERENCE],
            means=coordinator.recent_means(period, dt_util.utcnow()),
            period=period,
        )
        return await self._found(
            "calibrate_reference", REFERENCE_SCHEMA, user_input, {}, found
        )

    async def _found(
        self,
        step_id: str,
        schema: vol.Schema,
        user_input: dict[str, Any],
        placeholders: dict[str, str],
        found: float | Refusal,
    ) -> ConfigFlowResult:
        """Ask to save the offset found; show the form again with the refusal's error."""
        if isinstance(found, Refusal):
            return self._show(
                step_id,
                schema,
                placeholders | dict(found.placeholders),
                user_input,
                {"base": found.error},
            )
        self._offset = found
        return await self.async_step_calibrate_confirm()

    def _show(
        self,
        step_id: str,
        schema: vol.Schema,
        placeholders: Mapping[str, str],
        user_input: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
    ) -> ConfigFlowResult:
        """A calibration form, with what was typed kept after an error."""
        return self.async_show_form(
            step_id=step_id,
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            errors=errors,
            description_placeholders={"device": self.config_entry.title}
            | dict(placeholders),
        )

    async def async_step_calibrate_confirm(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show the offset found; saving it reloads the entry with it."""
        options = self.config_entry.options
        if user_input is not None:
            return self.async_create_entry(
                data={**options, CONF_CALIBRATION_OFFSET: self._offset}
            )
        return self.async_show_form(
            step_id="calibrate_confirm",
            data_schema=vol.Schema({}),
            description_placeholders={
                "device": self.config_entry.title,
                "offset": f"{self._offset:+.1f}",
                "previous": f"{options.get(CONF_CALIBRATION_OFFSET, 0.0):+.1f}",
            },
        )
