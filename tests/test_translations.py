"""The translations: German matches English, and English names everything the code uses."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
import json
from pathlib import Path
import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.mains_monitor.const import (
    CONF_DEVICE_KIND,
    CONF_MQTT,
    CONF_PORT,
    DOMAIN,
    ConnectionState,
    DeviceKind,
)
from custom_components.mains_monitor.disturbance import Disturbance, DisturbanceKind
from custom_components.mains_monitor.errors import (
    FailureReason,
    MainsMonitorError,
    reason_key,
)
from custom_components.mains_monitor.frequency import FrequencyBand
from custom_components.mains_monitor.kinds import KINDS
from custom_components.mains_monitor.kinds.mfm import (
    ALARMS,
    OPTIONS_SCHEMA,
    RESET_GRID_TIME,
    SENSORS,
    disturbance_attributes,
)
from custom_components.mains_monitor.repairs import (
    OUTAGE_REASONS,
    outage_translation_key,
)
from homeassistant.helpers.entity import EntityDescription
from homeassistant.helpers.selector import SelectSelector

PACKAGE = Path(__file__).parent.parent / "custom_components" / "mains_monitor"
LANGUAGES = ("en", "de")
PLACEHOLDER = re.compile(r"\{(\w+)\}")

ENTITIES: tuple[tuple[str, EntityDescription], ...] = (
    *(("sensor", description) for description in SENSORS),
    *(("binary_sensor", description) for description in ALARMS),
    ("button", RESET_GRID_TIME),
)


# These tests read files and need no Home Assistant.
pytestmark = pytest.mark.without_hass


@cache
def translations(language: str) -> dict[str, Any]:
    """One language's strings, as parsed from its file."""
    text = (PACKAGE / "translations" / f"{language}.json").read_text(encoding="utf-8")
    strings: dict[str, Any] = json.loads(text)
    return strings


def leaves(tree: dict[str, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    """Every value that is not a dictionary, with its dotted path."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from leaves(value, f"{path}{key}.")
        else:
            yield f"{path}{key}", value


def flat(language: str) -> dict[str, Any]:
    """One language's strings by dotted path."""
    return dict(leaves(translations(language)))


def placeholders(text: str) -> set[str]:
    """The names of the `{placeholders}` in a string."""
    return set(PLACEHOLDER.findall(text))


def error_classes() -> Iterator[type[MainsMonitorError]]:
    """Every subclass of the integration's base error, however deep."""
    pending = list(MainsMonitorError.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        yield cls


def select_selectors() -> Iterator[tuple[str, SelectSelector]]:
    """The options form's select fields, by field name."""
    for field, selector in OPTIONS_SCHEMA.schema.items():
        if isinstance(selector, SelectSelector):
            yield str(field), selector


@pytest.mark.parametrize("language", LANGUAGES)
def test_file_is_two_space_indented_utf8_json(language: str) -> None:
    """Each file is exactly its parsed content written back with a 2-space indent."""
    path = PACKAGE / "translations" / f"{language}.json"
    written = json.dumps(translations(language), indent=2, ensure_ascii=False) + "\n"
    assert path.read_bytes() == written.encode()


def test_german_has_the_same_keys_as_english() -> None:
    """No string is missing from German and none is left over."""
    english, german = flat("en"), flat("de")
    assert sorted(english.keys() - german.keys()) == []
    assert sorted(german.keys() - english.keys()) == []


def test_german_keeps_every_placeholder() -> None:
    """Each German string carries exactly its English string's placeholders."""
    german = flat("de")
    mismatched = {
        path: (placeholders(text), placeholders(german[path]))
        for path, text in flat("en").items()
        if path in german and placeholders(text) != placeholders(german[path])
    }
    assert mismatched == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_non_empty_and_trimmed(language: str) -> None:
    """Strings hold text, without surrounding white space."""
    bad = [
        path
        for path, text in flat(language).items()
        if not isinstance(text, str) or not text or text != text.strip()
    ]
    assert bad == []


@pytest.mark.parametrize(
    ("platform", "description"),
    ENTITIES,
    ids=[f"{platform}.{description.key}" for platform, description in ENTITIES],
)
def test_every_entity_has_a_name(platform: str, description: EntityDescription) -> None:
    """Each entity's translation key names it, with the placeholders it fills in."""
    assert description.translation_key is not None
    name = translations("en")["entity"][platform][description.translation_key]["name"]
    given = description.translation_placeholders or {}
    assert placeholders(name) == set(given)


def test_alarm_names_are_told_their_threshold() -> None:
    """The four threshold alarms fill in 70, 100, 200 and 1000 mHz."""
    thresholds = [
        (description.translation_placeholders or {}).get("threshold")
        for description in ALARMS
        if description.translation_key == "alarm_threshold"
    ]
    assert thresholds == ["70", "100", "200", "1000"]


def test_every_error_the_flow_can_show_is_translated() -> None:
    """Each of the integration's errors has its `reason` among the form errors."""
    reasons = {cls.reason for cls in error_classes()}
    assert reasons == {
        "invalid_port",
        "port_not_found",
        "permission_denied",
        "cannot_connect",
        "connection_lost",
        "no_data",
        "wrong_device",
        "no_signal",
        "proxy_not_ready",
    }
    keys = {reason_key(reason, kind) for reason in reasons for kind in DeviceKind}
    assert sorted(keys - translations("en")["config"]["error"].keys()) == []


def test_no_data_is_worded_for_each_device_kind() -> None:
    """The board's no-data error talks of the board, the energy monitor's of the unit."""
    errors = translations("en")["config"]["error"]
    assert "no_data" not in errors
    assert "the board's TX" in errors["no_data_mfm"]
    assert "board" not in errors["no_data_ecm1240"]
    assert "energy monitor" in errors["no_data_ecm1240"]


def test_every_outage_issue_is_translated() -> None:
    """Each reason, device kind and kind of port names an issue with a title and a text."""
    issues = translations("en")["issues"]
    keys = {
        outage_translation_key(entry(kind, port), reason)
        for reason in OUTAGE_REASONS
        for kind in DeviceKind
        for port in ("/dev/ttyUSB0", "socket://192.0.2.10:2000")
    }
    assert "outage_cannot_connect_network" in keys
    assert sorted(keys - issues.keys()) == []
    for key in keys:
        assert set(issues[key]) == {"title", "description"}, key


def test_a_network_server_that_has_gone_is_worded_for_the_network() -> None:
    """A socket:// or rfc2217:// port that refuses is no file that "exists"."""
    issues = translations("en")["issues"]
    for url in ("socket://192.0.2.10:2000", "rfc2217://192.0.2.10:2217"):
        key = outage_translation_key(
            entry(DeviceKind.ECM1240, url), FailureReason.CANNOT_CONNECT
        )
        assert key == "outage_cannot_connect_network"
    assert "exists" not in issues["outage_cannot_connect_network"]["description"]
    assert "network serial server" in issues["outage_cannot_connect_network"]["title"]
    assert "exists" in issues["outage_cannot_connect"]["description"]


def entry(kind: DeviceKind, port: str) -> MockConfigEntry:
    """An entry of `kind` on `port`, never added to Home Assistant."""
    return MockConfigEntry(
        domain=DOMAIN, data={CONF_DEVICE_KIND: kind, CONF_PORT: port}
    )


@pytest.mark.parametrize(
    ("translation_key", "states"),
    [("band", FrequencyBand), ("connection_state", ConnectionState)],
)
def test_every_enum_state_is_translated(
    translation_key: str, states: type[FrequencyBand | ConnectionState]
) -> None:
    """An enum sensor's translated states are exactly its enum's values."""
    translated = translations("en")["entity"]["sensor"][translation_key]["state"]
    assert set(translated) == {state.value for state in states}


def test_enum_sensors_offer_only_translated_states() -> None:
    """Every option an enum sensor declares has a translated state."""
    sensors = translations("en")["entity"]["sensor"]
    for description in SENSORS:
        if description.options is not None:
            assert description.translation_key is not None
            translated = sensors[description.translation_key]["state"]
            assert set(description.options) == set(translated), description.key


def test_device_kinds_are_translated() -> None:
    """The set-up form's device choice names every device kind."""
    options = translations("en")["selector"][CONF_DEVICE_KIND]["options"]
    assert set(options) == {kind.value for kind in DeviceKind}


def test_options_form_choices_are_translated() -> None:
    """Each select field of the options form has every choice translated."""
    selectors = translations("en")["selector"]
    fields = {
        field: (selector.config["translation_key"], list(selector.config["options"]))
        for field, selector in select_selectors()
    }
    assert fields == {"nominal_frequency": ("nominal_frequency", ["auto", "50", "60"])}
    for translation_key, options in fields.values():
        assert set(selectors[translation_key]["options"]) == set(options)


def test_every_options_field_is_labelled_and_described() -> None:
    """Each field of the options form has a label and a description."""
    step = translations("en")["options"]["step"]["settings"]
    fields = {str(field) for field in OPTIONS_SCHEMA.schema}
    assert sorted(fields - step["data"].keys()) == []
    assert sorted(fields - step["data_description"].keys()) == []


@pytest.mark.parametrize(
    "kind", list(KINDS.values()), ids=[str(kind) for kind in KINDS]
)
def test_the_mqtt_section_is_titled_described_and_labelled(kind: Any) -> None:
    """Each options form's MQTT section has a title, a text and its fields' labels."""
    texts = translations("en")["options"]["step"][kind.options_step_id]["sections"]
    (fields,) = kind.mqtt_section({}, {}).values()
    names = {str(field) for field in fields.schema.schema}
    assert set(texts[CONF_MQTT]) == {"name", "description", "data", "data_description"}
    assert set(texts[CONF_MQTT]["data"]) == names
    assert set(texts[CONF_MQTT]["data_description"]) == names
    assert "MQTT integration" in texts[CONF_MQTT]["description"]
    errors = translations("en")["options"]["error"]
    assert {"mqtt_not_set_up", "invalid_topic_prefix"} <= errors.keys()


@pytest.mark.parametrize("section", ["config", "options"])
def test_every_labelled_field_is_described(section: str) -> None:
    """In every form step, the labelled fields and the described fields are the same."""
    for step_id, step in translations("en")[section]["step"].items():
        assert set(step.get("data", {})) == set(step.get("data_description", {})), (
            step_id
        )


def test_icons_refer_to_translated_entities() -> None:
    """Every icon belongs to a translated entity, and every sensor state icon to a state."""
    icons: dict[str, Any] = json.loads(
        (PACKAGE / "icons.json").read_text(encoding="utf-8")
    )
    entities = translations("en")["entity"]
    for platform, keys in icons["entity"].items():
        assert sorted(keys.keys() - entities[platform].keys()) == [], platform
    for key, icon in icons["entity"]["sensor"].items():
        states = entities["sensor"][key].get("state", {})
        assert sorted(icon.get("state", {}).keys() - states.keys()) == [], key


def test_every_disturbance_attribute_is_named() -> None:
    """Each attribute of a disturbance event has a name; its kinds read like its type."""
    attributes = disturbance_attributes(
        Disturbance(
            kinds=(DisturbanceKind.STEP,),
            start=0.0,
            end=1.0,
            peak_deviation=-80.0,
            peak_rocof=-50.0,
            oscillation_frequency=None,
            oscillation_amplitude=None,
            csv="",
        )
    )
    for language in LANGUAGES:
        named = translations(language)["entity"]["event"]["disturbance"][
            "state_attributes"
        ]
        assert set(named) == {"event_type", *attributes}
        assert all(named[key]["name"] for key in attributes)
        assert named["kinds"]["state"] == named["event_type"]["state"]
        assert set(named["kinds"]["state"]) == {kind.value for kind in DisturbanceKind}


# The calibration's refusals (calibration.py) and the placeholders their texts use.
CALIBRATION_ERRORS = {
    "count_unknown": {"minimum"},
    "period_too_short": {"counted_for", "minimum"},
    "count_has_gaps": {"missed"},
    "too_few_readings": {"seconds", "period"},
    "offset_out_of_range": {"offset"},
}


def test_every_calibration_refusal_is_translated() -> None:
    """Each refusal of a calibration has a form error that shows its figures."""
    errors = translations("en")["options"]["error"]
    assert {
        key: placeholders(errors[key]) for key in CALIBRATION_ERRORS
    } == CALIBRATION_ERRORS
