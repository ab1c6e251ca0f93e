"""The ECM-1240 the integration's tests read: unit 5, serial 434, its entry, its simulation.

The simulated unit keeps pace with the test's clock: a `step` integrates one second
of load, writes the packet, waits until the entry has taken it, then lets the second
pass. The entry publishes every INTERVAL s from its set-up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import (
    CONF_DEVICE_ID,
    CONF_DEVICE_KIND,
    CONF_MODEL,
    CONF_POLL_INTERVAL,
    CONF_PORT,
    CONF_SILENCE_TIMEOUT,
    CONF_UPDATE_INTERVAL,
    DOMAIN,
    ConnectionState,
    DeviceKind,
)
from custom_components.mains_monitor.ecm_coordinator import EcmCoordinator
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from simulator.ecm1240 import EcmModel, EcmUnit, Loads
from simulator.links import PtyLink
from tests.helpers import (
    Clock,
    advance,
    parsed,
    same_entry,
    set_up_connected,
    settled,
    wait_for_connection,
)

ENTRY_ID = "01JMAINSMONITORECMENTRY001"
DEVICE_ID = "500434"
WS_PER_KWH = 3_600_000
INTERVAL = 5  # the entry's update interval, s
SILENCE = 60  # the entry's silence timeout, s


def ch1(watts: float) -> Loads:
    """A load on CH1 only."""
    return Loads(ch1_watts=watts)


def kwh(watt_seconds: float) -> str:
    """The state of an energy sensor that counted `watt_seconds`.

    Home Assistant writes a float state with 15 significant digits.
    """
    return f"{watt_seconds / WS_PER_KWH:.15}"


def new_unit(model: EcmModel = EcmModel.ECM_1240) -> EcmUnit:
    """Unit 5, serial 434, at 120 V with every counter at zero."""
    return EcmUnit(model=model, unit_id=5, serial=434, voltage=120.0)


def ecm_entry_for(
    port: str,
    model: str = EcmModel.ECM_1240,
    *,
    options: dict[str, Any] | None = None,
    entry_id: str | None = None,
    version: tuple[int, int] = (1, 1),
) -> MockConfigEntry:
    """An entry for unit 500434 of `model` on `port`, as the flow of `version` creates it.

    It is updated every INTERVAL s and the unit pushes its packets; `options` add to
    those or replace them (channel sections, a poll interval). Without `entry_id`,
    the entry gets a random one.
    """
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"{model} {DEVICE_ID}",
        unique_id=DEVICE_ID,
        version=version[0],
        minor_version=version[1],
        data={
            CONF_DEVICE_KIND: DeviceKind.ECM1240,
            CONF_PORT: port,
            CONF_DEVICE_ID: DEVICE_ID,
            CONF_MODEL: str(model),
        },
        options={
            CONF_UPDATE_INTERVAL: INTERVAL,
            CONF_SILENCE_TIMEOUT: SILENCE,
            CONF_POLL_INTERVAL: 0,
            **(options or {}),
        },
        entry_id=entry_id,
    )


class Simulation:
    """One simulated unit on the entry's pty, in step with the test's clock."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: MockConfigEntry,
        link: PtyLink,
        clock: Clock,
        unit: EcmUnit,
        platforms: list[Platform],
    ) -> None:
        """Tie the unit to the entry, its port and the clock."""
        self.hass = hass
        self.entry = entry
        self.link = link
        self.clock = clock
        self.unit = unit
        self._platforms = platforms
        self.prefix = "sensor." + entry.title.lower().replace("-", "_").replace(
            " ", "_"
        )

    @property
    def coordinator(self) -> EcmCoordinator:
        """The entry's coordinator (a new one after every set-up)."""
        return cast(EcmCoordinator, self.entry.runtime_data)

    async def set_up(self) -> None:
        """Set the entry up and wait until its port is open."""
        await set_up_connected(self.hass, self.entry, platforms=self._platforms)

    async def unload(self) -> None:
        """Unload the entry, as a reload or its removal does."""
        assert await self.hass.config_entries.async_unload(self.entry.entry_id)

    def restarted_in(self, hass: HomeAssistant) -> Simulation:
        """The same unit, port and entry in the Home Assistant started after this one."""
        entry = same_entry(self.entry)
        entry.add_to_hass(hass)
        return Simulation(
            hass, entry, self.link, self.clock, self.unit, self._platforms
        )

    @asynccontextmanager
    async def expecting(self, packets: int) -> AsyncIterator[None]:
        """Return from the block once the parser has accepted `packets` more packets."""
        parser = self.coordinator.parser
        target = parser.accepted + packets
        async with parsed(self.entry, lambda: parser.accepted >= target):
            yield

    async def send(self, data: bytes | None = None, packets: int = 1) -> None:
        """Write `data` (the unit's packet by default); wait until it was taken."""
        async with self.expecting(packets):
            self.link.write(self.unit.packet() if data is None else data)

    async def tick(self, seconds: int = 1) -> None:
        """Let whole seconds pass, one at a time, running whatever falls due."""
        for _ in range(seconds):
            await advance(self.hass, self.clock, 1)

    async def start(self) -> None:
        """The first packet: the baseline every later one is compared with."""
        await self.send()
        await self.tick()

    async def step(self, loads: Loads, voltage: float | None = None) -> None:
        """One second of `loads` (at `voltage`), its packet, and the second passing."""
        if voltage is not None:
            self.unit.voltage = voltage
        self.unit.advance(1, loads)
        await self.send()
        await self.tick()

    async def steps(self, loads: Loads, count: int) -> None:
        """`count` seconds of the same loads, a packet each."""
        for _ in range(count):
            await self.step(loads)

    async def idle(self, loads: Loads, seconds: int) -> None:
        """Seconds in which the unit counts but nothing reaches the entry."""
        for _ in range(seconds):
            self.unit.advance(1, loads)
            await self.tick()

    async def unplug(self, loads: Loads, seconds: int) -> int:
        """Unplug the port for at least `seconds` of `loads`; return how long it was out.

        The entities are unavailable meanwhile. The port is back and the clock in
        step with the update interval again when this returns.
        """
        self.link.close()
        await wait_for_connection(self.entry, ConnectionState.DISCONNECTED)
        assert self.state("ch1_power") == STATE_UNAVAILABLE
        assert self.state("ch1_energy") == STATE_UNAVAILABLE
        await self.idle(loads, seconds)
        self.link.open()
        # Time runs until one of the reader's retries starts, then stands while it
        # opens the port: opening takes real time, the open timeout is in loop time.
        while self.coordinator.connection_state is not ConnectionState.CONNECTED:
            if self.coordinator.connection_state is ConnectionState.CONNECTING:
                await self.settled()
            else:
                await self.idle(loads, 1)
                seconds += 1
        while self.clock.elapsed % INTERVAL:
            await self.idle(loads, 1)
            seconds += 1
        return seconds

    async def settled(self) -> None:
        """Return once the reader has opened the port or given up on it."""
        await settled(self.entry)

    def state(self, key: str) -> str:
        """The state of one of the unit's sensors, by its object id's suffix."""
        entity = self.hass.states.get(f"{self.prefix}_{key}")
        assert entity is not None, f"{self.prefix}_{key}"
        return entity.state
