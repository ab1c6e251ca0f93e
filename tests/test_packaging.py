"""What hassfest and the HACS action check when the repository is published, checked locally.

The GitHub workflow (.github/workflows/validate.yml) runs both for real; these tests catch the
same mistakes before a push: the manifest's keys, their order and values, the components the
code imports, hacs.json, where the brand images lie, the rules hassfest applies to every
translated string, every translation key the code names, and quality_scale.yaml. The brand
images themselves are tests/test_brand.py's; the two languages' agreement and the entity
names are tests/test_translations.py's.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from importlib.metadata import version
import json
from pathlib import Path
import re
import string
from typing import Any
from urllib.parse import urlparse

from awesomeversion import AwesomeVersion, AwesomeVersionStrategy
import pytest

from custom_components.mains_monitor import const
from custom_components.mains_monitor.validation import vol
import homeassistant
from homeassistant.const import Platform
import homeassistant.helpers.config_validation as cv
from homeassistant.util.yaml import load_yaml_dict
from tests.test_requirements import PLUGIN, pinned
from tests.test_translations import LANGUAGES, PACKAGE, leaves, translations

ROOT = Path(__file__).parent.parent
MANIFEST = PACKAGE / "manifest.json"
HACS_JSON = ROOT / "hacs.json"
OLDEST_REQUIREMENTS = ROOT / "requirements_test_oldest.txt"
WORKFLOW = ROOT / ".github" / "workflows" / "validate.yml"
BUILT_IN = Path(homeassistant.__file__).parent / "components"

# The keys hassfest's manifest schema takes from a custom integration.
MANIFEST_KEYS = {
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "disabled",
    "documentation",
    "domain",
    "homekit",
    "import_executor",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "mqtt",
    "name",
    "quality_scale",
    "requirements",
    "single_config_entry",
    "ssdp",
    "usb",
    "version",
    "zeroconf",
}
# Required by hassfest (domain, name, documentation, codeowners; iot_class for a device
# integration; version for a custom one) and by HACS (issue_tracker, version).
REQUIRED_MANIFEST_KEYS = {
    "codeowners",
    "documentation",
    "domain",
    "iot_class",
    "issue_tracker",
    "name",
    "version",
}
INTEGRATION_TYPES = {
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
}
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
# The version schemes Home Assistant's loader accepts for a custom integration's version.
VERSION_STRATEGIES = [
    AwesomeVersionStrategy.CALVER,
    AwesomeVersionStrategy.SEMVER,
    AwesomeVersionStrategy.SIMPLEVER,
    AwesomeVersionStrategy.BUILDVER,
    AwesomeVersionStrategy.PEP440,
]
# hacs.json: the keys HACS accepts (it refuses any other) and the type of each.
HACS_KEYS: dict[str, type] = {
    "content_in_root": bool,
    "country": str,
    "filename": str,
    "hacs": str,
    "hide_default_branch": bool,
    "homeassistant": str,
    "name": str,
    "persistent_directory": str,
    "render_readme": bool,
    "zip_release": bool,
}
# The sections of a translation file Home Assistant reads for an integration.
TRANSLATION_SECTIONS = {
    "common",
    "config",
    "config_subentries",
    "device",
    "device_automation",
    "entity",
    "entity_component",
    "exceptions",
    "issues",
    "options",
    "selector",
    "services",
    "system_health",
    "title",
}
STEP_KEYS = {
    "data",
    "data_description",
    "description",
    "menu_option_descriptions",
    "menu_options",
    "sections",
    "submit",
    "title",
}
SECTION_KEYS = {"data", "data_description", "description", "name"}
# hassfest's rules for a translation key: lowercase letters, digits, - and _, not at either
# end and never two in a row; for a translated string: no HTML, no URL (a placeholder
# carries it), no placeholder in single quotes, and no reference (Home Assistant resolves
# `[%key:…%]` for its own integrations only).
TRANSLATION_KEY = re.compile(r"^(?!.*[_-]{2})(?![_-])[a-z0-9_-]+(?<![_-])$")
URL = re.compile(
    r"((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5)://|www\.)"
    r"[a-z0-9]+([-.][a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(/.*)?",
    re.IGNORECASE,
)
QUOTED_PLACEHOLDER = re.compile(r"'\{\w+\}'")
REFERENCE = "[%key:"
# Every rule of Home Assistant's integration quality scale, Bronze to Platinum.
QUALITY_SCALE_RULES = {
    "action-exceptions",
    "action-setup",
    "appropriate-polling",
    "async-dependency",
    "brands",
    "common-modules",
    "config-entry-unloading",
    "config-flow",
    "config-flow-test-coverage",
    "dependency-transparency",
    "devices",
    "diagnostics",
    "discovery",
    "discovery-update-info",
    "docs-actions",
    "docs-configuration-parameters",
    "docs-data-update",
    "docs-examples",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-installation-parameters",
    "docs-known-limitations",
    "docs-removal-instructions",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-event-setup",
    "entity-translations",
    "entity-unavailable",
    "entity-unique-id",
    "exception-translations",
    "has-entity-name",
    "icon-translations",
    "inject-websession",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "reconfiguration-flow",
    "repair-issues",
    "runtime-data",
    "stale-devices",
    "strict-typing",
    "test-before-configure",
    "test-before-setup",
    "test-coverage",
    "unique-config-entry",
}
RULE_STATUSES = {"done", "exempt", "todo"}


# These tests read files and need no Home Assistant.
pytestmark = pytest.mark.without_hass


@cache
def manifest() -> dict[str, Any]:
    """The integration's manifest.json, keys in file order."""
    data: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return data


@cache
def hacs() -> dict[str, Any]:
    """The repository's hacs.json."""
    data: dict[str, Any] = json.loads(HACS_JSON.read_text(encoding="utf-8"))
    return data


def is_https_url(value: object) -> bool:
    """Whether a value is an https:// URL with a host."""
    if not isinstance(value, str):
        return False
    parts = urlparse(value)
    return parts.scheme == "https" and bool(parts.netloc)


def test_manifest_keys_are_domain_name_then_alphabetical() -> None:
    """The order hassfest asks for: domain, name, then every other key sorted."""
    keys = list(manifest())
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_has_only_known_keys_and_every_required_one() -> None:
    """Nothing hassfest's schema refuses; everything hassfest and HACS require."""
    keys = set(manifest())
    assert sorted(keys - MANIFEST_KEYS) == []
    assert sorted(REQUIRED_MANIFEST_KEYS - keys) == []


def test_manifest_domain_is_the_folder_and_no_built_in_one() -> None:
    """The folder is named after the domain, which no integration of Home Assistant uses."""
    assert manifest()["domain"] == PACKAGE.name == const.DOMAIN
    assert not (BUILT_IN / manifest()["domain"]).exists()


def test_the_repository_holds_one_integration() -> None:
    """HACS manages the first integration in custom_components/ only."""
    folders = [
        path.name for path in (ROOT / "custom_components").iterdir() if path.is_dir()
    ]
    assert [name for name in folders if name != "__pycache__"] == [PACKAGE.name]


def test_manifest_version_is_one_home_assistant_loads() -> None:
    """A custom integration without a valid version is blocked from loading."""
    value = manifest()["version"]
    assert isinstance(value, str)
    parsed = AwesomeVersion(value, ensure_strategy=VERSION_STRATEGIES)
    assert parsed.strategy in VERSION_STRATEGIES


def test_manifest_values_have_their_schemas_types() -> None:
    """Each value as hassfest's schema and HACS' take it."""
    data = manifest()
    assert data["iot_class"] in IOT_CLASSES
    assert data["integration_type"] in INTEGRATION_TYPES
    assert is_https_url(data["documentation"])
    assert is_https_url(data["issue_tracker"])
    assert data["config_flow"] is True
    assert (PACKAGE / "config_flow.py").is_file()
    for key in ("codeowners", "requirements", "loggers", "after_dependencies"):
        assert isinstance(data.get(key, []), list), key
        assert all(isinstance(item, str) for item in data.get(key, [])), key
    assert all(owner.startswith("@") for owner in data["codeowners"])


class ComponentImports(ast.NodeVisitor):
    """The Home Assistant integrations a module imports from, as hassfest collects them."""

    def __init__(self) -> None:
        """Start with none."""
        self.domains: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        """Skip what only type checkers import."""
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        """`from homeassistant.components.x import …`, `from homeassistant.components import x`."""
        module = node.module or ""
        if module.startswith("homeassistant.components."):
            self.domains.add(module.split(".")[2])
        elif module == "homeassistant.components":
            self.domains.update(alias.name for alias in node.names)

    def visit_Import(self, node: ast.Import) -> None:
        """`import homeassistant.components.x`."""
        for alias in node.names:
            if alias.name.startswith("homeassistant.components."):
                self.domains.add(alias.name.split(".")[2])


def imported_components() -> set[str]:
    """Every integration the package's modules import from."""
    collector = ComponentImports()
    for path in PACKAGE.rglob("*.py"):
        collector.visit(ast.parse(path.read_text(encoding="utf-8")))
    return collector.domains


def test_every_component_imported_is_declared() -> None:
    """An imported integration is an entity platform or a (after_)dependency, and exists.

    Stricter than hassfest, which also lets a few internal integrations through unlisted.
    """
    declared = set(manifest().get("dependencies", [])) | set(
        manifest().get("after_dependencies", [])
    )
    platforms = {platform.value for platform in Platform}
    imported = imported_components()
    assert {"sensor", "recorder"} <= imported
    assert sorted(imported - platforms - declared) == []
    assert not set(manifest().get("dependencies", [])) & set(
        manifest().get("after_dependencies", [])
    )
    for domain in declared:
        assert (BUILT_IN / domain / "manifest.json").is_file(), domain


def test_hacs_json_has_only_keys_hacs_accepts() -> None:
    """The name, and otherwise only keys HACS knows, each of its type."""
    data = hacs()
    assert "name" in data
    assert sorted(data.keys() - HACS_KEYS.keys()) == []
    for key, value in data.items():
        assert isinstance(value, HACS_KEYS[key]), key
    assert data["name"] == manifest()["name"]


def test_hacs_minimum_is_the_oldest_release_tested() -> None:
    """hacs.json's Home Assistant minimum is the release the oldest environment runs.

    In that environment the installed release must equal it; in the newer ones it must
    not be older. The README names it too.
    """
    minimum = hacs()["homeassistant"]
    AwesomeVersion(minimum, ensure_strategy=[AwesomeVersionStrategy.CALVER])
    oldest_plugin = pinned(OLDEST_REQUIREMENTS.read_text(encoding="utf-8"), PLUGIN)
    installed = version("homeassistant")
    if version(PLUGIN) == oldest_plugin:
        assert installed == minimum
    else:
        assert AwesomeVersion(installed) > AwesomeVersion(minimum)
    assert f"pins Home Assistant {minimum}." in OLDEST_REQUIREMENTS.read_text(
        encoding="utf-8"
    )
    assert f"Home Assistant {minimum}" in (ROOT / "README.md").read_text(
        encoding="utf-8"
    )


def test_brand_images_lie_where_hacs_and_home_assistant_look() -> None:
    """HACS finds the icon in the integration's own brand/ folder, named after its domain."""
    brand = ROOT / "custom_components" / manifest()["domain"] / "brand"
    assert (brand / "icon.png").is_file()
    assert (brand / "logo.png").is_file()


def strings(language: str) -> Iterator[tuple[str, str]]:
    """Every translated string of a language with its dotted path."""
    for path, value in leaves(translations(language)):
        assert isinstance(value, str), path
        yield path, value


def broken_rules(text: str) -> list[str]:
    """The hassfest rules a translated string breaks."""
    broken = []
    try:
        cv.string_with_no_html(text)
    except vol.Invalid:
        broken.append("HTML")
    if URL.search(text):
        broken.append("a URL")
    if QUOTED_PLACEHOLDER.search(text):
        broken.append("a placeholder in single quotes")
    if REFERENCE in text:
        broken.append("a reference")
    for _, field, _, _ in string.Formatter().parse(text):
        if field is not None and not field.isidentifier():
            broken.append(f"the placeholder {{{field}}}")
    return broken


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_follows_hassfests_rules(language: str) -> None:
    """No HTML, URL, quoted placeholder, odd placeholder name or reference in any string."""
    broken = {
        path: rules for path, text in strings(language) if (rules := broken_rules(text))
    }
    assert broken == {}


def test_the_rules_catch_what_hassfest_refuses() -> None:
    """The rule check itself: each kind of mistake is seen, a clean string passes."""
    assert broken_rules("See <b>this</b>") == ["HTML"]
    assert broken_rules("See https://example.com/x") == ["a URL"]
    assert broken_rules("Port '{port}' failed") == ["a placeholder in single quotes"]
    assert broken_rules("[%key:common::config_flow::error::unknown%]") == [
        "a reference"
    ]
    assert broken_rules("Unit {unit id}") == ["the placeholder {unit id}"]
    assert broken_rules("Type socket://host:port or /dev/ttyUSB0 ({port})") == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_sections_and_steps_are_ones_home_assistant_reads(language: str) -> None:
    """Top-level sections, step keys and section keys hassfest's schema knows.

    In every step and section, the described fields are labelled ones.
    """
    strings_ = translations(language)
    assert sorted(strings_.keys() - TRANSLATION_SECTIONS) == []
    for flow in ("config", "options"):
        for step_id, step in strings_[flow]["step"].items():
            assert sorted(step.keys() - STEP_KEYS) == [], step_id
            assert set(step.get("data_description", {})) <= set(step.get("data", {}))
            for name, section in step.get("sections", {}).items():
                assert sorted(section.keys() - SECTION_KEYS) == [], name
                assert set(section.get("data_description", {})) <= set(
                    section.get("data", {})
                ), name


def translation_keys(strings_: dict[str, Any]) -> Iterator[str]:
    """The keys hassfest holds to its key rule.

    Entities and their states, selector options, issues, exceptions.
    """
    for platform in strings_["entity"].values():
        for key, entity in platform.items():
            yield key
            yield from entity.get("state", {})
    for selector in strings_["selector"].values():
        yield from selector.get("options", {})
    yield from strings_.get("issues", {})
    yield from strings_.get("exceptions", {})


def test_translation_keys_are_lowercase_slugs() -> None:
    """Lowercase letters, digits, - and _, not at either end, never two in a row."""
    bad = [
        key
        for key in translation_keys(translations("en"))
        if not TRANSLATION_KEY.match(key)
    ]
    assert bad == []


def test_entity_states_have_no_placeholders() -> None:
    """A state's text is shown as it is: nothing fills in a placeholder there."""
    for platform in translations("en")["entity"].values():
        for key, entity in platform.items():
            for state, text in entity.get("state", {}).items():
                assert "{" not in text, f"{key}.{state}"


class NamedKeys(ast.NodeVisitor):
    """The translation keys a module names.

    Step ids, form errors, abort reasons, and the translation keys of entities,
    selectors, issues and exceptions.
    """

    def __init__(self) -> None:
        """Start with none of each."""
        self.steps: set[str] = set()
        self.option_steps: set[str] = set()
        self.errors: set[str] = set()
        self.aborts: set[str] = set()
        self.keys: set[str] = set()
        self.key_prefixes: set[str] = set()

    def visit_keyword(self, node: ast.keyword) -> None:
        """`step_id="…"`, `reason="…"`, `translation_key=…`."""
        value = literal(node.value)
        if node.arg == "step_id" and value is not None:
            self.steps.add(value)
        elif node.arg == "reason" and value is not None:
            self.aborts.add(value)
        elif node.arg == "translation_key":
            if value is not None:
                self.keys.add(value)
            elif isinstance(node.value, ast.JoinedStr) and (
                prefix := literal(node.value.values[0])
            ):
                self.key_prefixes.add(prefix)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        """`errors[…] = "…"`; `options_step_id = "…"`."""
        self._assigned(node.targets, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        """`options_step_id: ClassVar[str] = "…"`."""
        if node.value is not None:
            self._assigned([node.target], node.value)
        self.generic_visit(node)

    def _assigned(self, targets: list[ast.expr], value: ast.expr) -> None:
        """Note a literal assigned to a form error or an options step id."""
        text = literal(value)
        if text is None:
            return
        for target in targets:
            if (
                isinstance(target, ast.Subscript)
                and isinstance(target.value, ast.Name)
                and target.value.id == "errors"
            ):
                self.errors.add(text)
            elif isinstance(target, ast.Name) and target.id == "options_step_id":
                self.option_steps.add(text)


def literal(node: ast.expr) -> str | None:
    """A string the expression names: a literal, or a constant of const.py; else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and isinstance(getattr(const, node.id, None), str):
        text: str = getattr(const, node.id)
        return text
    return None


@cache
def named_keys() -> NamedKeys:
    """Every translation key the package's modules name."""
    visitor = NamedKeys()
    for path in PACKAGE.rglob("*.py"):
        visitor.visit(ast.parse(path.read_text(encoding="utf-8")))
    return visitor


def test_every_key_the_code_names_is_translated() -> None:
    """Each step, form error, abort reason and translation key in the code has its text."""
    english = translations("en")
    named = named_keys()
    # The scan sees what it must: otherwise an empty result would pass.
    assert {"user", "port", "ecm_mode", "reconfigure"} <= named.steps
    assert {"init", "ecm"} <= named.option_steps
    assert {"port_in_use", "duplicate_name"} <= named.errors
    assert {"channel_power", "device_kind", "foreign_device"} <= named.keys
    assert "channel_" in named.key_prefixes

    flows = english["config"]["step"].keys() | english["options"]["step"].keys()
    assert sorted(named.steps - flows) == []
    assert sorted(named.option_steps - english["options"]["step"].keys()) == []
    errors = english["config"]["error"].keys() | english["options"]["error"].keys()
    assert sorted(named.errors - errors) == []
    aborts = english["config"]["abort"].keys() | english["options"]["abort"].keys()
    assert sorted(named.aborts - aborts) == []
    keys = (
        {key for platform in english["entity"].values() for key in platform}
        | english["selector"].keys()
        | english["issues"].keys()
        | english["exceptions"].keys()
    )
    assert sorted(named.keys - keys) == []
    for prefix in named.key_prefixes:
        assert any(key.startswith(prefix) for key in keys), prefix


def test_quality_scale_names_every_rule_once_with_a_status() -> None:
    """Every rule of the scale, no other; done or todo, or exempt with the reason why."""
    rules = load_yaml_dict(str(PACKAGE / "quality_scale.yaml"))["rules"]
    assert sorted(rules.keys() - QUALITY_SCALE_RULES) == []
    assert sorted(QUALITY_SCALE_RULES - rules.keys()) == []
    for name, rule in rules.items():
        if isinstance(rule, str):
            assert rule in {"done", "todo"}, name
            continue
        assert set(rule) <= {"status", "comment"}, name
        assert rule["status"] in RULE_STATUSES, name
        if rule["status"] == "exempt":
            assert str(rule.get("comment", "")).strip(), name


def test_the_workflow_runs_hassfest_and_the_hacs_action() -> None:
    """On pushes, pull requests and a schedule; HACS for an integration."""
    workflow: dict[Any, Any] = load_yaml_dict(str(WORKFLOW))
    # YAML 1.1 reads a bare `on` key as true.
    triggers: dict[str, Any] = workflow["on"] if "on" in workflow else workflow[True]
    assert {"push", "pull_request", "schedule"} <= set(triggers)
    steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
    uses = {step.get("uses"): step.get("with", {}) for step in steps}
    assert "home-assistant/actions/hassfest@master" in uses
    assert uses["hacs/action@main"] == {"category": "integration"}
