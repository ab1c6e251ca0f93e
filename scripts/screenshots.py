"""Take the README's screenshots from a running demo, in Debian's headless Chromium.

Run by scripts/screenshots, which starts a fresh demo first (`scripts/demo`); needs
`bash scripts/setup --screenshots` (Chromium in the Python 3.14 environment, Playwright
in the newest release's virtual environment). Playwright drives /usr/bin/chromium: its own
browser download is never used.

    python -m scripts.screenshots [--out docs/images] [--url http://127.0.0.1:8123]

Each picture waits for what it shows (a form, a found device, live values, three
frequency dips in the history, the day's figures, a disturbance event), then is
cropped to it and stored as a small PNG.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
import contextlib
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
import re
import subprocess
import sys
import time
from typing import Any
import urllib.error
import urllib.parse

from PIL import Image
from playwright.sync_api import (
    FloatRect,
    Locator,
    Page,
    ViewportSize,
    expect,
    sync_playwright,
)

from scripts import demo_setup
from scripts.demo_dashboard import (
    BOARD,
    BOARD_ROWS,
    DASHBOARD_PATH,
    DISTURBANCE_ROWS,
    ECM_ROWS,
    LIVE_PATH,
    QUALITY_PATH,
    RENAMED,
    ROLE_ROWS,
    SPREAD_ROWS,
    TIME_ROWS,
    VOLTAGE_ROWS,
    Demo,
    ecm_entry_title,
    find_demo,
)
from scripts.demo_setup import Client

CHROMIUM = "/usr/bin/chromium"
# No sandbox: the browser runs as root in the chroot; no background traffic to the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1200, "height": 900}
# Tall enough for the board's options and the ECM's with one channel open, so no dialog scrolls.
TALL_VIEWPORT: ViewportSize = {"width": 1200, "height": 2200}
MAX_WIDTH = 1200
# A palette of this many colours keeps the pictures small; the web UI uses few.
COLOURS = 256
# Each wait for the web UI; a probe reads for up to 10 s.
UI_TIMEOUT_MS = 30_000
# A second ECM-1240 for the config flow: the demo's two ports are set up already.
FLOW_ECM_ADDRESS = "127.0.0.1:7779"
FLOW_ECM_UNIT, FLOW_ECM_SERIAL = 7, 123
FLOW_ECM_TITLE = "ECM-1240 700123"
# The demo's board dips to 49.8 Hz for 20 s every 2 minutes, the first 30 s in:
# three dips are in the history about 5 minutes after it starts.
DIPS_SHOWN = 3
DIP_BELOW_HZ = 49.9
HISTORY_TIMEOUT = 600.0
HISTORY_POLL = 5.0
# Where the web UI keeps whether the sidebar shows (in the browser's local storage).
SIDEBAR_SETTING = "dockedSidebar"
# States that are no value yet.
NO_VALUE = ("unknown", "unavailable")


class Album:
    """Where the pictures go: cropped, reduced to a palette, at most MAX_WIDTH wide."""

    def __init__(self, folder: Path) -> None:
        """Store the pictures in `folder`."""
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)

    def save(self, name: str, png: bytes) -> None:
        """Write one picture, smaller; print its name, size and bytes."""
        image = Image.open(BytesIO(png)).convert("RGB")
        if image.width > MAX_WIDTH:
            height = round(image.height * MAX_WIDTH / image.width)
            image = image.resize((MAX_WIDTH, height), Image.Resampling.LANCZOS)
        small = image.quantize(COLOURS, dither=Image.Dither.NONE)
        path = self.folder / name
        small.save(path, optimize=True)
        size = path.stat().st_size
        print(f"{path}: {image.width}x{image.height}, {size / 1024:.0f} kB")


def log_in(page: Page, url: str) -> None:
    """Log in as the demo's owner on the login page, and wait for the web UI to connect."""
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(demo_setup.USERNAME)
    page.get_by_role("textbox", name="Password").fill(demo_setup.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_function(
        "() => document.querySelector('home-assistant')?.hass?.connected === true"
    )


def dialog(page: Page) -> Locator:
    """The open dialog box (its fields are slotted into it: find them on the page)."""
    return page.get_by_role("dialog")


@contextlib.contextmanager
def extra_ecm() -> Iterator[str]:
    """Run a second simulated ECM-1240 on FLOW_ECM_ADDRESS; yield its port once it listens."""
    command = [
        sys.executable,
        "-m",
        "simulator",
        "ecm1240",
        "--model",
        "ECM-1240",
        "--realtime",
        "on",
        "--interval",
        "1",
        "--unit-id",
        str(FLOW_ECM_UNIT),
        "--serial",
        str(FLOW_ECM_SERIAL),
        "--tcp",
        FLOW_ECM_ADDRESS,
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    ) as simulator:
        assert simulator.stdout is not None
        # Its first line, where to connect, comes once it listens.
        port = simulator.stdout.readline().strip()
        try:
            if not port:
                msg = (
                    f"the extra ECM-1240 simulator did not start on {FLOW_ECM_ADDRESS}"
                )
                raise demo_setup.DemoError(msg)
            yield port
        finally:
            simulator.terminate()


def config_flow(page: Page, demo: Demo, album: Album) -> None:
    """The set-up of a second ECM-1240: its port typed in, then the unit found on it."""
    with extra_ecm() as port:
        page.goto(
            f"{demo.client.url}/config/integrations/dashboard/add?domain=mains_monitor"
        )
        page.get_by_role("button", name="OK").click()
        page.get_by_role("radio", name=re.compile("^Brultech ECM-1240")).check()
        page.get_by_role("button", name="Submit").click()
        field = page.get_by_role("textbox", name="Port")
        field.fill(port)
        expect(field).to_have_value(port)
        album.save(
            "config-flow-port.png", dialog(page).screenshot(animations="disabled")
        )
        page.get_by_role("button", name="Submit").click()
        # The entry exists once the flow shows its device to name.
        expect(page.get_by_role("textbox", name="Device name")).to_have_value(
            FLOW_ECM_TITLE, timeout=UI_TIMEOUT_MS
        )
        album.save(
            "config-flow-found.png", dialog(page).screenshot(animations="disabled")
        )
        page.get_by_role("button", name="Skip and finish").click()
        expect(dialog(page)).to_have_count(0)
    remove_entry(demo.client, FLOW_ECM_TITLE)


def remove_entry(client: Client, title: str) -> None:
    """Delete the integration's entry of that title (the demo keeps its own two)."""
    path = "/api/config/config_entries/entry"
    for entry in client.call("GET", f"{path}?domain={demo_setup.DOMAIN}"):
        if entry["title"] == title:
            client.call("DELETE", f"{path}/{entry['entry_id']}")


def open_options(page: Page, demo: Demo, title: str) -> None:
    """Open the options form of the entry of that title from the integration's page."""
    page.goto(f"{demo.client.url}/config/integrations/integration/{demo_setup.DOMAIN}")
    entry = page.locator("ha-config-entry-row").filter(has_text=title)
    entry.get_by_role("button", name="Configure").click()
    expect(dialog(page)).to_have_count(1)


def options(page: Page, demo: Demo, album: Album) -> None:
    """The board's settings (from its options menu), and the ECM-1240's options with its grid channel open."""
    page.set_viewport_size(TALL_VIEWPORT)
    open_options(page, demo, BOARD)
    page.locator("step-flow-menu").get_by_text("Settings", exact=True).click()
    expect(page.get_by_text(f"{BOARD} options")).to_be_visible()
    # The pointer stays where the menu's item was: off the form, so no field shows it hovered.
    page.mouse.move(0, 0)
    expect(page.get_by_role("spinbutton", name="Update interval")).to_have_value("5")
    expect(page.get_by_role("spinbutton", name="Oscillation threshold")).to_be_visible()
    album.save("options-board.png", dialog(page).screenshot(animations="disabled"))
    close_dialog(page)

    ecm_title = ecm_entry_title(demo.client)
    open_options(page, demo, ecm_title)
    expect(page.get_by_text(f"{ecm_title} options")).to_be_visible()
    grid = page.get_by_role("button", name="Grid (CH1)")
    grid.click()
    expect(grid).to_have_attribute("aria-expanded", "true")
    album.save("options-ecm.png", dialog(page).screenshot(animations="disabled"))
    close_dialog(page)
    page.set_viewport_size(VIEWPORT)


def close_dialog(page: Page) -> None:
    """Close the open dialog with its close button; wait until it is gone."""
    page.get_by_role("button", name="Close").click()
    expect(dialog(page)).to_have_count(0)


def wait_for_values(page: Page, entities: list[str]) -> None:
    """Wait until the web UI holds a value for every one of these entities."""
    page.wait_for_function(
        """([entities, none]) => {
            const states = document.querySelector('home-assistant')?.hass?.states ?? {};
            return entities.every((id) => states[id] && !none.includes(states[id].state));
        }""",
        arg=[entities, list(NO_VALUE)],
        timeout=UI_TIMEOUT_MS,
    )


def union_clip(boxes: list[FloatRect], margin: float) -> FloatRect:
    """The smallest rectangle around every box, `margin` wider on each side."""
    left = min(box["x"] for box in boxes) - margin
    top = min(box["y"] for box in boxes) - margin
    right = max(box["x"] + box["width"] for box in boxes) + margin
    bottom = max(box["y"] + box["height"] for box in boxes) + margin
    return {"x": left, "y": top, "width": right - left, "height": bottom - top}


def dashboard(page: Page, demo: Demo, album: Album) -> None:
    """The demo's dashboard of both devices with their live values, the ECM's roles and line voltage."""
    ecm_title = ecm_entry_title(demo.client)
    hide_sidebar(page)
    page.goto(f"{demo.client.url}/{DASHBOARD_PATH}/{LIVE_PATH}")
    shown = [demo.board[key] for key in BOARD_ROWS] + [
        demo.ecm[key] for key in (*ECM_ROWS, *ROLE_ROWS, *VOLTAGE_ROWS)
    ]
    wait_for_values(page, shown)
    cards = page.locator("hui-masonry-view ha-card")
    expect(cards.get_by_text(ecm_title)).to_be_visible()
    expect(cards.get_by_text(re.compile(r"\d+\.\d{3} Hz")).first).to_be_visible()
    album.save("dashboard.png", cards_picture(page, cards))


def cards_picture(page: Page, cards: Locator) -> bytes:
    """A picture of the view's cards, cropped to them."""
    boxes = [box for card in cards.all() if (box := card.bounding_box()) is not None]
    png: bytes = page.screenshot(clip=union_clip(boxes, 8), animations="disabled")
    return png


def hide_sidebar(page: Page) -> None:
    """Hide the web UI's sidebar from the next page load on: the view's cards get its width."""
    page.evaluate(
        f"() => localStorage.setItem('{SIDEBAR_SETTING}', JSON.stringify('always_hidden'))"
    )


def grid_quality(page: Page, demo: Demo, album: Album) -> None:
    """The dashboard's grid quality view: the board's day so far, after a disturbance."""
    hide_sidebar(page)
    page.goto(f"{demo.client.url}/{DASHBOARD_PATH}/{QUALITY_PATH}")
    keys = (*TIME_ROWS, *SPREAD_ROWS, *DISTURBANCE_ROWS)
    # Time correction in force is unknown in the first hour.
    wait_for_values(
        page, [demo.board[key] for key in keys if key != "correction_inferred"]
    )
    cards = page.locator("hui-masonry-view ha-card")
    expect(cards.get_by_text("Deviation spread")).to_be_visible()
    album.save("grid-quality.png", cards_picture(page, cards))


def disturbance(page: Page, demo: Demo, album: Album) -> None:
    """The disturbance event entity's details: the attributes of the last event."""
    page.set_viewport_size(TALL_VIEWPORT)
    page.goto(f"{demo.client.url}/{DASHBOARD_PATH}/{QUALITY_PATH}")
    wait_for_values(page, [demo.board["disturbance"]])
    cards = page.locator("hui-masonry-view ha-card")
    cards.get_by_text(RENAMED["disturbance"], exact=True).click()
    page.get_by_role("button", name="Menu").click()
    page.get_by_role("menuitem", name="Details").click()
    expect(page.get_by_text(re.compile(r"^Peak deviation"))).to_be_visible()
    album.save("disturbance-event.png", dialog(page).screenshot(animations="disabled"))
    # The details have a back button, no close button.
    page.keyboard.press("Escape")
    expect(dialog(page)).to_have_count(0)
    page.set_viewport_size(VIEWPORT)


def energy_now(page: Page, demo: Demo, album: Album) -> None:
    """The Energy dashboard's current power flow: grid and solar from the roles, the circuits, the rest untracked."""
    hide_sidebar(page)
    page.set_viewport_size(TALL_VIEWPORT)
    page.goto(f"{demo.client.url}/energy/now")
    wait_for_values(page, [demo.ecm[key] for key in ROLE_ROWS])
    flow = page.locator("ha-card").filter(has_text="Current power flow")
    # The flow is drawn once the chart has the sensors' states: its labels are text of its SVG or canvas.
    expect(flow.locator("svg, canvas").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    album.save("energy-now.png", flow.screenshot(animations="disabled"))
    page.set_viewport_size(VIEWPORT)


def dips(states: list[dict[str, Any]]) -> int:
    """How many separate times the states went below DIP_BELOW_HZ and came back."""
    count, below = 0, False
    for state in states:
        try:
            value = float(state["state"])
        except ValueError:
            continue
        if value < DIP_BELOW_HZ:
            below = True
        elif below:
            count, below = count + 1, False
    return count


def frequency_since_start(demo: Demo) -> tuple[datetime, int]:
    """When the board's first reading was recorded, and how many dips ended since."""
    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    query = urllib.parse.urlencode(
        {"filter_entity_id": demo.board["frequency_minimum"], "minimal_response": ""}
    )
    answer = demo.client.call("GET", f"/api/history/period/{start}?{query}")
    states: list[dict[str, Any]] = answer[0] if answer else []
    numbers = [state for state in states if state["state"] not in NO_VALUE]
    if not numbers:
        return datetime.now(UTC), 0
    return datetime.fromisoformat(numbers[0]["last_changed"]), dips(numbers)


def history(page: Page, demo: Demo, album: Album) -> None:
    """The history panel: the board's frequency, minimum and maximum since the demo started."""
    deadline = time.monotonic() + HISTORY_TIMEOUT
    first, seen = frequency_since_start(demo)
    told = -1
    while seen < DIPS_SHOWN:
        if time.monotonic() > deadline:
            msg = f"{seen} frequency dips in {HISTORY_TIMEOUT:.0f} s, not {DIPS_SHOWN}"
            raise demo_setup.DemoError(msg)
        if seen != told:
            print(f"  waiting for the board's frequency dips: {seen} of {DIPS_SHOWN}")
            told = seen
        time.sleep(HISTORY_POLL)
        first, seen = frequency_since_start(demo)
    shown = ",".join(
        demo.board[key]
        for key in ("frequency", "frequency_minimum", "frequency_maximum")
    )
    query = urllib.parse.urlencode(
        {
            "entity_id": shown,
            "start_date": first.isoformat(),
            "end_date": datetime.now(UTC).isoformat(),
        }
    )
    page.goto(f"{demo.client.url}/history?{query}")
    # The sources side panel folds away, so the chart takes the page's width.
    page.get_by_role("button", name=re.compile(r"^Sources")).click()
    chart = page.locator("state-history-charts")
    expect(chart.locator("ha-chart-base")).to_have_count(1)
    expect(chart.get_by_text(re.compile(r"\d+\.\d{3} Hz")).first).to_be_visible()
    toolbar = page.get_by_role("button", name=re.compile(r"^Sources")).bounding_box()
    frame = chart.bounding_box()
    assert toolbar is not None
    assert frame is not None
    album.save(
        "frequency-history.png",
        page.screenshot(clip=union_clip([toolbar, frame], 12), animations="disabled"),
    )


def take(url: str, album: Album) -> None:
    """Take every picture, in one browser session."""
    demo = find_demo(url)
    time_zone = demo.client.call("GET", "/api/config")["time_zone"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            # Reduced motion: dialogs open and charts draw without animations.
            context = browser.new_context(
                viewport=VIEWPORT,
                locale="en-US",
                timezone_id=time_zone,
                reduced_motion="reduce",
            )
            context.set_default_timeout(UI_TIMEOUT_MS)
            expect.set_options(timeout=UI_TIMEOUT_MS)
            page = context.new_page()
            log_in(page, url)
            config_flow(page, demo, album)
            options(page, demo, album)
            # The history waits for the board's dips; the dashboard then shows totals
            # of a few minutes.
            history(page, demo, album)
            dashboard(page, demo, album)
            # By now the board's dips have fired disturbance events.
            grid_quality(page, demo, album)
            disturbance(page, demo, album)
            energy_now(page, demo, album)
        finally:
            browser.close()


def main(argv: list[str]) -> int:
    """Take the screenshots; report a failed step in one line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8123")
    parser.add_argument("--out", type=Path, default=Path("docs/images"))
    args = parser.parse_args(argv)
    try:
        take(args.url, Album(args.out))
    except (demo_setup.DemoError, urllib.error.URLError, TimeoutError) as err:
        print(f"screenshots: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
