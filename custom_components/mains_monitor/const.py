"""Constants shared across the Mains Monitor integration."""

from __future__ import annotations

from enum import StrEnum
import logging
from typing import Final

DOMAIN: Final = "mains_monitor"
LOGGER = logging.getLogger(__package__)

CONF_DEVICE_KIND: Final = "device_kind"
CONF_PORT: Final = "port"
CONF_LINE_FORMAT: Final = "line_format"
CONF_UPDATE_INTERVAL: Final = "update_interval"
CONF_NOMINAL_FREQUENCY: Final = "nominal_frequency"
CONF_NOMINAL_VOLTAGE: Final = "nominal_voltage"
CONF_CALIBRATION_OFFSET: Final = "calibration_offset"
CONF_SILENCE_TIMEOUT: Final = "silence_timeout"
CONF_DEVICE_ID: Final = "device_id"
CONF_MODEL: Final = "model"
CONF_FIRMWARE: Final = "firmware"
CONF_POLL_INTERVAL: Final = "poll_interval"
CONF_NAME: Final = "name"
CONF_MODE: Final = "mode"
CONF_INVERTED: Final = "inverted"
CONF_ROLE: Final = "role"
CONF_ECM_MODE: Final = "ecm_mode"
CONF_READ_SETTINGS: Final = "read_settings"
CONF_ROCOF_THRESHOLD: Final = "rocof_threshold"
CONF_STEP_THRESHOLD: Final = "step_threshold"
CONF_OSCILLATION_THRESHOLD: Final = "oscillation_threshold"
CONF_MQTT: Final = "mqtt"
CONF_PUBLISH: Final = "publish"
CONF_TOPIC_PREFIX: Final = "topic_prefix"
ECM_MODE_POLL: Final = "poll"
ECM_MODE_REALTIME: Final = "realtime"

# Both devices talk 19200 baud, 8N1, no flow control.
BAUDRATE: Final = 19200

# Five seconds keeps the recorder small while still showing a dip as it happens.
DEFAULT_UPDATE_INTERVAL: Final = 5
# The board sends 3-7 lines a second; 30 s of nothing is an outage, not jitter.
DEFAULT_SILENCE_TIMEOUT: Final = 30
# An ECM unit sends every 1-255 s; a minute without a packet is an outage.
DEFAULT_ECM_SILENCE_TIMEOUT: Final = 60
NOMINAL_AUTO: Final = "auto"
# A unit in polling mode is asked this often unless the user chose otherwise.
DEFAULT_POLL_INTERVAL: Final = 10


class DeviceKind(StrEnum):
    """The kinds of device the integration reads."""

    MFM = "mfm"
    ECM1240 = "ecm1240"


class ChannelMode(StrEnum):
    """What an ECM channel measures."""

    CONSUMPTION = "consumption"
    NET = "net"  # net-metered: imports and exports
    OFF = "off"


class ChannelRole(StrEnum):
    """Where an ECM channel sits in the house's wiring."""

    MAIN = "main"  # the grid connection
    SOLAR = "solar"  # an inverter's output
    CIRCUIT = "circuit"  # a circuit inside the main


class ConnectionState(StrEnum):
    """Where the reader is with its port."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
