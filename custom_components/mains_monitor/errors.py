"""The integration's own errors."""

from __future__ import annotations

from enum import StrEnum


class FailureReason(StrEnum):
    """Why a port gave no data: a form error, an outage's repair issue, diagnostics."""

    UNKNOWN = "unknown"
    INVALID_PORT = "invalid_port"
    PORT_NOT_FOUND = "port_not_found"
    PERMISSION_DENIED = "permission_denied"
    CANNOT_CONNECT = "cannot_connect"
    CONNECTION_LOST = "connection_lost"
    NO_DATA = "no_data"
    WRONG_DEVICE = "wrong_device"
    NO_SIGNAL = "no_signal"
    PROXY_NOT_READY = "proxy_not_ready"


# Reasons whose advice differs by device kind: their translation keys end in the
# kind (`no_data_mfm`, `no_data_ecm1240`), in the flows and in the repairs alike.
KIND_SPECIFIC_REASONS = frozenset({FailureReason.NO_DATA})


def reason_key(reason: FailureReason, kind: str) -> str:
    """The translation key of a failure's `reason` for a device of `kind`."""
    return f"{reason}_{kind}" if reason in KIND_SPECIFIC_REASONS else reason


class MainsMonitorError(Exception):
    """Base of the integration's errors; `reason` names the translation key."""

    reason = FailureReason.UNKNOWN


class InvalidPortError(MainsMonitorError):
    """The path or URL cannot name a serial port."""

    reason = FailureReason.INVALID_PORT


class PortNotFoundError(MainsMonitorError):
    """No device exists at the path."""

    reason = FailureReason.PORT_NOT_FOUND


class PermissionDeniedError(MainsMonitorError):
    """The port exists but may not be opened by Home Assistant."""

    reason = FailureReason.PERMISSION_DENIED


class CannotConnectError(MainsMonitorError):
    """The port or network serial server refused or failed to open."""

    reason = FailureReason.CANNOT_CONNECT


class ConnectionLostError(MainsMonitorError):
    """The open port closed or failed while reading."""

    reason = FailureReason.CONNECTION_LOST


class NoDataError(MainsMonitorError):
    """The port stayed silent."""

    reason = FailureReason.NO_DATA


class WrongDeviceError(MainsMonitorError):
    """Bytes arrived, but none in the chosen device's format."""

    reason = FailureReason.WRONG_DEVICE


class NoSignalError(MainsMonitorError):
    """The board answers but reports no mains signal."""

    reason = FailureReason.NO_SIGNAL


class ProxyNotReadyError(MainsMonitorError):
    """The port is an ESPHome serial proxy, and ESPHome has not loaded yet."""

    reason = FailureReason.PROXY_NOT_READY
