"""End to end in a real browser: the dashboard served by ``streamlit run``, driven
by Playwright in Debian's headless Chromium, as a new user would use it.

Screenshots land in ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# This closed network refuses Chromium's background connections.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update",
    "--disable-sync",
]
DY = SHARED_DATA / "uproot-small-dy-withoffsets.root"
TTBAR = SHARED_DATA / "nanoAOD_2015_CMS_Open_Data_ttbar.root"

pytestmark = pytest.mark.e2e

sync_api = pytest.importorskip("playwright.sync_api",
                               reason="pip install -r requirements-test.txt")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)",
                allow_module_level=True)
if not (DY.exists() and TTBAR.exists()):
    pytest.skip(f"the shared CMS files are not in {SHARED_DATA}",
                allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("hepviz-home")
    port = _free_port()
    env = dict(os.environ, HEPVIZ_HOME=str(home))
    log = open(home / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py",
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail("streamlit did not answer its health check within 60 s: "
                    + (home / "server.log").read_text()[-2000:])
    yield url
    proc.terminate()
    proc.wait(timeout=20)
    log.close()


@pytest.fixture(scope="module")
def page(server):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        yield page
        browser.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _goto(page, title: str) -> None:
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title,
                                                            exact=True).click()
    page.get_by_role("heading", name=title).first.wait_for()


def _visit_plot_page(page, title: str, shot: str) -> None:
    """Open a page from the sidebar, wait for its first chart, take a screenshot."""
    _goto(page, title)
    _wait_idle(page)
    page.locator(".js-plotly-plot").first.wait_for()
    _shot(page, shot)


def _wait_idle(page) -> None:
    # Streamlit shows a "running" status widget while a script runs.
    page.wait_for_timeout(300)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden",
                                                            timeout=120_000)


def test_upload_two_nanoaod_files_train_and_see_roc(server, page):
    page.goto(server)
    page.get_by_role("heading", name="Data").first.wait_for()
    _wait_idle(page)
    page.get_by_text("Active dataset").first.wait_for()
    _shot(page, "01-data-bundled")

    page.get_by_text("Upload files", exact=True).click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        [str(DY), str(TTBAR)])
    page.get_by_text(TTBAR.name, exact=True).first.wait_for()
    _wait_idle(page)
    _shot(page, "02-data-uploaded")
    page.get_by_role("button", name="Build features").click()
    page.get_by_text("Built", exact=False).first.wait_for(timeout=120_000)
    _wait_idle(page)
    _shot(page, "03-data-built")

    _goto(page, "Features")
    _wait_idle(page)
    page.locator(".js-plotly-plot").nth(7).wait_for()
    assert page.get_by_text("muon2_pt: before scaling").count() >= 1
    _shot(page, "04-features")

    _goto(page, "Train")
    _wait_idle(page)
    epochs = page.get_by_label("Epochs")
    epochs.fill("20")
    epochs.press("Tab")
    page.get_by_role("button", name="Train").click()
    page.get_by_text("finished", exact=False).first.wait_for(timeout=300_000)
    _wait_idle(page)
    _shot(page, "05-train-finished")

    _visit_plot_page(page, "Evaluate", "06-evaluate-roc")
    assert page.get_by_text("AUC", exact=False).count() >= 1

    _visit_plot_page(page, "Activations", "07-activations")

    # A browser reload starts a new session: the uploaded dataset and the run
    # must both still be there.
    page.reload()
    page.get_by_role("heading", name="Activations").first.wait_for()
    _wait_idle(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("uploaded:", exact=False).first.wait_for()
    sidebar.get_by_text("1 finished", exact=False).first.wait_for()
    page.locator(".js-plotly-plot").first.wait_for()
    _shot(page, "08-after-reload")
