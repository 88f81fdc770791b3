"""The pages in a real browser: Debian's headless Chromium, driven by Selenium through Debian's
chromedriver, against `caregraph serve` on a free loopback port. Asks a question, walks the
guided path with the keyboard alone, runs axe-core on every page template, and saves the
screenshots the README shows. Skips when Chromium or its driver is not installed; never
downloads a browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


webdriver = pytest.importorskip("selenium.webdriver")
axe_module = pytest.importorskip("axe_selenium_python")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not (Path(CHROMIUM).is_file() and Path(CHROMEDRIVER).is_file()):
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)

from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

SCREENSHOTS = Path(__file__).resolve().parents[1] / "docs" / "images"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
API_RECORDS = SHARED_DATA / "cqc" / "oldham_cqc_api_v1"
QUESTION = "my mum's care home is unsafe, who do I tell?"


@pytest.fixture(scope="module")
def browser():
    # Selenium Manager must not look for or fetch a browser: the paths are given.
    os.environ["SE_OFFLINE"] = "true"
    profile = tempfile.mkdtemp(prefix="caregraph-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1400"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options)
    except WebDriverException as exc:
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"Chromium would not start: {exc.msg}")
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def _text(browser) -> str:
    return browser.find_element(By.TAG_NAME, "main").text


def _tab_to(browser, test, limit: int = 60):
    """Press Tab until the focused element passes `test`; that element."""
    for _ in range(limit):
        browser.switch_to.active_element.send_keys(Keys.TAB)
        focused = browser.switch_to.active_element
        if test(focused):
            return focused
    raise AssertionError("the keyboard never reached the element")


def _heading(browser, expected: str | None = None) -> str:
    """The page's h1 once the page that a key press or a submit asked for has loaded."""
    def loaded(driver):
        found = driver.find_elements(By.TAG_NAME, "h1")
        return found and (expected is None or found[0].text == expected) and found[0].text
    return WebDriverWait(browser, 30, ignored_exceptions=(WebDriverException,)).until(loaded)


def _screenshot(browser, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(SCREENSHOTS / name))


def test_type_a_question_and_see_the_steps_the_bodies_and_the_law(browser, server):
    browser.get(server.url + "/")
    _screenshot(browser, "home.png")
    box = browser.find_element(By.ID, "q")
    box.send_keys(QUESTION)
    box.submit()
    _heading(browser, "Who is responsible: " + QUESTION)
    text = _text(browser)
    assert text.index("What to do now") < text.index("Who must act, and the law") < text.index(
        "How we read your question")
    assert "Care Quality Commission" in text
    steps = browser.find_elements(By.CSS_SELECTOR, "ol.todo > li")
    assert len(steps) >= 3
    laws = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "section.answer a")]
    assert any(href.startswith("https://www.legislation.gov.uk/") for href in laws)
    assert "Not legal advice" in browser.find_element(By.TAG_NAME, "body").text


def test_walk_the_guided_path_with_the_keyboard_alone(browser, server):
    browser.get(server.url + "/")
    link = _tab_to(browser, lambda e: e.get_attribute("href") == server.url + "/guide")
    link.send_keys(Keys.ENTER)
    _heading(browser, "Is anyone in danger right now?")
    _screenshot(browser, "guide-step.png")
    # Radio buttons: Tab reaches the group, the arrow keys move within it, Space chooses.
    radio = _tab_to(browser, lambda e: e.get_attribute("type") == "radio")
    radio.send_keys(Keys.ARROW_DOWN)
    assert browser.switch_to.active_element.get_attribute("value") == "danger-no"
    _tab_to(browser, lambda e: e.tag_name == "button").send_keys(Keys.ENTER)

    _heading(browser, "Where does the person live or get care?")
    field = _tab_to(browser, lambda e: e.get_attribute("id") == "place")
    field.send_keys("Leeds", Keys.ENTER)

    _heading(browser, "What is happening?")
    assert "place=E08000035" in browser.current_url
    radio = _tab_to(browser, lambda e: e.get_attribute("type") == "radio")
    radio.send_keys(Keys.SPACE)
    assert browser.switch_to.active_element.get_attribute("value") == "what-abuse"
    _tab_to(browser, lambda e: e.tag_name == "button").send_keys(Keys.ENTER)

    _heading(browser, "What to do: abuse")
    assert "/guide/answer" in browser.current_url
    text = _text(browser)
    assert "What to do now" in text and "Leeds City Council" in text
    _screenshot(browser, "answer.png")


@pytest.fixture(scope="module")
def registers(tmp_path_factory):
    """A server whose store holds the real CQC API records (Oldham, 2025), and a registered
    care home in them whose provider's record is there too, both with phone and website (such
    a provider is a company, so the picture names no one)."""
    if not API_RECORDS.is_dir():
        pytest.skip(f"public data not present at {API_RECORDS}")
    from fixtures.api.live_server import LiveServer

    home = None
    for path in sorted((API_RECORDS / "location_details").glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        provider = API_RECORDS / "provider_details" / f"provider_{record.get('providerId')}.json"
        if record.get("careHome") == "Y" and record.get("registrationStatus") == "Registered" and provider.exists() \
                and record.get("mainPhoneNumber") and record.get("website") \
                and all(json.loads(provider.read_text(encoding="utf-8")).get(k) for k in ("mainPhoneNumber", "website")):
            home = record
            break
    assert home is not None
    store = tmp_path_factory.mktemp("registers") / "caregraph.oxigraph"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CAREGRAPH_")}
    done = subprocess.run([sys.executable, "-m", "caregraph.cli", "--store", str(store), "import", "cqc-api",
                           str(API_RECORDS)], env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    live = LiveServer(store=store)
    yield live, home
    live.stop()


def test_an_answer_for_a_real_care_home_names_its_bodies_with_their_phone_and_website(browser, registers):
    from caregraph.contacts import phone_display, phone_iri

    live, home = registers
    browser.get(live.url + "/")
    browser.find_element(By.ID, "q").send_keys(QUESTION)
    place = browser.find_element(By.ID, "place")
    place.send_keys(home["locationId"])
    place.submit()
    _heading(browser, "Who is responsible: " + QUESTION)
    text = _text(browser)
    assert home["name"] in text and "Oldham Metropolitan Borough Council" in text
    assert phone_display(phone_iri(home["mainPhoneNumber"])) in text
    calls = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "main a[href^='tel:']")]
    assert phone_iri(home["mainPhoneNumber"]) in calls and len(calls) >= 2   # the home and its provider
    sites = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "ol.todo a[href^='https:']")]
    assert "https://www.gov.uk/find-local-council/oldham" in sites
    # The picture starts at the place, so it shows the steps with the bodies' numbers and websites.
    browser.execute_script("document.querySelector('main p strong').scrollIntoView()")
    _screenshot(browser, "answer-care-home.png")
    bad = _serious_violations(browser)
    assert not bad, bad


def test_an_actor_page_draws_its_chain_to_parliament(browser, server):
    browser.get(server.url + "/id/actor/council-social-services")
    chains = browser.find_element(By.CSS_SELECTOR, "ol.chains")
    assert "Parliament" in chains.text
    if shutil.which("dot"):
        assert browser.find_elements(By.CSS_SELECTOR, "figure.diagram svg")
    _screenshot(browser, "actor.png")


# One URL for each page template.
PAGES = {
    "home.html": "/",
    "guide.html": "/guide/what",
    "answer.html": "/ask?q=" + QUESTION.replace(" ", "+"),
    "answer.html (guided)": "/guide/answer?problem=complaint-council&place=Leeds&alert=danger-yes",
    "actor.html": "/id/actor/council-social-services",
    "actors.html": "/pages/actors",
    "duty.html": "/id/duty/ca-s42-enquiry",
    "duties.html": "/pages/duties",
    "route.html": "/id/route/unsafe-care-home",
    "routes.html": "/pages/routes",
    "alignment.html": "/pages/alignment",
    "council.html": "/pages/councils/Leeds",
    "resource.html": "/id/theme/safeguarding",
    "message.html": "/guide/nowhere",
    "sparql.html": "/sparql",
    "docs.html": "/docs",
}


AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


@pytest.mark.parametrize("template", PAGES)
def test_no_serious_or_critical_accessibility_violation(browser, server, template):
    browser.get(server.url + PAGES[template])
    assert _heading(browser)
    bad = _serious_violations(browser)
    assert not bad, bad


def _serious_violations(browser) -> str:
    """axe-core's serious and critical violations on the page open in `browser`, as its report."""
    axe = axe_module.Axe(browser)
    axe.inject()
    # The WCAG levels this copy of axe-core knows (older copies stop at WCAG 2.1).
    known = set(browser.execute_script("return axe.getRules().flatMap(rule => rule.tags)"))
    tags = [t for t in AXE_TAGS if t in known]
    assert {"wcag2a", "wcag2aa"} <= set(tags)
    results = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(done).catch(error => done({error: String(error)}));", tags)
    assert "error" not in results, results.get("error")
    assert results["passes"], "axe ran no checks"
    bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    return axe.report(bad) if bad else ""


@pytest.mark.parametrize("path", ["/", "/guide/what", PAGES["answer.html"], PAGES["answer.html (guided)"],
                                  "/id/actor/council-social-services", "/id/route/unsafe-care-home"])
def test_a_phone_width_screen_needs_no_sideways_scrolling(browser, server, path):
    # 320 CSS pixels wide: a small phone, or a 1280-pixel screen at 400% zoom (WCAG 1.4.10 reflow).
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 320, "height": 800, "deviceScaleFactor": 1, "mobile": True})
    try:
        browser.get(server.url + path)
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 321, f"{path} is {width} CSS pixels wide"  # one pixel of sub-pixel rounding
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_focused_element_is_visibly_outlined(browser, server):
    browser.get(server.url + "/guide/danger")
    radio = _tab_to(browser, lambda e: e.get_attribute("type") == "radio")
    assert radio.value_of_css_property("outline-style") != "none"
    # The first Tab on a page reaches the skip link, which shows itself when focused.
    browser.get(server.url + "/")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.TAB)
    skip = browser.switch_to.active_element
    assert skip.get_attribute("class") == "skip" and skip.get_attribute("href").endswith("#main")
    assert skip.location["x"] >= 0 and skip.size["width"] > 0


# Per answer card, the holders named as accountable or responsible and the law's links.
_CARDS = """
return Array.from(document.querySelectorAll('section.answer')).slice(0, 3).map(card => {
  const holders = []; let role = '';
  for (const node of card.querySelector('p').childNodes) {
    if (node.nodeType === Node.TEXT_NODE) {
      const said = node.textContent.match(/(Accountable|Responsible|Consulted|Informed):/g);
      if (said) role = said[said.length - 1];
    } else if (node.tagName === 'A' && /^(Accountable|Responsible):$/.test(role)) {
      holders.push(node.getAttribute('href'));
    }
  }
  const laws = Array.from(card.querySelectorAll('a[href^="https://www.legislation.gov.uk/"]')).map(a => a.href);
  return {holders, laws};
});
"""


def test_the_competency_questions_typed_into_the_home_page_find_their_body_and_law(browser, server):
    """Every competency question the answers get right, typed into the question box (with its
    date where it has one) and submitted, shows the expected body and its law in the top three."""
    import json

    from conftest import FIXTURES

    questions = [q for q in json.loads((FIXTURES / "competency.json").read_text()) if not q["known_miss"]]
    missed = []
    for case in questions:
        browser.get(server.url + "/")
        browser.find_element(By.ID, "q").send_keys(case["question"])
        if case["as_of"]:
            browser.execute_script("document.getElementById('as_of').value = arguments[0]", case["as_of"])
        browser.find_element(By.ID, "q").submit()
        _heading(browser, "Who is responsible: " + case["question"][:80])
        law = case["legal_basis"].replace("http://www.legislation.gov.uk/id/", "https://www.legislation.gov.uk/")
        holder = "/id/actor/" + case["holder"]
        if not any(holder in card["holders"] and law in card["laws"] for card in browser.execute_script(_CARDS)):
            missed.append(case["question"])
    assert not missed, missed
