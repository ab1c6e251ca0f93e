"""Repair issues: faults that outlast a retry or two, told once, cleared when they end."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir

from .const import CONF_DEVICE_KIND, CONF_PORT, DOMAIN
from .errors import FailureReason, reason_key
from .port_session import redacted

# A re-plugged adapter or a restarting ser2net is back within seconds; a fault
# that lasts a minute needs the user.
OUTAGE_ISSUE_DELAY = 60.0

# Every outage has one of these; a reason beyond them is told as silence.
OUTAGE_REASONS = frozenset(
    {
        FailureReason.INVALID_PORT,
        FailureReason.PORT_NOT_FOUND,
        FailureReason.PERMISSION_DENIED,
        FailureReason.CANNOT_CONNECT,
        FailureReason.CONNECTION_LOST,
        FailureReason.NO_DATA,
        FailureReason.NO_SIGNAL,
        FailureReason.WRONG_DEVICE,
    }
)


def outage_issue_id(entry: ConfigEntry) -> str:
    """The issue of an entry's ongoing outage."""
    return f"outage_{entry.entry_id}"


def foreign_issue_id(entry: ConfigEntry) -> str:
    """The issue that says another unit shares the entry's port."""
    return f"foreign_device_{entry.entry_id}"


def outage_translation_key(entry: ConfigEntry, reason: FailureReason) -> str:
    """The issue's translation key: by reason, device kind and kind of port."""
    if reason not in OUTAGE_REASONS:
        reason = FailureReason.NO_DATA
    if reason is FailureReason.CANNOT_CONNECT and "://" in entry.data[CONF_PORT]:
        return "outage_cannot_connect_network"  # a network serial server, not a file
    return f"outage_{reason_key(reason, entry.data[CONF_DEVICE_KIND])}"


@callback
def async_raise_outage(
    hass: HomeAssistant, entry: ConfigEntry, reason: FailureReason
) -> None:
    """Tell the user what keeps the device unavailable and what to check."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        outage_issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.ERROR,
        translation_key=outage_translation_key(entry, reason),
        translation_placeholders={
            "title": entry.title,
            "port": redacted(entry.data[CONF_PORT]),
        },
    )


@callback
def async_raise_foreign(
    hass: HomeAssistant, entry: ConfigEntry, expected: str, found: str
) -> None:
    """Tell the user that another unit's packets arrive on the entry's port."""
    ir.async_create_issue(
        hass,
        DOMAIN,
        foreign_issue_id(entry),
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="foreign_device",
        translation_placeholders={
            "title": entry.title,
            "expected": expected,
            "found": found,
        },
    )


@callback
def async_clear(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Remove every issue of an entry."""
    ir.async_delete_issue(hass, DOMAIN, outage_issue_id(entry))
    ir.async_delete_issue(hass, DOMAIN, foreign_issue_id(entry))
