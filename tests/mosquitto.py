"""A real Mosquitto broker (Debian's package) on a loopback port, and a subscriber to it.

The broker keeps nothing on disk and accepts anonymous clients on 127.0.0.1 only.
`Subscriber` is a plain paho client in its own thread: it sees what a Telegraf, Node-RED
or openHAB consumer of the broker would see, independent of Home Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass
import threading
import time

from paho.mqtt.client import Client, MQTTMessage
from paho.mqtt.enums import CallbackAPIVersion

from tests.daemon import Daemon, find_program

MOSQUITTO = find_program("mosquitto")


def _real_monotonic() -> float:
    """The kernel's monotonic clock, which freezegun does not replace."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class Mosquitto(Daemon):
    """One mosquitto process listening on 127.0.0.1:`port`."""

    program = "mosquitto"

    def arguments(self) -> list[str]:
        """Its configuration file, written into `directory`."""
        config = self.directory / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            # As root it would switch to the mosquitto user, which may not read the folder.
            "user root\n"
            "log_dest stdout\n",
            encoding="utf-8",
        )
        return ["-c", str(config)]


@dataclass(frozen=True, slots=True)
class Received:
    """One message as the subscriber got it."""

    topic: str
    payload: bytes
    qos: int
    retain: bool


class Subscriber:
    """A paho client subscribed to `topic` (wildcards allowed), collecting every message."""

    def __init__(self, port: int, topic: str) -> None:
        """Connect and subscribe; return once the broker acknowledged the subscription."""
        self.messages: list[Received] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self._client = Client(CallbackAPIVersion.VERSION2)
        self._client.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.loop_start()
        if not self._subscribed.wait(30):
            self.close()
            msg = f"no subscription to {topic} on port {port}"
            raise TimeoutError(msg)

    def _on_message(
        self, _client: Client, _userdata: object, message: MQTTMessage
    ) -> None:
        """Keep the message and wake whoever waits for it."""
        with self._changed:
            self.messages.append(
                Received(message.topic, message.payload, message.qos, message.retain)
            )
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        """Block until `count` messages arrived (call it in the executor); fail after `timeout`.

        The timeout is real time, also while a test has frozen the clock.
        """
        deadline = _real_monotonic() + timeout
        with self._changed:
            while len(self.messages) < count:
                left = deadline - _real_monotonic()
                if left <= 0:
                    msg = f"{len(self.messages)} of {count} messages: {self.messages!r}"
                    raise TimeoutError(msg)
                self._changed.wait(left)
            return list(self.messages)

    def close(self) -> None:
        """Disconnect and end the client's thread."""
        self._client.disconnect()
        self._client.loop_stop()
