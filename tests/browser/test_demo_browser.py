"""`python -m bot demo` in a real browser (issue #18): everything through the page only.

Headless Chromium from Debian (packages chromium and chromium-driver), driven by Selenium
pointed at those executables: nothing is downloaded at run time, and the browser can reach
127.0.0.1 only. Missing browser: skipped, except
when CI is set, where it is a failure. With DEMO_SCREENSHOT=<path>, two chats side by side are
saved there (docs/demo.png, the README's picture). CHROMIUM and CHROMEDRIVER may name other
paths than Debian's.

Waits are explicit (WebDriverWait on what the page shows), never sleeps.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from bot.sandbox.seed import TIMEZONE as DEMO_ZONE
from tests.e2e.test_visit import TYPICAL

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
READY = re.compile(r"Démo prête : (http://127\.0\.0\.1:[0-9]+)")
START_TIMEOUT = 90  # seconds for the demo to seed and start
WAIT = 20  # seconds for anything the page should show (the workbook is written by a child)
PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root in a container
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--window-size=1366,900",
    "--force-device-scale-factor=1",
    "--lang=fr-FR",
    "--no-first-run",
    "--no-default-browser-check",
    # Nothing but 127.0.0.1: no name resolves, any other address goes to a closed port (the
    # loopback address never goes through a proxy), no background service calls home.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
    "--proxy-server=http://127.0.0.1:9",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-pings",
]


# --------------------------------------------------------------------------- fixtures
@pytest.fixture
def chromium() -> tuple[Path, Path]:
    missing = [
        f"{path} (Debian package {package})"
        for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver"))
        if not path.is_file()
    ]
    if missing:
        reason = "headless Chromium is missing: " + ", ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must install it (.ci/run)")
        pytest.skip(reason)
    return CHROMIUM, CHROMEDRIVER


class Demo:
    """`python -m bot demo` on a free port, started at once; `address()` waits for it."""

    def __init__(self, data_dir: Path) -> None:
        command = [sys.executable, "-m", "bot", "demo", "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "--data-dir", str(data_dir)],
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: list[str] = []
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            self.lines.put(line)
        self.lines.put(None)

    def address(self) -> str:
        while True:
            try:
                line = self.lines.get(timeout=START_TIMEOUT)
            except queue.Empty:
                pytest.fail(f"the demo did not start in {START_TIMEOUT} s:\n{''.join(self.output)}")
            if line is None:
                pytest.fail(f"the demo stopped before it was ready:\n{''.join(self.output)}")
            found = READY.search(line)
            if found:
                return found.group(1)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)  # Ctrl-C, as a person stops it
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def demo(chromium: tuple[Path, Path], tmp_path: Path) -> Iterator[Demo]:
    # Started before the browser, so that seeding and Chromium's start overlap.
    demo = Demo(tmp_path / "demo")
    try:
        yield demo
    finally:
        demo.stop()


@pytest.fixture
def browser(chromium: tuple[Path, Path], tmp_path: Path) -> Iterator[Browser]:
    binary, driver_path = chromium
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for argument in CHROMIUM_ARGS:
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    # A driver path given to Service: Selenium Manager is never run, nothing is downloaded.
    # The browser is in UTC, not the Caf's zone: the page must show the Caf's hours anyway.
    service = Service(str(driver_path), env={**os.environ, "TZ": "UTC"})
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        yield Browser(driver, downloads)
    finally:
        driver.quit()


# ----------------------------------------------------------------------------- driver
@dataclass(frozen=True)
class Person:
    id: int
    role: str
    site: str | None


class Browser:
    """The demo's page as a person uses it: choose someone, press, tap, type, read."""

    def __init__(self, driver: webdriver.Chrome, downloads: Path) -> None:
        self.driver = driver
        self.downloads = downloads
        self.clicks = 0  # buttons of the bot tapped (inline and reply keyboards)

    def wait(self, condition: Callable[[Any], Any], what: str, timeout: float = WAIT) -> Any:
        waiting = WebDriverWait(
            self.driver,
            timeout,
            poll_frequency=0.05,
            ignored_exceptions=(StaleElementReferenceException, NoSuchElementException),
        )
        return waiting.until(condition, f"waited {timeout} s for {what}")

    def open(self, address: str) -> list[Person]:
        self.driver.get(address)
        self.wait(
            lambda d: d.find_elements(By.CSS_SELECTOR, "body.connected .person[data-person-id]"),
            "the people and the live connection",
        )
        return [
            Person(
                int(entry.get_attribute("data-person-id") or 0),
                entry.get_attribute("data-role") or "",
                entry.get_attribute("data-site"),
            )
            for entry in self.driver.find_elements(By.CSS_SELECTOR, ".person[data-person-id]")
        ]

    # --- chats
    def chat(self, person: Person) -> WebElement:
        return self.driver.find_element(By.CSS_SELECTOR, f'.chat[data-chat-id="{person.id}"]')

    def open_chat(self, person: Person) -> None:
        self.driver.find_element(By.CSS_SELECTOR, f'[data-person-id="{person.id}"]').click()
        self.wait(
            lambda d: d.find_elements(
                By.CSS_SELECTOR, f'.chat[data-chat-id="{person.id}"]:not(.loading)'
            ),
            f"the chat of {person}",
        )

    def close_chat(self, person: Person) -> None:
        self.chat(person).find_element(By.CSS_SELECTOR, "button.chat-close").click()
        self.wait(
            lambda d: not d.find_elements(By.CSS_SELECTOR, f'.chat[data-chat-id="{person.id}"]'),
            f"the chat of {person} closed",
        )

    def open_chats(self) -> list[int]:
        chats = self.driver.find_elements(By.CSS_SELECTOR, ".chat[data-chat-id]")
        return [int(chat.get_attribute("data-chat-id") or 0) for chat in chats]

    def messages(self, person: Person, selector: str = ".message") -> list[WebElement]:
        return self.chat(person).find_elements(By.CSS_SELECTOR, f".messages > {selector}")

    def last_id(self, person: Person, selector: str = ".message") -> int:
        ids = [
            int(m.get_attribute("data-message-id") or 0) for m in self.messages(person, selector)
        ]
        return max(ids, default=0)

    def last_bot_id(self, person: Person) -> int:
        return self.last_id(person, ".message.from-bot")

    def bot_text(
        self, person: Person, needle: str, after: int = 0, check: Callable[[str], bool] = bool
    ) -> str:
        """The text of a bot message newer than message `after` holding `needle` (and passing
        `check`), waiting for it."""

        def found(_: Any) -> str | None:
            for message in reversed(self.messages(person, ".message.from-bot")):
                if int(message.get_attribute("data-message-id") or 0) <= after:
                    continue
                text = str(message.find_element(By.CSS_SELECTOR, ".bubble").text)
                if needle in text and check(text):
                    return text
            return None

        return str(self.wait(found, f"« {needle} » from the bot to {person}"))

    # --- what the person does
    def press(self, person: Person, label: str) -> None:
        """A reply-keyboard button (the chat is started first if it has never been)."""

        def button(_: Any) -> WebElement | None:
            chat = self.chat(person)
            for key in chat.find_elements(By.CSS_SELECTOR, "button.reply-button"):
                if key.text == label:
                    return key
            for start in chat.find_elements(By.CSS_SELECTOR, "button.start"):
                if start.is_displayed():
                    start.click()
            return None

        key = self.wait(button, f"the keyboard button « {label} » of {person}")
        before = self.last_id(person)
        key.click()
        self.clicks += 1
        self.wait(lambda _: self.last_bot_id(person) > before, f"the answer to « {label} »")

    def tap(self, person: Person, label: str) -> None:
        """An inline button of the current screen (the last message with buttons)."""

        def button(_: Any) -> tuple[WebElement, WebElement] | None:
            screens = self.messages(person, ".message.from-bot:has(.inline-keyboard)")
            for screen in reversed(screens[-1:]):
                for key in screen.find_elements(By.CSS_SELECTOR, "button.inline-button"):
                    if key.text == label and key.is_enabled():
                        return screen, key
            return None

        screen, key = self.wait(button, f"the button « {label} » for {person}")
        before = self.last_id(person)
        shown = {toast.id for toast in self.chat(person).find_elements(By.CSS_SELECTOR, ".toast")}
        key.click()
        self.clicks += 1

        def answered(_: Any) -> bool:
            try:
                screen.is_displayed()
            except StaleElementReferenceException:
                return True  # edited in place (or deleted)
            toasts = self.chat(person).find_elements(By.CSS_SELECTOR, ".toast")
            return any(t.id not in shown for t in toasts) or self.last_id(person) > before

        self.wait(answered, f"the answer to « {label} »")

    def type(self, person: Person, text: str) -> None:
        before = self.last_id(person)
        composer = self.chat(person).find_element(By.CSS_SELECTOR, "textarea.composer")
        composer.send_keys(text, Keys.ENTER)
        self.wait(lambda _: self.last_id(person) > before, "the typed text sent")

    def script(self, source: str, *args: Any) -> Any:
        return self.driver.execute_script(source, *args)


def visits_shown(text: str) -> int:
    found = re.search(r"Visites : ([0-9][0-9\s\u202f]*)", text)
    assert found, text
    return int(re.sub(r"\D", "", found.group(1)))


# ------------------------------------------------------------------------------- test
def test_the_demo_works_in_a_real_browser(demo: Demo, browser: Browser) -> None:
    people = browser.open(demo.address())
    coordinator = next(p for p in people if p.role == "coordinator")
    managed = {p.site for p in people if p.role == "manager"}
    agent = next(p for p in people if p.role == "agent" and p.site in managed)
    manager = next(p for p in people if p.role == "manager" and p.site == agent.site)

    # The manager reads the indicators before the visit…
    browser.open_chat(manager)
    browser.press(manager, "📈 Indicateurs")
    before = visits_shown(browser.bot_text(manager, "Visites :"))
    # …every hour shown in the Caf's zone, as the bot's texts give them (the browser: UTC).
    paris = ZoneInfo(DEMO_ZONE)
    hours = browser.script(
        "return Array.from(arguments[0].querySelectorAll('time'), "
        "t => [t.textContent, t.dateTime])",
        browser.chat(manager),
    )
    assert hours
    for shown, stamp in hours:
        assert shown == datetime.fromisoformat(stamp).astimezone(paris).strftime("%H:%M")

    # …an agent of the same site, open beside, logs a typical visit: 8 taps of buttons…
    browser.open_chat(agent)
    assert browser.open_chats() == [manager.id, agent.id]
    browser.press(agent, "📝 Nouvelle visite")
    browser.clicks = 0
    for label in TYPICAL:
        browser.tap(agent, label)
    assert browser.clicks == 8
    browser.bot_text(agent, "Visite enregistrée")

    # …and the manager sees it counted, the charts drawn, and the visit in the workbook.
    browser.open_chat(manager)
    browser.press(manager, "📈 Indicateurs")
    browser.bot_text(manager, "Visites :", check=lambda text: visits_shown(text) == before + 1)
    browser.tap(manager, "📊 Graphiques")
    browser.wait(
        lambda _: any(
            browser.script("return arguments[0].complete && arguments[0].naturalWidth > 0", img)
            for img in browser.chat(manager).find_elements(By.CSS_SELECTOR, "img.photo")
        ),
        "a chart loaded",
    )
    # A chart's small print: a click shows it full size over the page, Escape closes it.
    browser.chat(manager).find_elements(By.CSS_SELECTOR, "img.photo")[-1].click()
    browser.wait(lambda d: d.find_element(By.CSS_SELECTOR, ".photo-overlay img"), "the chart big")
    browser.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    browser.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, ".photo-overlay"), "it closed")
    browser.tap(manager, "📥 Excel")
    download = browser.wait(
        lambda _: browser.chat(manager).find_element(
            By.CSS_SELECTOR, 'a.document[download$=".xlsx"]'
        ),
        "the Excel file in the chat",
    )
    if os.environ.get("DEMO_SCREENSHOT"):
        browser.driver.set_window_size(1440, 1000)
        # Tapping « Excel » scrolled the chat up to its button: back to the end, as one would.
        browser.script(
            "arguments[0].scrollTop = 1e9",
            browser.chat(manager).find_element(By.CSS_SELECTOR, ".messages"),
        )
        browser.wait(lambda d: not d.find_elements(By.CSS_SELECTOR, ".toast"), "toasts gone")
        browser.driver.save_screenshot(os.environ["DEMO_SCREENSHOT"])
    download.click()
    workbook_path = browser.wait(
        lambda _: next((p for p in browser.downloads.iterdir() if p.suffix == ".xlsx"), None),
        "the Excel file downloaded",
    )
    workbook = load_workbook(workbook_path, read_only=True)
    [site_sheet] = [s for s in workbook.worksheets if s.cell(1, 1).value == agent.site]
    rows = [tuple(row[:2]) for row in site_sheet.iter_rows(values_only=True)]
    assert ("Visites", before + 1) in rows

    # The manager declares a closure; the coordinator, open beside, sees it arrive. Her chat
    # takes the place of the one used least recently (the agent's), on the same side, saying so.
    browser.open_chat(coordinator)
    assert browser.open_chats() == [manager.id, coordinator.id]
    browser.wait(
        lambda _: any(
            "fermée" in toast.text
            for toast in browser.chat(coordinator).find_elements(By.CSS_SELECTOR, ".toast")
        ),
        "a word on the chat closed",
    )
    mark = browser.last_id(coordinator)
    browser.press(manager, "🕘 Horaires et fermetures")
    for label in ("➕ Fermeture exceptionnelle", "▶️", "10", "12"):
        browser.tap(manager, label)
    browser.tap(manager, "Travaux, locaux")
    browser.tap(manager, "💾 Enregistrer sans note")
    browser.bot_text(manager, "Fermeture enregistrée")
    browser.bot_text(coordinator, "🚪", after=mark)

    # What people type reaches others' chats as plain text: nothing in it runs.
    browser.close_chat(manager)
    browser.open_chat(agent)
    assert browser.open_chats() == [coordinator.id, agent.id]
    mark = browser.last_id(coordinator)
    browser.press(agent, "📣 Signaler")
    for label in ("⚠️ Une difficulté", "Une téléprocédure", "Urgente : le public est bloqué"):
        browser.tap(agent, label)
    browser.bot_text(agent, "Décrivez la difficulté")
    browser.type(agent, PAYLOAD)
    assert PAYLOAD in browser.bot_text(coordinator, "Nouveau signalement", after=mark)
    assert browser.script("return window.__pwned") is None
    assert not browser.driver.find_elements(
        By.CSS_SELECTOR, ".messages script, .messages img:not(.photo), .messages [onerror]"
    )


def test_the_page_never_parses_html_of_the_server() -> None:
    """The rule the XSS check above tries: nodes from textContent only, never markup."""
    static = ROOT / "bot" / "sandbox" / "static"
    forbidden = re.compile(
        r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write|\beval\(|new Function"
        r"|createContextualFragment|DOMParser"
    )
    for script in static.glob("*.js"):
        found = [
            f"{script.name}:{number}: {line.strip()}"
            for number, line in enumerate(script.read_text().splitlines(), 1)
            if forbidden.search(line)
        ]
        assert not found, found
    page = (static / "index.html").read_text()
    # No inline script nor inline handler: the CSP forbids them, the page needs none.
    assert not re.search(r"<script(?![^>]*\ssrc=)|<[^>]*\son[a-z]+\s*=", page), page
