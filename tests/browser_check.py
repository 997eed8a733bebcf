#!/usr/bin/env python3
"""Checks a run's report.html and account pages in a real headless Chromium (Debian's
chromium and chromium-driver, driven through Selenium). Run by tests/browser.rs; prints one
line per check and exits non-zero on the first failure, saying what was seen.

    browser_check.py report RUN_DIR [--expect-account ID]   filters, search, sort, grouping,
                                                            the page without its script, 420 px
    browser_check.py print RUN_DIR --max-pages N            print to PDF: the pages before the
                                                            appendix, at most N

Chromium is started as the environment guide for this machine says: headless, no sandbox
(root), no background networking (the machine has no network), a fresh profile.
"""
import argparse
import base64
import io
import json
import os
import shutil
import sys
import tempfile
import time

CHROMIUM = os.environ.get("IAM_AUDITOR_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("IAM_AUDITOR_CHROMEDRIVER", "/usr/bin/chromedriver")
FIX = (
    "install Debian's chromium and chromium-driver (scripts/test.sh does, as root: "
    "apt-get install -y chromium chromium-driver), and selenium and pypdf in the venv "
    "(scripts/test.sh does)"
)


def fail(message):
    print(f"browser_check: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
except ImportError as e:
    fail(f"cannot import selenium ({e}): {FIX}")

for binary in (CHROMIUM, CHROMEDRIVER):
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        fail(f"{binary} not found: {FIX}")


def browser(width, height, script=True):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="iam-auditor-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--allow-file-access-from-files",
        f"--user-data-dir={profile}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    if not script:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.__profile = profile
    return driver


def close(driver):
    try:
        driver.quit()
    finally:
        shutil.rmtree(driver.__profile, ignore_errors=True)


def url(path):
    return "file://" + os.path.abspath(path)


def load(driver, page):
    """Opens `page` and waits until it is parsed (and its script, if any, has run): loading
    the same file again, Chromium may hand back a page still being parsed, whose rows are not
    all there yet (seen once on a loaded machine: 25 of 78 rows counted)."""
    driver.get(url(page))
    deadline = time.time() + 30
    while driver.execute_script("return document.readyState") != "complete":
        check(time.time() < deadline, f"{page}: not loaded after 30 s")
        time.sleep(0.1)


def visible_rows(driver, selector="tr[data-sev]"):
    return driver.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0]))"
        ".filter(r => r.offsetParent !== null && !r.closest('[hidden]'))"
        ".map(r => [r.dataset.sev, r.dataset.account, r.dataset.check, r.dataset.change])",
        selector,
    )


def csp_errors(driver):
    return [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]


def check(condition, message):
    if not condition:
        fail(message)


def interactive(driver, page, expect_account):
    load(driver, page)
    check(not csp_errors(driver), f"{page}: the CSP refused something: {csp_errors(driver)}")
    check(driver.execute_script("return document.documentElement.classList.contains('js')"),
          f"{page}: the inline script did not run (its hash does not match the CSP?)")
    bar = driver.find_element(By.ID, "filters")
    check(bar.is_displayed(), f"{page}: the filter bar is not shown although the script ran")
    rows = visible_rows(driver)
    check(len(rows) > 0, f"{page}: no finding rows")
    print(f"ok: {page}: script ran under the CSP, {len(rows)} finding rows, filter bar shown")

    # Severity at least high: only critical and high rows stay, and all of them do.
    Select(driver.find_element(By.ID, "f-sev")).select_by_visible_text("high")
    shown = visible_rows(driver)
    expected = [r for r in rows if r[0] in ("critical", "high")]
    check(len(shown) == len(expected) and all(r[0] in ("critical", "high") for r in shown),
          f"{page}: severity filter 'high' shows {len(shown)} rows, expected {len(expected)}")
    check(len(shown) < len(rows), f"{page}: the severity filter hid nothing (all rows are high or worse?)")
    Select(driver.find_element(By.ID, "f-sev")).select_by_index(0)
    print(f"ok: {page}: severity filter keeps {len(shown)} of {len(rows)} rows")

    # Account filter (the report only): every row shown is that account's.
    if expect_account:
        Select(driver.find_element(By.ID, "f-account")).select_by_value(expect_account)
        shown = visible_rows(driver)
        expected = [r for r in rows if r[1] == expect_account]
        check(shown and len(shown) == len(expected) and all(r[1] == expect_account for r in shown),
              f"{page}: account filter shows {len(shown)} rows, expected {len(expected)} of {expect_account}")
        Select(driver.find_element(By.ID, "f-account")).select_by_index(0)
        print(f"ok: {page}: account filter {expect_account} keeps {len(shown)} rows")

    # Status filter: new only.
    Select(driver.find_element(By.ID, "f-change")).select_by_value("persisting")
    shown = visible_rows(driver)
    check(all(r[3] == "persisting" for r in shown), f"{page}: status filter let other rows through")
    Select(driver.find_element(By.ID, "f-change")).select_by_index(0)

    # Text search: a resource name taken from the page matches its row, and nonsense nothing.
    name = driver.execute_script(
        "const r = document.querySelector('section.family tr[data-sev] td b');"
        "return r ? r.textContent : null")
    check(name, f"{page}: no resource name to search for")
    box = driver.find_element(By.ID, "f-text")
    box.send_keys(name)
    shown = visible_rows(driver)
    check(shown, f"{page}: searching for {name!r} shows nothing")
    box.clear()
    box.send_keys("zz-no-such-thing-zz")
    check(visible_rows(driver) == [], f"{page}: searching for nonsense still shows rows")
    box.clear()
    driver.execute_script("document.getElementById('f-text').dispatchEvent(new Event('input'))")
    check(len(visible_rows(driver)) == len(rows), f"{page}: clearing the search does not bring every row back")
    print(f"ok: {page}: text search finds {name!r} ({len(shown)} rows) and hides everything for nonsense")

    # Sorting: the first findings table with at least 3 rows, by its first-seen column.
    sorted_ok = driver.execute_script(
        """
        const table = Array.from(document.querySelectorAll('table.findings, table.data'))
          .find(t => t.tBodies[0] && t.tBodies[0].rows.length >= 3 && t.tHead);
        if (!table) return 'no table with 3 rows';
        const ths = table.tHead.rows[0].cells;
        const column = ths.length - 1;
        const key = () => Array.from(table.tBodies[0].rows).map(r => {
          const c = r.cells[column]; return c.dataset.sort !== undefined ? c.dataset.sort : c.textContent.trim(); });
        const cmp = (a, b) => a.localeCompare(b, undefined, {numeric: true, sensitivity: 'base'});
        ths[column].click();
        const up = key();
        if (up.some((v, i) => i > 0 && cmp(up[i - 1], v) > 0)) return 'not ascending: ' + up.slice(0, 8);
        ths[column].click();
        const down = key();
        if (down.some((v, i) => i > 0 && cmp(down[i - 1], v) < 0)) return 'not descending: ' + down.slice(0, 8);
        if (ths[column].getAttribute('aria-sort') !== 'descending') return 'aria-sort not set';
        return 'ok';
        """)
    check(sorted_ok == "ok", f"{page}: sorting failed: {sorted_ok}")
    print(f"ok: {page}: a column sorts both ways")


def grouping(driver, page):
    load(driver, page)
    families = len(driver.find_elements(By.CSS_SELECTOR, "section.family tr[data-sev]"))
    Select(driver.find_element(By.ID, "f-group")).select_by_value("account")
    view = driver.find_element(By.ID, "by-account-view")
    check(view.is_displayed(), f"{page}: the by-account view is not shown")
    check(all(not s.is_displayed() for s in driver.find_elements(By.CSS_SELECTOR, "section.family")),
          f"{page}: the by-check sections stay visible in the by-account view")
    grouped = driver.execute_script(
        "return Array.from(document.querySelectorAll('#by-account-view table')).map(t =>"
        " Array.from(new Set(Array.from(t.tBodies[0].rows).map(r => r.dataset.account))))")
    check(grouped and all(len(accounts) == 1 for accounts in grouped),
          f"{page}: a table of the by-account view mixes accounts: {grouped[:5]}")
    shown = len(visible_rows(driver))
    check(shown == families, f"{page}: by account shows {shown} rows, the by-check view has {families}")
    print(f"ok: {page}: grouped by account, {len(grouped)} accounts, {shown} rows")


def without_script(page):
    driver = browser(1440, 1000, script=False)
    try:
        load(driver, page)
        check(not driver.execute_script("return document.documentElement.classList.contains('js')"),
              f"{page}: the script ran although scripts are off")
        check(not driver.find_element(By.ID, "filters").is_displayed(),
              f"{page}: the filter bar shows without the script (it would do nothing)")
        rows = visible_rows(driver)
        check(rows, f"{page}: without the script no finding row is visible")
        arrows = driver.execute_script(
            "const th = document.querySelector('thead th');"
            "return th ? getComputedStyle(th, '::after').content : 'none'")
        check(arrows in ("none", "normal", ""), f"{page}: sort arrows shown without the script: {arrows}")
        print(f"ok: {page}: reads without the script ({len(rows)} finding rows, no filter bar, no sort arrows)")
    finally:
        close(driver)


def narrow(page):
    driver = browser(600, 900)
    try:
        # A window cannot be narrower than 500 px; the page is laid out as on a 420 px screen.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 420, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        load(driver, page)
        inner = driver.execute_script("return window.innerWidth")
        check(inner <= 420, f"{page}: the window is {inner} px wide, not 420")
        wide = driver.execute_script(
            """
            const width = document.documentElement.clientWidth;
            const out = [];
            for (const e of document.querySelectorAll('body *')) {
              const r = e.getBoundingClientRect();
              if (r.width === 0 || r.height === 0) continue;
              if (r.right > width + 1 || r.left < -1)
                out.push(e.tagName + '.' + e.className + ' ' + Math.round(r.left) + '..' + Math.round(r.right));
              if (out.length > 10) break;
            }
            const clipped = Array.from(document.querySelectorAll('.tile .n, .tile .l'))
              .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent);
            return {width, scroll: document.documentElement.scrollWidth, out, clipped};
            """)
        check(wide["scroll"] <= wide["width"],
              f"{page}: at 420 px the page scrolls sideways ({wide['scroll']} > {wide['width']}): {wide['out']}")
        check(not wide["out"], f"{page}: at 420 px these elements run off the screen: {wide['out']}")
        check(not wide["clipped"], f"{page}: at 420 px these tiles are clipped: {wide['clipped']}")
        print(f"ok: {page}: nothing wider than the {wide['width']} px screen, no tile clipped")
    finally:
        close(driver)


def report(run_dir, expect_account):
    page = os.path.join(run_dir, "report.html")
    driver = browser(1440, 1000)
    try:
        interactive(driver, page, expect_account)
        grouping(driver, page)
        chart = driver.find_element(By.CSS_SELECTOR, "#trend svg.trend-chart")
        runs = len(chart.find_elements(By.CSS_SELECTOR, "g.trend-run"))
        check(chart.is_displayed() and runs >= 2, f"{page}: the trend chart is not drawn ({runs} runs)")
        print(f"ok: {page}: the trend draws {runs} runs")
        links = driver.execute_script(
            "return Array.from(document.querySelectorAll('a[href^=\"accounts/\"]')).map(a => a.getAttribute('href'))")
        check(links, f"{page}: no link to an account page")
        target = links[0].split("#")[0]
        check(os.path.isfile(os.path.join(run_dir, target)), f"{page}: links to {target}, which is not there")
        account_page = os.path.join(run_dir, target)
        interactive(driver, account_page, None)
        check(driver.find_element(By.ID, "admins").is_displayed(), f"{account_page}: no admin table")
        print(f"ok: {len(links)} links to account pages; {target} works")
    finally:
        close(driver)
    without_script(page)
    narrow(page)
    narrow(account_page)


def printed(run_dir, max_pages):
    from pypdf import PdfReader

    page = os.path.join(run_dir, "report.html")

    def print_once():
        driver = browser(1440, 1000)
        try:
            load(driver, page)
            pdf = driver.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})
        finally:
            close(driver)
        data = base64.b64decode(pdf["data"])
        if os.environ.get("IAM_AUDITOR_KEEP_PDF"):
            with open(os.environ["IAM_AUDITOR_KEEP_PDF"], "wb") as out:
                out.write(data)
        reader = PdfReader(io.BytesIO(data))
        pages = [p.extract_text() or "" for p in reader.pages]
        start = next((i for i, text in enumerate(pages) if "Appendix: the detail" in text), None)
        return pages, start

    def first_page(pages):
        return " ".join(pages[0].split())[:300] if pages else ""

    pages, start = print_once()
    if start is None:
        # Seen once on a machine loaded by other work: Chromium printed a single page of a
        # large report. The page itself is the same file, so print it once more, and say so.
        print(f"note: {page}: the printout had {len(pages)} pages and no appendix"
              f" (first page: {first_page(pages)!r});"
              " printing again", file=sys.stderr)
        pages, start = print_once()
    check(start is not None,
          f"{page}: the printout ({len(pages)} pages) has no 'Appendix: the detail' heading;"
          f" first page: {first_page(pages)!r}")
    for needed in ("What changed", "Trend", "Summary", "Account coverage", "Who can act as admin"):
        check(any(needed in text for text in pages[:start]), f"{page}: '{needed}' is not printed before the appendix")
    check(start <= max_pages,
          f"{page}: the summary, coverage, changes and admin roster print on {start} pages, more than {max_pages}")
    print(json.dumps({"pages_before_appendix": start, "pages": len(pages)}))
    print(f"ok: {page}: prints the summary part on {start} pages (budget {max_pages}), {len(pages)} in all")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["report", "print"])
    parser.add_argument("run_dir")
    parser.add_argument("--expect-account")
    parser.add_argument("--max-pages", type=int, default=20)
    args = parser.parse_args()
    if args.what == "report":
        report(args.run_dir, args.expect_account)
    else:
        printed(args.run_dir, args.max_pages)


if __name__ == "__main__":
    main()
