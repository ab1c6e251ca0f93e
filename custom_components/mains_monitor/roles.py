"""ECM channel roles: the grid connection, solar and the circuits inside, and what follows from them.

The main is the grid connection; solar channels measure inverters behind it, as
Home Assistant's Energy dashboard takes them; every other channel that is on is a
circuit inside the main. Every figure comes from the same watt-second steps the
channels' own figures come from: power from the same packet pairs, energy from the
ledger's persisted totals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import UnitOfEnergy, UnitOfPower

from .const import ChannelMode, ChannelRole
from .coordinator import rounded
from .energy import ChannelCounters, Interval, to_kwh
from .entity import MainsMonitorSensorEntityDescription

if TYPE_CHECKING:
    from .ecm_coordinator import EcmSnapshot


class ChannelSetup(Protocol):
    """What roles need of a channel's settings."""

    @property
    def role(self) -> ChannelRole:
        """Where the channel sits."""

    @property
    def mode(self) -> ChannelMode:
        """What the channel measures."""


@dataclass(frozen=True, slots=True)
class Flows:
    """Watt-seconds over a stretch, by what they mean for the house.

    The remainder is signed: the circuits' CTs may together read a little more
    than the main's.
    """

    grid_consumption: int = 0
    grid_return: int = 0
    solar_production: int = 0
    unmetered: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Roles:
    """The channels by role; channels that are off have none."""

    main: str | None = None
    main_net: bool = False
    solar: tuple[tuple[str, bool], ...] = ()  # (channel, net-metered)
    circuits: tuple[tuple[str, bool], ...] = ()

    @classmethod
    def of(cls, channels: Mapping[str, ChannelSetup]) -> Roles:
        """The roles of the channels that are on; the first main is the main."""
        on = {
            channel: (setup.role, setup.mode is ChannelMode.NET)
            for channel, setup in channels.items()
            if setup.mode is not ChannelMode.OFF
        }
        mains = [
            channel for channel, (role, _) in on.items() if role is ChannelRole.MAIN
        ]
        main = mains[0] if mains else None
        return cls(
            main=main,
            main_net=main is not None and on[main][1],
            solar=tuple(
                (channel, net)
                for channel, (role, net) in on.items()
                if role is ChannelRole.SOLAR
            ),
            circuits=tuple(
                (channel, net)
                for channel, (role, net) in on.items()
                if role is ChannelRole.CIRCUIT
            ),
        )

    @property
    def has_grid(self) -> bool:
        """Whether a main measures the grid connection."""
        return self.main is not None

    @property
    def has_return(self) -> bool:
        """Whether the main is net-metered and so sees what goes back to the grid."""
        return self.main_net

    @property
    def has_solar(self) -> bool:
        """Whether any channel measures solar production."""
        return bool(self.solar)

    @property
    def has_remainder(self) -> bool:
        """Whether there is a main with circuits inside it."""
        return self.main is not None and bool(self.circuits)

    def flows(self, channels: Mapping[str, ChannelCounters]) -> Flows:
        """The watt-seconds of the channels' counters, by role."""
        if self.main is None:
            consumption = returned = 0
        else:
            main = channels[self.main]
            consumption = main.imported if self.main_net else main.absolute
            returned = main.polarized if self.main_net else 0
        solar = [channels[channel] for channel, _ in self.solar]
        produced = sum(
            counters.polarized if net else counters.absolute
            for counters, (_, net) in zip(solar, self.solar, strict=True)
        )
        # An inverter on a net-metered channel draws a little at night: its import.
        drawn = sum(
            counters.imported
            for counters, (_, net) in zip(solar, self.solar, strict=True)
            if net
        )
        circuits = sum(
            channels[channel].drawn(net=net) for channel, net in self.circuits
        )
        return Flows(
            grid_consumption=consumption,
            grid_return=returned,
            solar_production=produced,
            unmetered=consumption - returned + produced - drawn - circuits,
        )

    def as_dict(self) -> dict[str, Any]:
        """The roles, for the diagnostics."""
        return {
            "main": self.main,
            "main_net_metered": self.main_net,
            "solar": [channel for channel, _ in self.solar],
            "circuits": [channel for channel, _ in self.circuits],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RolePower:
    """Mean power by role over the same packet pairs, W to 0.1 W."""

    grid_consumption: float
    grid_return: float
    solar_production: float
    unmetered: float


def role_power(roles: Roles, interval: Interval) -> RolePower:
    """The mean power by role over the interval's packet pairs (at least one)."""
    flows = roles.flows(interval.channels)

    def watts(watt_seconds: int) -> float:
        """Watt-seconds over the interval, as a mean power."""
        return rounded(watt_seconds / interval.seconds, 1)

    return RolePower(
        grid_consumption=watts(flows.grid_consumption),
        grid_return=watts(flows.grid_return),
        solar_production=watts(flows.solar_production),
        unmetered=watts(flows.unmetered),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleReadings:
    """What the role sensors show: power of the interval (None without data), energy in kWh."""

    power: RolePower | None
    grid_consumption: float
    grid_return: float
    solar_production: float


def role_readings(
    roles: Roles, power: RolePower | None, totals: Interval
) -> RoleReadings:
    """The interval's power by role, with the ledger's totals by role."""
    flows = roles.flows(totals.channels)
    return RoleReadings(
        power=power,
        grid_consumption=to_kwh(flows.grid_consumption),
        grid_return=to_kwh(flows.grid_return),
        solar_production=to_kwh(flows.solar_production),
    )


def role_errors(channels: Mapping[str, ChannelSetup]) -> dict[str, str]:
    """An error on each channel whose role cannot be: a main or solar that is off, a second main."""
    errors: dict[str, str] = {}
    main_seen = False
    for channel, setup in channels.items():
        if setup.role is ChannelRole.CIRCUIT:
            continue
        if setup.mode is ChannelMode.OFF:
            errors[channel] = f"{setup.role}_off"
        elif setup.role is ChannelRole.MAIN:
            if main_seen:
                errors[channel] = "second_main"
            main_seen = True
    return errors


type EcmSensorEntityDescription = MainsMonitorSensorEntityDescription[EcmSnapshot]


def _power(key: str, read: Callable[[RolePower], float]) -> EcmSensorEntityDescription:
    """Describe a role's power in W, for the Energy dashboard's power statistics."""
    return MainsMonitorSensorEntityDescription(
        key=f"{key}_power",
        translation_key=f"{key}_power",
        device_class=SensorDeviceClass.POWER,
        native_unit_of_measurement=UnitOfPower.WATT,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda snapshot: (
            None if (power := snapshot.roles.power) is None else read(power)
        ),
    )


def _energy(
    key: str, read: Callable[[RoleReadings], float]
) -> EcmSensorEntityDescription:
    """Describe a role's energy total in kWh, for the Energy dashboard."""
    return MainsMonitorSensorEntityDescription(
        key=f"{key}_energy",
        translation_key=f"{key}_energy",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        state_class=SensorStateClass.TOTAL_INCREASING,
        suggested_display_precision=3,
        value_fn=lambda snapshot: read(snapshot.roles),
    )


def role_sensors(roles: Roles) -> list[EcmSensorEntityDescription]:
    """The sensors the roles make meaningful, and only those."""
    sensors: list[EcmSensorEntityDescription] = []
    if roles.has_grid:
        sensors += (
            _power("grid_consumption", lambda power: power.grid_consumption),
            _energy("grid_consumption", lambda readings: readings.grid_consumption),
        )
    if roles.has_return:
        sensors += (
            _power("return_to_grid", lambda power: power.grid_return),
            _energy("return_to_grid", lambda readings: readings.grid_return),
        )
    if roles.has_solar:
        sensors += (
            _power("solar_production", lambda power: power.solar_production),
            _energy("solar_production", lambda readings: readings.solar_production),
        )
    if roles.has_remainder:
        sensors.append(_power("unmetered", lambda power: power.unmetered))
    return sensors
