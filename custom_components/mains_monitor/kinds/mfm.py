"""The mfm board: a mains-frequency meter that sends text lines."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, replace
import json
from typing import Any

from homeassistant.components.binary_sensor import BinarySensorDeviceClass
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import EntityCategory, UnitOfFrequency, UnitOfPower, UnitOfTime
from homeassistant.helpers.selector import (
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from ..const import (
    CONF_CALIBRATION_OFFSET,
    CONF_DEVICE_KIND,
    CONF_LINE_FORMAT,
    CONF_NOMINAL_FREQUENCY,
    CONF_OSCILLATION_THRESHOLD,
    CONF_PORT,
    CONF_ROCOF_THRESHOLD,
    CONF_SILENCE_TIMEOUT,
    CONF_STEP_THRESHOLD,
    CONF_UPDATE_INTERVAL,
    DEFAULT_SILENCE_TIMEOUT,
    DEFAULT_UPDATE_INTERVAL,
    NOMINAL_AUTO,
    DeviceKind,
)
from ..coordinator import rounded
from ..disturbance import (
    DEFAULT_OSCILLATION,
    DEFAULT_ROCOF,
    DEFAULT_STEP,
    Disturbance,
    DisturbanceKind,
)
from ..entity import (
    MainsMonitorBinarySensorEntityDescription,
    MainsMonitorButtonEntityDescription,
    MainsMonitorEventEntityDescription,
    MainsMonitorSensorEntityDescription,
)
from ..frequency import ALARM_THRESHOLDS_MHZ, SUMMARY_ALARM_BIT, FrequencyBand
from ..mfm_coordinator import FrequencyStats, MfmCoordinator, MfmSnapshot
from ..probe import MfmProbeResult, async_probe_mfm
from ..protocol.mfm import LineFormat
from ..quality import BANDS_MHZ, PERCENTILES, QualitySummary
from ..stability import ALLAN_TAUS
from ..validation import vol
from .base import (
    DeviceKindDefinition,
    NewEntry,
    OptionsForm,
    connection_state,
    counter,
    measurement,
    minutes_today,
    number_field,
)

TITLE = "Mains frequency board"
MILLIHERTZ = "mHz"
MILLIHERTZ_PER_SECOND = "mHz/s"
FORMATS_WITH_LOAD_DIFFERENCE = {LineFormat.P2, LineFormat.P3, LineFormat.P4}

type MfmSensorEntityDescription = MainsMonitorSensorEntityDescription[MfmSnapshot]


def _stat(
    read: Callable[[FrequencyStats], StateType],
) -> Callable[[MfmSnapshot], StateType]:
    """Read a statistic of the interval, None before the first one."""
    return lambda snapshot: None if snapshot.stats is None else read(snapshot.stats)


def _frequency(
    key: str, read: Callable[[FrequencyStats], float]
) -> MfmSensorEntityDescription:
    """Describe a frequency statistic in Hz."""
    return measurement(
        key,
        _stat(read),
        device_class=SensorDeviceClass.FREQUENCY,
        unit=UnitOfFrequency.HERTZ,
        precision=3,
    )


def _today(
    key: str,
    read: Callable[[QualitySummary], StateType],
    *,
    state_class: SensorStateClass,
    unit: str | None = None,
    precision: int = 0,
    placeholders: Mapping[str, str] | None = None,
    translation_key: str | None = None,
) -> MfmSensorEntityDescription:
    """Describe one of the local day's quality figures; it starts again at midnight."""
    return MainsMonitorSensorEntityDescription(
        key=key,
        translation_key=translation_key or key,
        translation_placeholders=placeholders,
        native_unit_of_measurement=unit,
        state_class=state_class,
        suggested_display_precision=precision,
        value_fn=lambda snapshot: read(snapshot.quality),
    )


def _time_beyond(side: str, band: int) -> MfmSensorEntityDescription:
    """Describe the day's minutes above (side "over") or below ("under") nominal ± band."""
    return minutes_today(
        f"time_{side}_{band}",
        lambda snapshot: getattr(snapshot.quality, side)[band],
        translation_key=f"time_{side}",
        placeholders={"band": str(band)},
    )


def _percentile(percent: int) -> MfmSensorEntityDescription:
    """Describe the day's `percent` percentile of the deviation, exact to 1 mHz."""
    return _today(
        f"deviation_p{percent}",
        lambda quality: quality.percentiles.get(percent),
        translation_key="deviation_percentile",
        placeholders={"percent": str(percent)},
        state_class=SensorStateClass.MEASUREMENT,
        unit=MILLIHERTZ,
    )


QUALITY_SENSORS: tuple[MfmSensorEntityDescription, ...] = (
    minutes_today(
        "measured_time", lambda snapshot: snapshot.quality.measured, whole=True
    ),
    *(_time_beyond(side, band) for band in BANDS_MHZ for side in ("over", "under")),
    _today(
        "deviation_spread",
        lambda quality: (
            None
            if quality.standard_deviation is None
            else rounded(quality.standard_deviation, 1)
        ),
        state_class=SensorStateClass.MEASUREMENT,
        unit=MILLIHERTZ,
        precision=1,
    ),
    *(_percentile(percent) for percent in PERCENTILES),
    _today(
        "excursions",
        lambda quality: quality.excursions,
        state_class=SensorStateClass.TOTAL_INCREASING,
    ),
    _today(
        "excursions_not_restored",
        lambda quality: quality.excursions_not_restored,
        state_class=SensorStateClass.TOTAL_INCREASING,
    ),
)


def _allan(tau: int) -> MfmSensorEntityDescription:
    """Describe the readings' Allan deviation at `tau` s over the last hour."""
    return MainsMonitorSensorEntityDescription(
        key=f"allan_deviation_{tau}",
        translation_key="allan_deviation",
        translation_placeholders={"tau": str(tau)},
        entity_category=EntityCategory.DIAGNOSTIC,
        # It changes at every update, like a counter.
        entity_registry_enabled_default=False,
        native_unit_of_measurement=MILLIHERTZ,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=2,
        value_fn=lambda snapshot: _rounded_or_none(
            snapshot.allan_deviations.get(tau), 2
        ),
    )


def _rounded_or_none(value: float | None, digits: int) -> float | None:
    """`value` rounded, None kept."""
    return None if value is None else rounded(value, digits)


# The grid time correction and the readings' stability.
CORRECTION_SENSORS: tuple[MfmSensorEntityDescription, ...] = (
    measurement(
        "correction_expected",
        lambda snapshot: snapshot.correction_expected,
        unit=MILLIHERTZ,
        precision=0,
    ),
    measurement(
        "correction_inferred",
        lambda snapshot: snapshot.correction_inferred,
        unit=MILLIHERTZ,
        precision=0,
    ),
    measurement(
        "mean_deviation_recent",
        lambda snapshot: snapshot.mean_deviation_recent,
        unit=MILLIHERTZ,
        precision=0,
    ),
    *(_allan(tau) for tau in ALLAN_TAUS),
)

SENSORS: tuple[MfmSensorEntityDescription, ...] = (
    _frequency("frequency", lambda stats: stats.mean),
    _frequency("frequency_minimum", lambda stats: stats.minimum),
    _frequency("frequency_maximum", lambda stats: stats.maximum),
    measurement(
        "deviation",
        _stat(lambda stats: stats.deviation),
        unit=MILLIHERTZ,
        precision=0,
    ),
    measurement(
        "rate_of_change",
        _stat(lambda stats: stats.rate_of_change),
        unit=MILLIHERTZ_PER_SECOND,
        precision=1,
    ),
    measurement(
        "grid_time_deviation",
        lambda snapshot: snapshot.grid_time_deviation,
        unit=UnitOfTime.SECONDS,
        precision=2,
    ),
    MainsMonitorSensorEntityDescription(
        key="grid_time_since",
        translation_key="grid_time_since",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda snapshot: snapshot.grid_time_since,
    ),
    *QUALITY_SENSORS,
    *CORRECTION_SENSORS,
    MainsMonitorSensorEntityDescription(
        key="load_difference",
        translation_key="load_difference",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.MEGA_WATT,
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_stat(lambda stats: stats.load_difference),
        exists_fn=lambda entry: (
            entry.data.get(CONF_LINE_FORMAT) in FORMATS_WITH_LOAD_DIFFERENCE
        ),
    ),
    MainsMonitorSensorEntityDescription(
        key="band",
        translation_key="band",
        device_class=SensorDeviceClass.ENUM,
        options=[band.value for band in FrequencyBand],
        value_fn=_stat(lambda stats: stats.band.value),
    ),
    counter("readings_accepted", lambda snapshot: snapshot.readings_accepted),
    counter("lines_rejected", lambda snapshot: snapshot.lines_rejected),
    counter("board_restarts", lambda snapshot: snapshot.board_restarts),
    connection_state(),
)


def _alarm_bit(bit: int) -> Callable[[MfmSnapshot], bool | None]:
    """Whether an alarm's bit is set in the interval, None before the first one."""
    return lambda snapshot: (
        None if snapshot.stats is None else bool(snapshot.stats.alarms >> bit & 1)
    )


# On while the frequency is, or was within the hold time, out of its band.
ALARMS: tuple[MainsMonitorBinarySensorEntityDescription[MfmSnapshot], ...] = (
    *(
        MainsMonitorBinarySensorEntityDescription(
            key=f"alarm_{threshold}",
            translation_key="alarm_threshold",
            translation_placeholders={"threshold": str(threshold)},
            device_class=BinarySensorDeviceClass.PROBLEM,
            is_on_fn=_alarm_bit(bit),
        )
        for bit, threshold in enumerate(ALARM_THRESHOLDS_MHZ)
    ),
    MainsMonitorBinarySensorEntityDescription(
        key="alarm",
        translation_key="alarm",
        device_class=BinarySensorDeviceClass.PROBLEM,
        is_on_fn=_alarm_bit(SUMMARY_ALARM_BIT),
    ),
)

# On while the frequency wanders like an island's or a generator's (stability.island).
ISLAND = MainsMonitorBinarySensorEntityDescription[MfmSnapshot](
    key="island",
    translation_key="island",
    is_on_fn=lambda snapshot: snapshot.island,
)

RESET_GRID_TIME = MainsMonitorButtonEntityDescription[MfmCoordinator](
    key="reset_grid_time",
    translation_key="reset_grid_time",
    entity_category=EntityCategory.CONFIG,
    press_fn=lambda coordinator: coordinator.async_reset_grid_time(),
)


def disturbance_attributes(disturbance: Disturbance) -> dict[str, Any]:
    """What a disturbance event carries: its kinds, timing and peaks."""
    return {
        "kinds": [kind.value for kind in disturbance.kinds],
        "start": dt_util.utc_from_timestamp(disturbance.start).isoformat(),
        "duration": rounded(disturbance.duration, 1),
        "peak_deviation": rounded(disturbance.peak_deviation, 1),
        "peak_rocof": rounded(disturbance.peak_rocof, 1),
        "oscillation_frequency": _rounded_or_none(disturbance.oscillation_frequency, 3),
        "oscillation_amplitude": _rounded_or_none(disturbance.oscillation_amplitude, 1),
    }


# One event per disturbance, typed by what started it.
DISTURBANCE = MainsMonitorEventEntityDescription[MfmSnapshot](
    key="disturbance",
    translation_key="disturbance",
    event_types=[kind.value for kind in DisturbanceKind],
    events_fn=lambda snapshot: [
        (number, disturbance.kinds[0].value, disturbance_attributes(disturbance))
        for number, disturbance in snapshot.disturbances
    ],
)

OPTIONS_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_UPDATE_INTERVAL): number_field(1, 60, 1, "s"),
        vol.Required(CONF_NOMINAL_FREQUENCY): SelectSelector(
            SelectSelectorConfig(
                options=[NOMINAL_AUTO, "50", "60"],
                translation_key=CONF_NOMINAL_FREQUENCY,
                mode=SelectSelectorMode.LIST,
            )
        ),
        vol.Required(CONF_CALIBRATION_OFFSET): number_field(-100, 100, 0.1, "mHz"),
        vol.Required(CONF_SILENCE_TIMEOUT): number_field(5, 600, 1, "s"),
        vol.Required(CONF_ROCOF_THRESHOLD): number_field(
            5, 1000, 1, MILLIHERTZ_PER_SECOND
        ),
        vol.Required(CONF_STEP_THRESHOLD): number_field(5, 1000, 1, MILLIHERTZ),
        vol.Required(CONF_OSCILLATION_THRESHOLD): number_field(1, 500, 0.5, MILLIHERTZ),
    }
)
DEFAULT_OPTIONS: dict[str, Any] = {
    CONF_UPDATE_INTERVAL: DEFAULT_UPDATE_INTERVAL,
    CONF_NOMINAL_FREQUENCY: NOMINAL_AUTO,
    CONF_CALIBRATION_OFFSET: 0.0,
    CONF_SILENCE_TIMEOUT: DEFAULT_SILENCE_TIMEOUT,
    CONF_ROCOF_THRESHOLD: DEFAULT_ROCOF,
    CONF_STEP_THRESHOLD: DEFAULT_STEP,
    CONF_OSCILLATION_THRESHOLD: DEFAULT_OSCILLATION,
}


def mfm2mqtt_payload(stats: FrequencyStats) -> str:
    """The interval as mfm2mqtt published a reading: its last one, with its extremes and mean in Hz."""
    return json.dumps(
        {
            "MFM": {
                "FREQUENCY": {
                    "actual": stats.last,
                    "min": stats.minimum,
                    "max": stats.maximum,
                    "mean": stats.mean,
                },
                # mfm2mqtt's word for a valid reading; there is no other here.
                "STATE": {"flag": 1, "debug": "OK"},
            }
        }
    )


class MfmKind(DeviceKindDefinition[MfmCoordinator, MfmProbeResult]):
    """The board: frequency sensors, alarms and the grid-time reset."""

    kind = DeviceKind.MFM
    coordinator_type = MfmCoordinator
    options_step_id = "settings"
    options_menu = ("settings", "calibrate_grid_time", "calibrate_reference")
    mqtt_topic = "MFM"

    def sensors(
        self, coordinator: MfmCoordinator
    ) -> Iterable[MfmSensorEntityDescription]:
        """The frequency statistics, grid time and counters."""
        return SENSORS

    def binary_sensors(
        self, coordinator: MfmCoordinator
    ) -> Iterable[MainsMonitorBinarySensorEntityDescription[MfmSnapshot]]:
        """The board's frequency alarms and the island verdict."""
        return (*ALARMS, ISLAND)

    def buttons(
        self, coordinator: MfmCoordinator
    ) -> Iterable[MainsMonitorButtonEntityDescription[MfmCoordinator]]:
        """The grid-time reset."""
        return (RESET_GRID_TIME,)

    def events(
        self, coordinator: MfmCoordinator
    ) -> Iterable[MainsMonitorEventEntityDescription[MfmSnapshot]]:
        """The frequency disturbances."""
        return (DISTURBANCE,)

    def diagnostics(self, coordinator: MfmCoordinator) -> dict[str, Any]:
        """What the parser knows of the board, and the latest disturbances with their readings."""
        parser = coordinator.parser
        data = coordinator.data
        return {
            "disturbances": [
                disturbance_attributes(disturbance) | {"readings_csv": disturbance.csv}
                for _, disturbance in (() if data is None else data.disturbances)
            ],
            "firmware": parser.firmware,
            "output_format": parser.output_format,
            "nominal_frequency": parser.nominal_frequency,
            "restarts": parser.restarts,
            "accepted": parser.accepted,
            "banner_lines": parser.banner_lines,
            "rejected": dict(parser.rejected),
        }

    def snapshot_diagnostics(self, snapshot: MfmSnapshot) -> dict[str, Any]:
        """Every field but the disturbances, which `diagnostics` shows with their CSV."""
        return asdict(replace(snapshot, disturbances=()))

    def mqtt_payloads(self, coordinator: MfmCoordinator) -> list[str]:
        """The interval in mfm2mqtt's JSON; nothing before the first reading."""
        stats = coordinator.data.stats
        return [] if stats is None else [mfm2mqtt_payload(stats)]

    async def async_probe(self, port: str) -> MfmProbeResult:
        """Wait for a valid reading."""
        return await async_probe_mfm(port)

    def new_entry(self, probed: MfmProbeResult, port: str) -> NewEntry:
        """The board's entry; any number of boards may be added."""
        return NewEntry(
            title=TITLE,
            data={
                CONF_DEVICE_KIND: self.kind,
                CONF_PORT: port,
                CONF_LINE_FORMAT: probed.line_format,
            },
            options=DEFAULT_OPTIONS,
        )

    def moved_entry_data(
        self, entry: ConfigEntry, probed: MfmProbeResult
    ) -> Mapping[str, Any]:
        """A board is a board: take its line format, which a reflash may change."""
        return {CONF_LINE_FORMAT: probed.line_format}

    def options_form(
        self,
        entry: ConfigEntry,
        user_input: Mapping[str, Any] | None,
        errors: Mapping[str, str],
    ) -> OptionsForm:
        """Interval, nominal frequency, calibration, silence timeout and MQTT."""
        values = DEFAULT_OPTIONS | dict(entry.options) | dict(user_input or {})
        return OptionsForm(
            schema=OPTIONS_SCHEMA.extend(self.mqtt_section(values, errors)),
            values=values,
            placeholders={},
        )


MFM = MfmKind()
