"""The operator console (GET /) in headless Chromium against `sunbeam run` on
the real broker, checked by what a person reads on the page against what the
API answers: sign-in (a wrong token's 401, a viewer's 403), the events with
their counts per state, the failures with their reasons, a dry run's count, a
replay followed to the end, a connector suspended and resumed, and a deferred
event cancelled.

The engine sends SMS through the stand-in gateway (tests/support/
gateway_standin.py), which refuses some with 400 (failed at once, not retried),
and e-mail to an outbox; quiet hours around now defer every event that is not
urgent. A full-page screenshot is kept at <build>/test-artifacts/console.png
(SUNBEAM_TEST_ARTIFACTS), passing or not.

Needs Debian's chromium, chromium-driver and python3-selenium (scripts/deps
--test), run with Debian's /usr/bin/python3."""
import base64
import os
import re
import secrets
import sys
import time
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import harness  # noqa: E402
from harness import Engine, Gateway, run_tests, sms_http_connectors, wait, workdir  # noqa: E402

try:
    from selenium import webdriver
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as e:
    raise SystemExit(f"selenium is missing ({e}): install Debian's python3-selenium (scripts/deps --test) "
                     "and run this with /usr/bin/python3")

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = os.environ.get("SUNBEAM_TEST_ARTIFACTS") or os.path.join(os.getcwd(), "test-artifacts")
SEGMENTS = {  # the page's bar: each segment sums these states of the API's totals
    "sent": ("sent", "delivered", "undelivered"), "failed": ("failed",), "suppressed": ("suppressed",),
    "cancelled": ("cancelled",), "expired": ("expired",), "waiting": ("waiting", "deferred", "digest"),
}
URGENT = ["con-urgent-1", "con-urgent-2"]
DEFERRED = "con-deferred"


class ConsoleEngine(Engine):
    """The harness's engine with default quiet hours around now (Asia/Shanghai),
    so the events that are not urgent wait, deferred, for the cancel."""

    def _yaml(self):
        now = datetime.now(timezone(timedelta(hours=8)))
        window = f"{now - timedelta(hours=1):%H:%M}-{now + timedelta(hours=3):%H:%M}"
        line = "defaults: { locale: zh-CN, timezone: Asia/Shanghai }"
        text = super()._yaml()
        assert line in text, "the harness's defaults line changed: update ConsoleEngine"
        return text.replace(line, f"defaults: {{ locale: zh-CN, timezone: Asia/Shanghai, quiet_hours: \"{window}\" }}")


def notice(event_id, title, urgent):
    e = {"id": event_id, "type": "notice", "occurred_at": "2026-11-25T10:00:00+08:00", "data": {"title": title}}
    if urgent:
        e["priority"] = "urgent"
    return e


def browser():
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            raise SystemExit(f"{path} is missing: install Debian's chromium and chromium-driver (scripts/deps --test)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", "--lang=en-US"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def wait_for(driver, condition, what, timeout=20):
    """condition(driver) until truthy (its value), at most `timeout` s; a row
    not there yet, or re-rendered under our feet, is simply asked again."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.25,
                             ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(condition)
    except TimeoutException:
        raise AssertionError(f"not within {timeout} s: {what}") from None


def visible_text(driver, css):
    nodes = driver.find_elements(By.CSS_SELECTOR, css)
    return nodes[0].text if nodes and nodes[0].is_displayed() else ""


def sign_in(driver, token):
    field = driver.find_element(By.ID, "token")
    field.clear()
    field.send_keys(token)
    driver.find_element(By.CSS_SELECTOR, "#sign-in button[type=submit]").click()


def confirm(driver, what):
    wait_for(driver, expected_conditions.alert_is_present(), f"the confirmation for {what}", 5)
    driver.switch_to.alert.accept()


def page_counts(driver, event_id):
    """The counts the event's row shows in its progress legend."""
    text = driver.find_element(By.CSS_SELECTOR, f'tr[data-event="{event_id}"] td.progress').text
    return {name: int(n) for name, n in re.findall(r"\b(\w+) (\d+)\b", text) if name in SEGMENTS}


def api_counts(engine, event_id):
    status, body = engine.request("GET", "/v1/events?limit=50")
    assert status == 200, (status, body)
    event = next((e for e in body["events"] if e["event_id"] == event_id), None)
    assert event, f"{event_id} is not among the API's recent events"
    return {name: sum(event["totals"].get(k, 0) for k in keys) for name, keys in SEGMENTS.items()}


def table_rows(driver, tbody):
    return [[td.text for td in tr.find_elements(By.TAG_NAME, "td")]
            for tr in driver.find_elements(By.CSS_SELECTOR, f"#{tbody} tr")]


def connector_state(driver, name):
    return driver.find_element(By.CSS_SELECTOR, f'tr[data-connector="{name}"] .badge').text


def api_connector(engine, name):
    status, body = engine.request("GET", "/v1/connectors")
    assert status == 200, (status, body)
    return next(c for c in body["connectors"] if c["name"] == name)


def scenario(engine, gateway, driver, tokens):
    """The steps, in the order a person would take them; each returns nothing
    or raises AssertionError."""

    def a_wrong_token_is_told_401():
        driver.get(engine.api + "/")
        sign_in(driver, "not-a-token-" + secrets.token_hex(4))
        # (Before it, the page already asked to sign in: the API wants a token.)
        text = wait_for(driver, lambda d: "not accepted" in visible_text(d, "#auth-message") and
                        visible_text(d, "#auth-message"), "the wrong token's message under the header")
        print(f"  wrong token: {text!r}")
        assert "401" in text, text

    def a_viewer_is_told_it_is_not_an_operator():
        sign_in(driver, tokens["viewer"])
        text = wait_for(driver, lambda d: "403" in visible_text(d, "#auth-message") and visible_text(d, "#auth-message"),
                        "a 403 message for the viewer's token")
        print(f"  viewer's token: {text!r}")
        assert "not an operator's" in text, text

    def the_operator_signs_in():
        sign_in(driver, tokens["operator"])
        wait_for(driver, lambda d: not visible_text(d, "#auth-message") and
                 visible_text(d, "#updated").startswith("updated "), "signed in, the page updated, no message")
        print(f"  operator signed in; {visible_text(driver, '#updated')}")

    def events_show_the_apis_counts():
        for event_id in URGENT + [DEFERRED]:
            wait_for(driver, lambda d: page_counts(d, event_id) == api_counts(engine, event_id),
                     f"{event_id}'s row shows the API's counts {api_counts(engine, event_id)}")
            print(f"  {event_id}: {page_counts(driver, event_id)}")
        failed = sum(api_counts(engine, e)["failed"] for e in URGENT)
        assert failed > 0, "the gateway refused none: nothing on the page to check failures by"
        assert api_counts(engine, DEFERRED)["waiting"] > 0, "nothing deferred to cancel"
        bar = driver.find_elements(By.CSS_SELECTOR, f'tr[data-event="{URGENT[0]}"] .bar .segment.failed')
        assert bar and bar[0].is_displayed(), "no red segment in the bar of an event with failures"

    def failures_list_the_failed_with_their_reason():
        status, body = engine.request("GET", "/v1/failures?limit=100")
        assert status == 200, (status, body)
        expected = sorted((f["event_id"], f["account"], f["reason"]) for f in body["failures"])

        def shown(d):
            return sorted((r[1].split("\n")[0], r[2], r[7]) for r in table_rows(d, "failures-body"))
        wait_for(driver, lambda d: shown(d) == expected, f"the failures table shows the API's {len(expected)} failures")
        total = visible_text(driver, "#failures-total")
        print(f"  {len(expected)} failures shown, e.g. {expected[0]}; {total!r}")
        assert str(body["total"]) in total, total
        assert all("400" in reason for _e, _a, reason in expected), "a failure's reason does not say 400"

    def a_dry_run_counts_what_the_api_counts():
        field = driver.find_element(By.ID, "filter-event")
        field.clear()
        field.send_keys(URGENT[0])
        driver.find_element(By.ID, "dry-run").click()
        text = wait_for(driver, lambda d: re.search(r"(\d+) match", visible_text(d, "#dry-run-result")) and
                        visible_text(d, "#dry-run-result"), "the dry run's answer")
        status, body = engine.request("POST", "/v1/replays", '{"selector": {"event": "%s"}, "dry_run": true}' % URGENT[0])
        assert status == 200, (status, body)
        print(f"  {text!r}; the API: {body['matched']} matched")
        assert int(re.search(r"(\d+) match", text).group(1)) == body["matched"] > 0
        # The table follows the filter too: only that event's failures.
        events = {r[1].split("\n")[0] for r in table_rows(driver, "failures-body")}
        assert events == {URGENT[0]}, events

    def a_connector_is_suspended_and_resumed():
        for action, shown, suspended in (("Suspend", "suspended", True), ("Resume", "active", False)):
            button = driver.find_element(By.CSS_SELECTOR, 'tr[data-connector="sms"] button')
            assert button.text == action, f"the sms connector's button says {button.text!r}, not {action}"
            button.click()
            wait_for(driver, lambda d: connector_state(d, "sms") == shown, f"the sms connector shown {shown}")
            wait(f"the API says sms suspended={suspended}",
                 lambda: api_connector(engine, "sms")["suspended"] == suspended, timeout=20, step=0.25)
            # And it stays so after the next refresh.
            before = visible_text(driver, "#updated")
            wait_for(driver, lambda d: visible_text(d, "#updated") != before, "the next refresh", 10)
            assert connector_state(driver, "sms") == shown
            print(f"  {action}: the page shows {shown!r}; the API says suspended={suspended}")

    def a_deferred_event_is_cancelled():
        button = driver.find_element(By.CSS_SELECTOR, f'tr[data-event="{DEFERRED}"] td.cancel button')
        button.click()
        confirm(driver, f"cancelling {DEFERRED}")
        answer = wait_for(driver, lambda d: re.search(r"cancelled (\d+) \((\d+) already sent\)",
                                                      visible_text(d, f'tr[data-event="{DEFERRED}"] .answer')),
                          "the cancel's answer in the event's row", 30)
        cancelled, already_sent = int(answer.group(1)), int(answer.group(2))
        api = api_counts(engine, DEFERRED)
        print(f"  {answer.group(0)!r}; the API: {api}")
        assert cancelled == api["cancelled"] > 0 and already_sent == 0 == api["sent"], (answer.group(0), api)
        wait_for(driver, lambda d: page_counts(d, DEFERRED) == api_counts(engine, DEFERRED),
                 "the row's counts after the cancel")
        assert driver.find_element(By.CSS_SELECTOR, f'tr[data-event="{DEFERRED}"] td.cancel button').get_attribute("disabled")

    def a_replay_runs_to_the_end():
        gateway.mode(faults="")  # healed: what is replayed now goes through
        driver.find_element(By.ID, "replay").click()
        confirm(driver, "the replay")
        text = wait_for(driver, lambda d: "done" in visible_text(d, "#replay-text") and visible_text(d, "#replay-text"),
                        "the replay done on the page", 120)
        replay_id = re.search(r"Replay (\S+) done", text).group(1)
        status, body = engine.request("GET", f"/v1/replays/{replay_id}")
        assert status == 200, (status, body)
        print(f"  {text!r}; the API: {body}")
        assert f"{body['sent']} sent, {body['failed']} failed again, 0 pending, of {body['matched']} matched" in text
        assert body["sent"] == body["matched"] > 0, body

    def without_filters_every_failure_shows():
        driver.find_element(By.ID, "filter-event").clear()
        driver.find_element(By.CSS_SELECTOR, "#filters button[type=submit]").click()
        status, body = engine.request("GET", "/v1/failures?limit=100")
        assert status == 200 and body["total"] > 0, (status, body)  # the other event's were not replayed
        wait_for(driver, lambda d: len(table_rows(d, "failures-body")) == len(body["failures"]) and
                 visible_text(d, "#failures-total") == f"{body['total']} failed deliveries",
                 f"the table back to all {body['total']} failures")
        print(f"  {visible_text(driver, '#failures-total')!r}")

    def the_page_had_no_script_error():
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and e["source"] == "javascript"]
        assert not errors, errors

    return [(f.__name__.replace("_", " "), f) for f in (
        a_wrong_token_is_told_401, a_viewer_is_told_it_is_not_an_operator, the_operator_signs_in,
        events_show_the_apis_counts, failures_list_the_failed_with_their_reason, a_dry_run_counts_what_the_api_counts,
        a_connector_is_suspended_and_resumed, a_deferred_event_is_cancelled, a_replay_runs_to_the_end,
        without_filters_every_failure_shows, the_page_had_no_script_error)]


def screenshot(driver):
    """The whole page, however tall, to ARTIFACTS/console.png (Chromium's
    DevTools capture: Selenium's own stops at the window's edge)."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    path = os.path.join(ARTIFACTS, "console.png")
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print(f"  screenshot: {path}")


def main():
    wd = workdir("console")
    tokens = {role: secrets.token_hex(24) for role in ("operator", "publisher", "viewer")}
    gateway = Gateway(wd, "--faults", "400:0.3", "--seed", "5")
    engine = ConsoleEngine(wd, subscribers=40, connectors=sms_http_connectors(gateway.url), tokens=tokens)
    driver = None
    try:
        engine.start()
        events = [notice(URGENT[0], "休市安排", True), notice(URGENT[1], "系统升级", True),
                  notice(DEFERRED, "误发通知", False)]
        status, body = engine.publish(events)
        assert status == 202, (status, body)
        engine.wait_settled(URGENT, timeout=120)
        wait(f"{DEFERRED} deferred whole", lambda: (engine.status(DEFERRED) or {}).get("at_rest"), timeout=120, step=0.25)
        driver = browser()
        passed, failed = run_tests(scenario(engine, gateway, driver, tokens))
    except AssertionError as e:
        print(f"FAIL setting up: {e}")
        passed, failed = 0, 1
    finally:
        if driver:
            try:
                screenshot(driver)
            finally:
                driver.quit()
        engine.close()
        gateway.stop()
    return harness.finish(wd, passed, failed)


if __name__ == "__main__":
    sys.exit(main())
