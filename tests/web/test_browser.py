"""The site in a real browser: Debian's Chromium driven by Selenium (chromedriver) against
``invindex serve`` started as a real process on a free loopback port.

Type a query, submit, see the expected first hit, open it, come back, go to the next
page; the same at a phone's width with no horizontal scrolling. The site's CSP allows
no script at all, so passing here also shows the pages work without JavaScript.
Screenshots go to ``test-artifacts/web/`` (gitignored).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

from .corpus import build, tree_digest

selenium = pytest.importorskip("selenium")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_data" / "docs.tsv"
ARTIFACTS = REPO / "test-artifacts" / "web"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
    reason="Debian's chromium and chromium-driver are not installed (scripts/test.sh "
           "installs them)")


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("browser")
    records = [tuple(line.split("\t", 1)) for line in
               SAMPLE.read_text(encoding="utf-8").splitlines() if "\t" in line]
    return build(tmp, "sample-index", records, "--store-text")


@pytest.fixture(scope="module")
def server(sample_index) -> Iterator[str]:
    """``invindex serve`` on a free port (``--port 0``: it prints the URL it serves)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "invindex", "serve", str(sample_index), "--port", "0",
         "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=env)
    try:
        line = proc.stdout.readline()
        if not line.startswith("invindex: serving on http://127.0.0.1:"):
            proc.kill()
            pytest.fail(f"serve did not start: {line!r} {proc.stderr.read()}")
        yield line.split()[-1]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        assert code == 0, proc.stderr.read()


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    profile = tempfile.mkdtemp(prefix="invindex-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}",
                 "--window-size=1200,900"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def fits(driver) -> None:
    """Nothing on the page is wider than the window (no sideways scrolling)."""
    width = driver.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], (driver.current_url, width)


def search(driver, url: str, query: str) -> None:
    driver.get(url)
    box = driver.find_element(By.NAME, "q")
    box.clear()
    box.send_keys(query)
    box.submit()


def test_search_open_and_page(browser, server, sample_index):
    before = tree_digest(sample_index)
    search(browser, server, "light darkness")
    assert "16 documents match" in browser.find_element(By.ID, "summary").text
    first = browser.find_elements(By.CSS_SELECTOR, ".hit a.doc")[0]
    assert first.text == "kjv:John.1.5"
    marks = browser.find_elements(By.CSS_SELECTOR, ".hit .snippet mark")
    assert {m.text.lower() for m in marks} >= {"light", "darkness"}
    shot(browser, "results")
    first.click()
    assert browser.current_url.endswith("/docs/kjv:John.1.5?q=light+darkness")
    marked = browser.find_elements(By.CSS_SELECTOR, ".text mark")
    assert [m.text for m in marked] == ["light", "darkness", "darkness"]
    assert "And the light shineth in darkness" in browser.find_element(
        By.CSS_SELECTOR, ".text").text
    shot(browser, "document")
    browser.back()
    browser.find_element(By.CSS_SELECTOR, "a[rel=next]").click()
    assert "page=2" in browser.current_url
    assert "showing 11–16" in browser.find_element(By.ID, "summary").text
    assert len(browser.find_elements(By.CSS_SELECTOR, ".hit")) == 6
    shot(browser, "page-2")
    assert tree_digest(sample_index) == before  # served read-only


def test_hostile_query_is_text_in_the_browser(browser, server):
    search(browser, server, "<img src=x onerror=alert(1)> light")
    assert browser.find_elements(By.CSS_SELECTOR, "main img") == []
    assert "<img src=x onerror=alert(1)> light" in browser.find_element(By.ID, "summary").text


def test_phone_width_and_other_pages(browser, server):
    browser.set_window_size(390, 844)
    try:
        search(browser, server, '"the light"')
        assert browser.find_elements(By.CSS_SELECTOR, ".hit")
        fits(browser)
        shot(browser, "results-phone")
        browser.get(server + "terms/the")
        assert "(df)" in browser.find_element(By.CSS_SELECTOR, ".summary").text
        fits(browser)
        browser.get(server + "help")
        fits(browser)
        browser.get(server + "index")
        img = browser.find_element(By.CSS_SELECTOR, "figure img")
        assert browser.execute_script("return arguments[0].naturalWidth", img) > 0
        fits(browser)
        shot(browser, "index-phone")
    finally:
        browser.set_window_size(1200, 900)
