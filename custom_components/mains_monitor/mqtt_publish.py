"""Publishing each update through Home Assistant's MQTT integration, as the old bridges did.

A device kind builds its payloads (`DeviceKindDefinition.mqtt_payloads`); this module
decides when to publish them and keeps the availability topic current. It never
connects to a broker itself: Home Assistant's MQTT integration does, and that is
imported only once it is loaded, as it is optional and heavy to load.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
import unicodedata

from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import CALLBACK_TYPE, Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError

from .const import CONF_MQTT, CONF_PUBLISH, CONF_TOPIC_PREFIX, DOMAIN, LOGGER

if TYPE_CHECKING:
    from .coordinator import MainsMonitorConfigEntry
    from .kinds.base import DeviceKindDefinition

MQTT_DOMAIN: Final = "mqtt"
ONLINE: Final = "online"
OFFLINE: Final = "offline"
AVAILABILITY_SUFFIX: Final = "/availability"
# As the old bridges: a reading lost on the way is replaced by the next one.
DATA_QOS: Final = 0
# Retained, so a consumer that connects later learns it at once; republished
# after every reconnection, as a restarted broker may have lost it.
AVAILABILITY_QOS: Final = 0
# MQTT's limit on a topic name in bytes, less what the availability topic adds.
MAX_PREFIX_BYTES: Final = 65535 - len(AVAILABILITY_SUFFIX)
# Control characters and lone surrogates: no broker takes them in a topic.
_FORBIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cs"})


def valid_topic_prefix(prefix: str) -> bool:
    """Whether topics can start with `prefix`: levels, none empty, no wildcard, no $ topic."""
    return (
        0 < len(prefix.encode("utf-8", "surrogatepass")) <= MAX_PREFIX_BYTES
        and not prefix.startswith("$")
        and "+" not in prefix
        and "#" not in prefix
        and all(prefix.split("/"))
        and not any(
            unicodedata.category(char) in _FORBIDDEN_CATEGORIES for char in prefix
        )
    )


def mqtt_set_up(hass: HomeAssistant) -> bool:
    """Whether the user set Home Assistant's MQTT integration up (connected or not)."""
    return hass.config_entries.async_has_entries(
        MQTT_DOMAIN, include_ignore=False, include_disabled=False
    )


def mqtt_options_error(hass: HomeAssistant, options: Mapping[str, Any]) -> str | None:
    """What is wrong with the publishing options: the topic prefix, or MQTT not set up."""
    prefix = options.get(CONF_TOPIC_PREFIX)
    if prefix is not None and not valid_topic_prefix(prefix):
        return "invalid_topic_prefix"
    if options.get(CONF_PUBLISH) and not mqtt_set_up(hass):
        return "mqtt_not_set_up"
    return None


def publishing(entry: MainsMonitorConfigEntry, default_prefix: str) -> tuple[bool, str]:
    """Whether the entry publishes to MQTT, and under which topic prefix."""
    options: Mapping[str, Any] = entry.options.get(CONF_MQTT, {})
    return bool(options.get(CONF_PUBLISH)), options.get(
        CONF_TOPIC_PREFIX, default_prefix
    )


def _broker_connected(hass: HomeAssistant) -> bool:
    """Whether Home Assistant's MQTT integration is loaded and connected to its broker."""
    if not hass.config_entries.async_loaded_entries(MQTT_DOMAIN):
        return False
    # Loaded, so already imported: this import reads no file.
    from homeassistant.components import mqtt  # noqa: PLC0415

    return mqtt.is_connected(hass)


@callback
def async_start_publishing(
    hass: HomeAssistant,
    entry: MainsMonitorConfigEntry,
    kind: DeviceKindDefinition[Any, Any],
) -> None:
    """Publish the entry's updates to MQTT until it unloads, if its options ask for it."""
    enabled, prefix = publishing(entry, kind.mqtt_topic)
    if not enabled:
        return
    publisher = MqttPublisher(hass, entry, kind, prefix)
    entry.runtime_data.publisher = publisher
    publisher.async_start()
    entry.async_on_unload(publisher.async_stop)


class MqttPublisher:
    """Publishes an entry's snapshots and availability through Home Assistant's MQTT.

    Each snapshot of an available device that brought measurements is published
    once, in its kind's payloads, on the prefix itself; `<prefix>/availability`
    says `online` or `offline`, retained. While the broker cannot be reached
    nothing is sent or queued, which costs one log line at debug level each way;
    once it is back, the availability is published again, then the next snapshot.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        entry: MainsMonitorConfigEntry,
        kind: DeviceKindDefinition[Any, Any],
        prefix: str,
    ) -> None:
        """Publish the entry's updates under `prefix`; nothing before `async_start`."""
        self.prefix = prefix
        self.published = 0  # messages the MQTT integration took
        self._hass = hass
        self._entry = entry
        self._kind = kind
        self._availability_topic = prefix + AVAILABILITY_SUFFIX
        self._connected: bool | None = None
        # What the broker holds on the availability topic, as far as we know.
        self._shown: str | None = None
        self._published_time: datetime | None = None
        self._unsubscribe: list[CALLBACK_TYPE] = []

    @property
    def connected(self) -> bool:
        """Whether the broker could be reached at the last update."""
        return bool(self._connected)

    @callback
    def async_start(self) -> None:
        """Follow the coordinator; publish the availability it has now."""
        self._unsubscribe = [
            self._kind.coordinator_of(self._entry).async_add_listener(
                self._async_update
            ),
            self._hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, self._async_ha_stop),
        ]
        self._async_update()

    @callback
    def async_stop(self) -> None:
        """Stop following the coordinator (the entry unloads): the device is offline."""
        self._async_stop_following()
        if self._broker_ready():
            self._async_show(OFFLINE)

    async def _async_ha_stop(self, _event: Event) -> None:
        """Say the device is offline as Home Assistant stops: it unloads no entry."""
        self._async_stop_following()
        if self._broker_ready() and self._shown != OFFLINE:
            await self._async_send(
                self._availability_topic, OFFLINE, qos=AVAILABILITY_QOS, retain=True
            )

    @callback
    def _async_stop_following(self) -> None:
        """Hear no more of the coordinator or of Home Assistant stopping."""
        while self._unsubscribe:
            self._unsubscribe.pop()()

    @callback
    def _async_update(self) -> None:
        """Publish what changed: the availability, then a new snapshot's payloads."""
        if not self._broker_ready():
            return
        coordinator = self._kind.coordinator_of(self._entry)
        available = coordinator.last_update_success
        self._async_show(ONLINE if available else OFFLINE)
        snapshot = coordinator.data
        if (
            available
            and snapshot is not None
            and snapshot.fresh
            and snapshot.time != self._published_time
        ):
            self._published_time = snapshot.time
            for payload in self._kind.mqtt_payloads(coordinator):
                self._async_publish(self.prefix, payload, qos=DATA_QOS, retain=False)

    def _broker_ready(self) -> bool:
        """Whether the broker can be reached; note it once each time that changes."""
        connected = _broker_connected(self._hass)
        if connected != self._connected:
            self._connected = connected
            # Whatever the broker held may be gone with it.
            self._shown = None
            LOGGER.debug(
                "%s: %s",
                self._entry.title,
                f"publishing to MQTT under {self.prefix}"
                if connected
                else "not publishing to MQTT until its broker is connected",
            )
        return connected

    @callback
    def _async_show(self, availability: str) -> None:
        """Publish the availability if the broker may hold another."""
        if availability == self._shown:
            return
        self._shown = availability
        self._async_publish(
            self._availability_topic, availability, qos=AVAILABILITY_QOS, retain=True
        )

    @callback
    def _async_publish(
        self, topic: str, payload: str, *, qos: int, retain: bool
    ) -> None:
        """Hand one message to the MQTT integration; never wait for the broker here.

        The task starts at once and queues the message before it first waits, so
        messages leave in the order they are published.
        """
        self._hass.async_create_background_task(
            self._async_send(topic, payload, qos=qos, retain=retain),
            f"{DOMAIN} MQTT {topic}",
        )

    async def _async_send(
        self, topic: str, payload: str, *, qos: int, retain: bool
    ) -> None:
        """Publish one message; a broker that went away meanwhile is noted at debug level."""
        from homeassistant.components import mqtt  # noqa: PLC0415

        try:
            await mqtt.async_publish(self._hass, topic, payload, qos=qos, retain=retain)
        except HomeAssistantError as err:
            LOGGER.debug("%s: not published to %s: %s", self._entry.title, topic, err)
            return
        self.published += 1
