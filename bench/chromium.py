"""Headless Debian Chromium for the benchmarks' screenshots, with the flags this closed
network needs (no background networking, no component updates, no sync, no proxy)."""

from __future__ import annotations

from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-proxy-server", "--hide-scrollbars")


def headless_chromium(profile: Path, width: int, height: int = 900) -> webdriver.Chrome:
    """A driven Chromium window of ``width`` x ``height`` with a fresh ``profile`` folder."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
