"""``ganshot serve --web`` on a private JACK server, driven from a real headless Chromium (selenium's
Chrome driver): clicking a pad plays it, turning a knob re-renders the pad (and its thumbnail
follows), dragging on the timbre map gives the pad the sound under the pin, the save button
saves the kit. The engine's counters are read over OSC (/status.json), independently of the
page; the saved kit shows the values that reached the engine. Screenshots of each step go to
$GANSHOT_TEST_ARTEFACTS/web (default: the test's tmp_path/artefacts).

Only state is asserted, polled with generous timeouts: nothing here measures time.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.support.osc_jack import BLOCK, RATE, Served, saved_kit_for
from tests.support.web import artefacts_dir, chromium, osc_status_json, poll

TIMEOUT_S = 90  # a busy 2-core machine: page load, renders and JACK start-up all wait on it


@pytest.fixture
def timbre_map(tiny_bundle, tmp_path):
    """A map.json of the tiny model: 60 seeded points spread over the square."""
    from ganshot.engine.timbre_map import timbre_map_json

    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1, size=(60, 2))
    doc = timbre_map_json(tiny_bundle, xy, range(100, 160), [None] * 60, [None] * 60)
    path = tmp_path / "map.json"
    path.write_text(json.dumps(doc))
    return path


def _engine(port: int) -> dict:
    return osc_status_json(port)["engine"]


def _saved_pad(served, folder, name: str, pad: int) -> dict:
    """Press the page's save button for ``name`` and read pad ``pad`` of the kit the engine wrote."""
    from selenium.webdriver.common.by import By

    driver = served.driver
    field = driver.find_element(By.ID, "kit-path")
    field.clear()
    field.send_keys(name)
    driver.find_element(By.ID, "save").click()
    path = folder / name
    poll(lambda: path.is_file(), f"the page's save button writing {name}", TIMEOUT_S)
    return json.loads(path.read_text())["pads"][pad]


@pytest.mark.jack
@pytest.mark.slow
def test_chromium_plays_a_pad_turns_a_knob_and_drags_on_the_map(jack_server, tiny_bundle, timbre_map, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    shots = artefacts_dir(tmp_path, "web")
    _, kit_path = saved_kit_for(tiny_bundle, tmp_path)
    server = jack_server(sample_rate=RATE, block_size=BLOCK)
    driver = chromium(1280, 1500)  # skips, with the reason, where chromium or chromedriver is missing
    served = Served(server.env, kit_path, tmp_path / "renders", "--web", "--web-port", "0", "--osc-kit-dir",
                    str(tmp_path), "--map", str(timbre_map), duration_s=600)
    served.driver = driver
    try:
        found = served.wait_for(r"web page on (http://127\.0\.0\.1:\d+/)", TIMEOUT_S)
        assert found, "serve --web printed no page address:\n" + "\n".join(served.lines[-20:])
        wait = WebDriverWait(driver, TIMEOUT_S)
        driver.get(found.group(1))
        # the event stream delivered the state: pad 0 is live and shows its thumbnail
        wait.until(lambda d: d.find_element(By.ID, "pad-0").get_attribute("data-buffer") not in (None, "", "none"))
        wait.until(lambda d: d.execute_script("const i = document.querySelector('#pad-0 img');"
                                              "return i.complete && i.naturalWidth > 0;"))
        assert driver.find_element(By.ID, "pad-5").get_attribute("disabled")  # the kit has 4 pads of 16
        wait.until(lambda d: "60 points" in d.find_element(By.ID, "map-note").get_attribute("textContent"))
        driver.save_screenshot(str(shots / "01-loaded.png"))

        # click pad 0: the engine counts the trigger and its mixer plays a voice (a peak appears)
        before = _engine(served.port)
        driver.find_element(By.ID, "pad-0").click()
        played = poll(lambda: (s := _engine(served.port))["triggers"] > before["triggers"] and s,
                      "the engine counting the click's trigger", TIMEOUT_S)
        assert played["triggers_not_ready"] == before["triggers_not_ready"]
        assert played["focus"] == 0
        poll(lambda: (p := _engine(served.port)["peak_db"]) is not None and p > -100,
             "the mixer mixing the pad's voice", TIMEOUT_S)
        wait.until(lambda d: int(d.find_element(By.ID, "status").get_attribute("data-triggers") or 0)
                   >= played["triggers"])  # the page's live status shows it too

        # turn pad 0's first direction knob to the end: the pad renders again, its thumbnail follows
        thumb = driver.find_element(By.CSS_SELECTOR, "#pad-0 img").get_attribute("src")
        knob = driver.find_element(By.ID, "knob-0")
        knob.send_keys(Keys.END)
        poll(lambda: _engine(served.port)["renders"] > played["renders"], "pad 0 rendering again", TIMEOUT_S)
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#pad-0 img").get_attribute("src") != thumb)
        assert knob.get_attribute("value") == "1"
        assert _saved_pad(served, tmp_path, "after-knob.json", 0)["directions"][0] == 1.0
        driver.save_screenshot(str(shots / "02-knob.png"))

        # drag on the timbre map: pad 0 takes the latent under the pin (/pad/xy)
        renders = _engine(served.port)["renders"]
        canvas = driver.find_element(By.ID, "map")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", canvas)
        ActionChains(driver).move_to_element_with_offset(canvas, -60, 40).click_and_hold() \
            .move_by_offset(30, -20).move_by_offset(30, -20).release().perform()
        poll(lambda: _engine(served.port)["renders"] > renders, "pad 0 rendering the map's sound", TIMEOUT_S)
        pad = _saved_pad(served, tmp_path, "after-map.json", 0)
        assert pad.get("z") is not None and not pad.get("directions")  # a latent from the map, knobs reset
        driver.save_screenshot(str(shots / "03-map.png"))

        # keys play pads too: "2" is pad 1 (keys 1-4 Q-R A-F Z-V are the 4 x 4 grid)
        triggers = _engine(served.port)["triggers"]
        driver.find_element(By.TAG_NAME, "body").send_keys("2")
        poll(lambda: (s := _engine(served.port))["triggers"] > triggers and s["focus"] == 1,
             "the key playing pad 1", TIMEOUT_S)
        wait.until(lambda d: "Pad 1" in d.find_element(By.ID, "focus-title").get_attribute("textContent"))
        assert not driver.find_elements(By.CSS_SELECTOR, "#log .fail"), driver.find_element(By.ID, "log").text
    finally:
        driver.quit()
        said = served.stop()
    assert "Traceback" not in said and "ganshot: stopped" in said, said
