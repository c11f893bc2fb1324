"""The Airflow UI's pages as a person uses them, through headless Chromium: what the browser test clicks and what
``python -m local_platform.screenshots`` photographs."""

from __future__ import annotations

from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

PAGE_TIMEOUT_S = 240  # the UI's API calls share two busy cores with Spark and the workers


def body_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def open_page(driver, url: str, shows: list[str], timeout_s: float = PAGE_TIMEOUT_S) -> None:
    """Open ``url`` and wait until the page shows every text of ``shows``."""
    driver.get(url)
    WebDriverWait(driver, timeout_s).until(lambda d: all(text in body_text(d) for text in shows))


def visible_button(driver, text: str | None = None, aria_label: str | None = None, timeout_s: float = 60):
    """The last visible button with this text or label (a dialog's buttons come after the page's)."""

    def find(d):
        if aria_label:
            candidates = d.find_elements(By.CSS_SELECTOR, f'button[aria-label="{aria_label}"]')
        else:
            candidates = d.find_elements(By.XPATH, f"//button[normalize-space()='{text}']")
        shown = [button for button in candidates if button.is_displayed() and button.is_enabled()]
        return shown[-1] if shown else False

    return WebDriverWait(driver, timeout_s).until(find)


# Sets a React-controlled input as typing would: the native value setter, then the input event React listens to.
_SET_INPUT_VALUE = """
const [field, value] = arguments;
Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, "value").set.call(field, value);
field.dispatchEvent(new Event("input", {bubbles: true}));
field.dispatchEvent(new Event("change", {bubbles: true}));
"""


def fill_datetime(driver, field, value: str) -> None:
    """Put ``value`` (``YYYY-MM-DDTHH:MM``) in a ``datetime-local`` field. Typing into one is not deterministic in
    Chromium (whether the year segment moves on to the hour by itself depends on timing), so set it as the
    browser's own date picker does, and check the form took it."""
    driver.execute_script(_SET_INPUT_VALUE, field, value)
    WebDriverWait(driver, 10).until(lambda _: field.get_attribute("value") == value)


def screenshot(driver, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path
