"""The integration's own errors."""

from __future__ import annotations

# Reasons whose advice differs by device kind: their translation keys end in the
# kind (`no_data_mfm`, `no_data_ecm1240`), in the flows and in the repairs alike.
KIND_SPECIFIC_REASONS = frozenset({"no_data"})


def reason_key(reason: str, kind: str) -> str:
    """The translation key of a failure's `reason` for a device of `kind`."""
    return f"{reason}_{kind}" if reason in KIND_SPECIFIC_REASONS else reason


class MainsMonitorError(Exception):
    """Base of the integration's errors; `reason` is a translation key."""

    reason = "unknown"


class InvalidPortError(MainsMonitorError):
    """The path or URL cannot name a serial port."""

    reason = "invalid_port"


class PortNotFoundError(MainsMonitorError):
    """No device exists at the path."""

    reason = "port_not_found"


class PermissionDeniedError(MainsMonitorError):
    """The port exists but may not be opened by Home Assistant."""

    reason = "permission_denied"


class CannotConnectError(MainsMonitorError):
    """The port or network serial server refused or failed to open."""

    reason = "cannot_connect"


class ConnectionLostError(MainsMonitorError):
    """The open port closed or failed while reading."""

    reason = "connection_lost"


class NoDataError(MainsMonitorError):
    """The port stayed silent."""

    reason = "no_data"


class WrongDeviceError(MainsMonitorError):
    """Bytes arrived, but none in the chosen device's format."""

    reason = "wrong_device"


class NoSignalError(MainsMonitorError):
    """The board answers but reports no mains signal."""

    reason = "no_signal"


class ProxyNotReadyError(MainsMonitorError):
    """The port is an ESPHome serial proxy, and ESPHome has not loaded yet."""

    reason = "proxy_not_ready"
