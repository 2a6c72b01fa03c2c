"""Regenerate docs/app-screenshot.png: the workbench in headless Chromium after a tweak.

Starts ``critmin app`` on a free loopback port (run folders into a temporary folder), opens
``scenarios/china_heavy_ree_controls_2026.yaml``, runs it as written (the reference), makes
licences likelier (approval probability 0.8 instead of triangular 0.2/0.4/0.6), runs again and
saves the page. With ``--time`` it first times a run of the baseline from the click on Run to
the curve on screen. Needs chromium and chromium-driver (Debian: apt-get install chromium
chromium-driver) and selenium (the test extra).

    python scripts/app_screenshot.py [-n 20] [--time] [--out docs/app-screenshot.png]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = "scenarios/china_heavy_ree_controls_2026.yaml"
LICENCE = "events.cn_heavy_ree_licences_2026.licence.approval_probability"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(port: int, out: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SE_OFFLINE": "true"}
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "app", "--no-browser",
                             "--port", str(port), "--out", str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    end = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > end:
                raise SystemExit("critmin app did not start") from None
            time.sleep(0.2)


def browser(profile: Path, width: int, height: int) -> webdriver.Chrome:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        raise SystemExit("needs chromium and chromedriver (apt-get install chromium "
                         "chromium-driver)")
    opts = Options()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                f"--window-size={width},{height}", f"--user-data-dir={profile}",
                "--disable-background-networking", "--no-first-run"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service(driver_path), options=opts)


class Page:
    def __init__(self, driver: webdriver.Chrome, url: str):
        self.d = driver
        self.wait = WebDriverWait(driver, 600, poll_frequency=0.1)
        driver.get(url)

    def text(self, element_id: str) -> str:
        return self.d.find_element(By.ID, element_id).text

    def param(self, path: str):
        return self.wait.until(lambda d: d.find_element(
            By.CSS_SELECTOR, f"input[id*='\"path\":\"{path}\"']"))

    def type(self, element, value: str) -> None:
        element.clear()
        element.send_keys(value + Keys.ENTER)

    def open(self, scenario: str) -> None:
        self.type(self.d.find_element(By.ID, "scenario-path"), scenario)
        self.wait.until(lambda d: scenario in self.text("scenario-info"))

    def run(self, number: int, replications: int) -> float:
        """Click Run; seconds until the finished run's curve is on screen."""
        self.type(self.d.find_element(By.ID, "reps"), str(replications))
        before = self.d.find_element(By.ID, "overlay").get_attribute("src")
        t0 = time.perf_counter()
        self.d.find_element(By.ID, "run-btn").click()
        self.wait.until(lambda d: f"Done #{number}" in self.text("run-status"))
        self.wait.until(lambda d: d.find_element(By.ID, "overlay").get_attribute("src")
                        not in ("", None, before) and "Live" not in self.text("view-note"))
        return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20, help="replications per run (default 20)")
    ap.add_argument("--time", action="store_true",
                    help="first time a run of the baseline (click to curve)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "app-screenshot.png")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        app = start_app(port, Path(tmp) / "results")
        driver = browser(Path(tmp) / "profile", 1500, 1650)
        try:
            page = Page(driver, f"http://127.0.0.1:{port}/")
            page.param("end_date")
            if args.time:
                seconds = page.run(1, args.n)
                print(f"baseline, {args.n} replications: curve on screen {seconds:.1f} s "
                      f"after Run ({page.text('run-status')})")
                page.d.refresh()
                page.param("end_date")
            page.open(SCENARIO)
            first = 2 if args.time else 1
            page.run(first, args.n)
            page.type(page.param(LICENCE), "0.8")
            page.wait.until(lambda d: "Valid (1 change)" in page.text("check-msg"))
            page.type(driver.find_element(By.ID, "tweak-name"), "heavy_ree_licences_eased")
            page.wait.until(lambda d: "heavy_ree_licences_eased" in
                            d.find_element(By.ID, "save-path").get_attribute("value"))
            page.run(first + 1, args.n)
            page.wait.until(lambda d: "paired difference" in page.text("diff-table"))
            page.wait.until(lambda d: "USD/kg, per market tier" in page.text("price-note"))
            driver.execute_script("window.scrollTo(0, 0)")
            time.sleep(0.5)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            driver.save_screenshot(str(args.out))
            print(f"wrote {args.out}")
        finally:
            driver.quit()
            app.terminate()
            app.wait(20)


if __name__ == "__main__":
    main()
