"""The UI in real headless Chromium (Debian's `chromium`, driven by Playwright without its
own browser download): filter, pin, open the analyzer, switch language, change an alert's
status, and hostile text that stays text. A failing test keeps a screenshot and prints where.

Skips without chromium or Playwright, except in CI (DOORHUNT_CI=1), where that fails.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from doorhunt.investigate import TriageDatabase
from tests.conftest import require_tool, unavailable
from tests.investigate.fixtures import (
    HOSTILE_ARG,
    HOSTILE_NAME,
    HOSTILE_PATH,
    HOSTILE_RULE,
    Fixture,
)

pytestmark = pytest.mark.slow

WINDOW = "since=2025-05-01T08%3A00%3A00Z&until=2025-05-02T08%3A00%3A00Z"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(fixture: Fixture, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real uvicorn on a free loopback port, as `doorhunt ui` runs it."""
    import uvicorn

    from doorhunt.web import UiState, create_app

    state = UiState.open(fixture.data)
    state.triage = TriageDatabase(tmp_path_factory.mktemp("browser") / "triage.sqlite")
    state.start_refreshing()
    port = _free_port()
    config = uvicorn.Config(create_app(state, port=port), host="127.0.0.1", port=port,
                            log_level="warning", lifespan="off")  # fmt: skip
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not runner.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    runner.should_exit = True
    thread.join(timeout=30)
    state.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = require_tool("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("needs Playwright for Python (pip install playwright; no browser download)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield browser
        browser.close()


class Page:
    """A page of the UI, with what went wrong in the browser collected."""

    def __init__(self, page: Any, base: str) -> None:
        self.page = page
        self.base = base
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        # Everything comes from the server itself: the UI works with no network.
        url = str(request.url)
        if not url.startswith((self.base, "data:", "about:")):
            self.problems.append(f"a request left the server: {url}")

    def _console(self, message: Any) -> None:
        if message.type in ("error", "warning"):
            self.problems.append(f"console {message.type}: {message.text}")

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"a dialog opened: {dialog.message}")
        dialog.dismiss()

    def open(self, route: str) -> None:
        self.page.evaluate("document.querySelector('main')?.removeAttribute('data-ready')")
        self.page.goto(self.base + route)
        self.ready()

    def ready(self) -> None:
        self.page.wait_for_selector("main[data-ready=true]", timeout=20_000)

    def text(self, selector: str = "main") -> str:
        return str(self.page.inner_text(selector))

    def fits(self) -> None:
        """The page needs no horizontal scrolling at the window's width (1280 px)."""
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= self.page.viewport_size["width"], f"{width} px wide"


def _session(
    browser: Any, server: str, request: pytest.FixtureRequest, tmp_path: Path, *, csp: bool
) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-US", bypass_csp=not csp
    )
    page = Page(context.new_page(), server)
    yield page
    report = getattr(request.node, "report_call", None)
    try:
        if report is not None and report.failed:
            folder = Path(os.environ.get("DOORHUNT_SCREENSHOTS") or tmp_path)
            folder.mkdir(parents=True, exist_ok=True)
            shot = folder / f"{request.node.name}.png"
            page.page.screenshot(path=str(shot), full_page=True)
            print(f"\nscreenshot of the failure: {shot}")
        # Whatever a test did, no host-supplied text ran as script, and the browser saw no
        # error (a Content-Security-Policy violation is one).
        assert page.page.evaluate("typeof window.__pwned") == "undefined"
        assert not page.problems, page.problems
    finally:
        context.close()


@pytest.fixture
def ui(browser: Any, server: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Page]:
    yield from _session(browser, server, request, tmp_path, csp=True)


@pytest.fixture
def ui_without_csp(
    browser: Any, server: str, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Page]:
    """The browser ignores the Content-Security-Policy: what keeps hostile text inert is then
    the page's own escaping alone, which the policy would otherwise hide."""
    yield from _session(browser, server, request, tmp_path, csp=False)


def test_overview_and_keyboard(ui: Page) -> None:
    ui.open("#/overview")
    assert "Compromised hosts" in ui.text() and "web-1" in ui.text()
    ui.fits()
    # Rows take focus: the second sweep row with the arrow key, Enter opens its host.
    ui.page.locator("table.data tbody tr").first.focus()
    ui.page.keyboard.press("ArrowDown")
    ui.page.keyboard.press("Enter")
    ui.page.wait_for_function("() => location.hash === '#/hosts/db-1'")
    ui.ready()
    assert "clean" in ui.text("h1")
    ui.page.keyboard.press("g")
    ui.page.keyboard.press("t")
    ui.page.wait_for_selector("main[data-page=timeline][data-ready=true]")
    ui.page.keyboard.press("/")
    assert ui.page.evaluate("document.activeElement.id") == "query"
    ui.page.keyboard.press("Escape")
    ui.page.keyboard.press("?")
    assert ui.page.locator("dialog[open]").is_visible()
    ui.page.keyboard.press("Escape")
    assert not ui.page.locator("dialog[open]").count()
    # A histogram bar, by keyboard: Enter narrows the timeline to its time.
    ui.open("#/overview")
    bar = ui.page.locator("svg.histogram g.bucket").first
    bar.focus()
    ui.page.keyboard.press("ArrowRight")
    ui.page.keyboard.press("Enter")
    ui.page.wait_for_function("() => location.hash.startsWith('#/timeline?since=')")
    ui.ready()
    assert int(ui.text("#total").split()[0].replace(",", "")) > 0


def test_timeline_filter_pin_flyout_and_correlation(ui: Page) -> None:
    ui.open(f"#/timeline?{WINDOW}")
    ui.fits()
    # event.category, several at once.
    ui.page.check("input[name=category][value=file]")
    ui.page.wait_for_function("() => location.hash.includes('category=file')")
    ui.ready()
    ui.page.check("input[name=category][value=network]")
    ui.page.wait_for_function("() => location.hash.includes('category=network')")
    ui.ready()
    shown = set(ui.page.locator("table.data tbody td:nth-child(4)").all_inner_texts())
    assert shown == {"file", "network"}, shown
    # The query bar, field:value.
    ui.open(f"#/timeline?{WINDOW}")
    query = ui.page.locator("#query")
    query.fill("process.name:curl")
    query.press("Enter")
    ui.page.wait_for_function("() => location.hash.includes('process.name')")
    ui.ready()
    rows = ui.page.locator("table.data tbody tr")
    assert rows.count() == 4
    assert set(ui.page.locator("table.data tbody td:nth-child(7)").all_inner_texts()) == {"curl"}
    assert "4 events" in ui.text("#total")
    # The column picker: a field outside the listed ones, read from the documents.
    ui.page.click("#column-picker")
    ui.page.fill("#custom-column", "process.args")
    ui.page.click("dialog button.primary")
    ui.page.wait_for_function("() => location.hash.includes('cols=')")
    ui.ready()
    assert "process.args" in ui.text("table.data thead")
    assert "/dev/shm/kdmtmpflush" in ui.text("table.data tbody")
    # Sorting: a header is a button; the pid column, ascending then descending.
    ui.page.click("table.data thead button:has-text('process.pid')")
    ui.page.wait_for_function("() => location.hash.includes('sort=process.pid')")
    ui.ready()
    assert ui.page.get_attribute("th:has(button:has-text('process.pid'))", "aria-sort")
    # Pin with the keyboard, then find it among the pinned.
    rows.first.focus()
    ui.page.keyboard.press("p")
    ui.page.wait_for_selector("table.data tbody tr:first-child button.pin[aria-pressed=true]")
    ui.page.click("#tab-pinned")
    ui.page.wait_for_function("() => location.hash.includes('tab=pinned')")
    ui.ready()
    assert "curl" in ui.text() and ui.page.locator("table.data tbody tr").count() == 1
    # A note on the investigation.
    ui.page.click("#tab-notes")
    ui.page.wait_for_function("() => location.hash.includes('tab=notes')")
    ui.ready()
    ui.page.fill("#note-text", "curl fetched the implant")
    ui.page.click("#add-note")
    ui.page.wait_for_function(
        "() => document.querySelector('#notes').textContent.includes('implant')"
    )
    # The flyout: every field, filter out one value; Escape closes it and gives focus back.
    ui.page.click("#tab-events")
    ui.ready()
    ui.page.locator("table.data tbody tr").first.focus()
    ui.page.keyboard.press("Enter")
    ui.page.wait_for_selector("#flyout table.fields")
    assert "process.args" in ui.text("#flyout")
    ui.page.keyboard.press("Escape")
    assert ui.page.locator("#flyout").is_hidden()
    assert ui.page.evaluate("document.activeElement.tagName") == "TR"
    ui.page.keyboard.press("Enter")
    ui.page.wait_for_selector("#flyout table.fields")
    ui.page.click("#flyout button[aria-label='Filter out this value event.action']")
    ui.page.wait_for_function("() => decodeURIComponent(location.hash).includes('-event.action')")
    ui.ready()
    assert ui.page.locator("table.data tbody tr").count() == 3
    # EQL in the same bar.
    ui.page.fill("#query", "network where destination.port == 443")
    ui.page.press("#query", "Enter")
    ui.page.wait_for_function("() => location.hash.includes('443')")
    ui.ready()
    assert "EQL" in ui.text(".kind") and "2 events" in ui.text("#total")
    # Correlation around the filter being attached: file and network events within 5 s.
    ui.open(f"#/timeline?q=event.action%3Afilter_attached&{WINDOW}")
    ui.page.locator("table.data tbody tr").first.focus()
    ui.page.keyboard.press("c")
    ui.page.wait_for_selector("#correlation table.data")
    ui.ready()
    ui.page.fill("#corr-seconds", "5")
    ui.page.click("#correlation button:has-text('Apply')")
    ui.page.wait_for_function("() => location.hash.includes('corr_s=5')")
    ui.ready()
    ui.page.wait_for_selector("#correlation table.data")
    correlated = ui.text("#correlation")
    assert (
        "timestomp" in correlated and "filter_attached" in correlated and "+0.000 s" in correlated
    )


def test_analyzer(ui: Page) -> None:
    ui.open("#/analyzer?entity=web1-implant&host=web-1")
    ui.page.wait_for_selector("#graph[data-rendered]")
    ui.fits()
    assert ui.page.get_attribute("#graph", "data-nodes") == "7"
    assert "kdmtmpflush" in ui.text(".details") and "critical" in ui.text(".details")
    # Events per node, by category, link into the timeline.
    assert "process: 2" in ui.text(".details") and "network: 2" in ui.text(".details")
    ui.page.focus("#graph")
    ui.page.keyboard.press("ArrowLeft")
    ui.page.wait_for_function("() => document.querySelector('#node-title').textContent === 'bash'")
    ui.page.keyboard.press("ArrowRight")
    ui.page.wait_for_function(
        "() => document.querySelector('#node-title').textContent === 'kdmtmpflush'"
    )
    ui.page.keyboard.press("ArrowRight")
    assert ui.text("#node-title") == "iptables"
    # Folding a subtree hides its processes.
    ui.page.keyboard.press("ArrowLeft")
    ui.page.keyboard.press("Enter")
    ui.page.wait_for_function("() => document.querySelector('#graph').dataset.nodes === '4'")
    # The time slider: its start shows the tree as it first was.
    ui.page.focus("#time-slider")
    ui.page.keyboard.press("Home")
    ui.page.wait_for_function("() => location.hash.includes('at=')")
    ui.ready()
    ui.page.wait_for_selector("#graph[data-rendered]")
    assert "as of" in ui.text("#tree-summary")
    # Before the reverse shell started, the tree had no shell.
    ui.open("#/analyzer?entity=web1-implant&host=web-1&at=2025-05-01T10%3A30%3A00Z")
    ui.page.wait_for_selector("#graph[data-rendered]")
    assert ui.page.get_attribute("#graph", "data-nodes") == "5"


def test_languages(ui: Page, browser: Any, server: str) -> None:
    ui.open("#/alerts")
    ui.page.select_option("#language", "ko")
    ui.page.wait_for_function("() => document.documentElement.lang === 'ko'")
    ui.ready()
    assert "경보" in ui.text("#nav") and "위험도" in ui.text()
    ui.fits()
    ui.page.reload()
    ui.ready()
    assert "타임라인" in ui.text("#nav")  # remembered
    context = browser.new_context(locale="ko-KR", viewport={"width": 1280, "height": 800})
    korean = Page(context.new_page(), server)
    korean.open("#/overview")
    assert "침해 호스트" in korean.text()  # the browser's language chose
    context.close()
    assert not korean.problems


def test_alert_status(ui: Page) -> None:
    ui.open("#/alerts?severity=high")
    ui.fits()
    line = ui.page.locator("table.data tbody tr").first
    assert "open" in line.inner_text()
    line.locator("button[data-action=acknowledged]").click()
    ui.page.click("#status-confirm")
    ui.page.wait_for_selector("table.data tbody tr:first-child .status-acknowledged")
    ui.page.locator("table.data tbody tr").first.locator("button[data-action=closed]").click()
    ui.page.click("#status-confirm")
    ui.page.wait_for_function(
        "() => document.querySelector('dialog .error-text').textContent !== ''"
    )
    assert ui.page.locator("dialog[open]").count() == 1  # closing needs a note
    expected = [p for p in ui.problems if "status of 400" in p]  # the refusal, as Chromium logs it
    assert len(expected) == 1
    ui.problems.remove(expected[0])
    ui.page.fill("#status-note", "a test host: expected")
    ui.page.click("#status-confirm")
    ui.page.wait_for_selector("table.data tbody tr:first-child .status-closed")
    ui.open("#/alerts?status=closed")
    assert "Reverse shell" in ui.text()
    # Grouped by rule; a group opens its alerts.
    ui.open("#/alerts")
    ui.page.select_option("#group-by", "rule")
    ui.page.wait_for_function("() => location.hash.includes('group=rule')")
    ui.ready()
    groups = ui.page.locator("table.data tbody tr")
    assert groups.count() == 5
    groups.filter(has_text="Executable run from shared memory").click()
    ui.page.wait_for_function("() => location.hash.includes('rule=')")
    ui.ready()
    assert ui.page.locator("table.data tbody tr").count() == 1
    # Links into the analyzer from an alert: the tree as it was when the alert fired (the
    # implant had just started: its ancestors and itself, no children yet).
    ui.page.click("table.data tbody tr a:has-text('Analyzer')")
    ui.page.wait_for_selector("#graph[data-rendered]")
    assert ui.page.get_attribute("#graph", "data-nodes") == "4"
    assert "as of 2025-05-01 10:00:20" in ui.text("#tree-summary")


def test_hostile_values_stay_text(ui_without_csp: Page) -> None:
    ui = ui_without_csp  # escaping alone must keep them inert
    pages = [
        "#/alerts",
        "#/overview",
        "#/hosts/db-1",
        f"#/timeline?host=db-1&{WINDOW}",
        f"#/users?host=db-1&{WINDOW}",
        "#/analyzer?entity=db1-evil",
    ]
    seen = ""
    for route in pages:
        ui.open(route)
        if "analyzer" in route:
            ui.page.wait_for_selector("#graph[data-rendered]")
        seen += ui.text()
        ui.page.mouse.move(400, 300)  # onmouseover, had it become markup
    ui.open(f"#/timeline?q=process.executable%3A%2Ftmp%2F*&host=db-1&{WINDOW}")
    ui.page.locator("table.data tbody tr").first.focus()
    ui.page.keyboard.press("Enter")
    ui.page.wait_for_selector("#flyout table.fields")
    seen += ui.text("#flyout")
    for hostile in (HOSTILE_NAME, HOSTILE_ARG, HOSTILE_PATH, HOSTILE_RULE):
        assert hostile in seen, hostile
    # None of it became markup, and none of it ran.
    assert (
        ui.page.evaluate(
            "document.querySelectorAll('main img, main script, main b, main svg[onload], "
            "#flyout img, #flyout script').length"
        )
        == 0
    )
    assert ui.page.evaluate("typeof window.__pwned") == "undefined"


def test_the_policy_blocks_script_that_slipped_through(ui: Page) -> None:
    """Behind the escaping, the Content-Security-Policy: markup with inline script, had it got
    into the page, does not run."""
    ui.open("#/overview")
    violations = ui.page.evaluate(
        """() => new Promise((resolve) => {
            const seen = [];
            document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective));
            const image = document.createElement('img');
            image.setAttribute('onerror', 'window.__pwned = 1');
            image.src = 'data:,nothing';
            document.body.append(image);
            const script = document.createElement('script');
            script.textContent = 'window.__pwned = 2';
            document.body.append(script);
            setTimeout(() => resolve(seen), 300);
        })"""
    )
    assert violations and all(v.startswith("script-src") for v in violations), violations
    assert ui.page.evaluate("typeof window.__pwned") == "undefined"
    refused = [p for p in ui.problems if "Content Security Policy" in p]
    assert refused  # Chromium reports each refusal on the console
    for problem in refused:
        ui.problems.remove(problem)


def test_the_analyzer_pages_children(ui: Page) -> None:
    """A parent of 250 children shows 100 and a "+150 more" node; more pages, then all."""
    ui.open("#/analyzer")
    placed = ui.page.evaluate(
        """async () => {
            const { layout } = await import('/static/js/pages/analyzer.js');
            const children = Array.from({ length: 250 }, (_, i) => `c${i}`);
            const nodes = [{ entity_id: 'p', name: 'make', pid: 1, events: {}, children },
                           ...children.map((id, i) => ({ entity_id: id, name: 'cc', pid: 2 + i,
                                                         events: { process: 2 }, children: [] }))];
            const tree = { root: 'p', focus: 'p', nodes };
            const count = (shown, collapsed) => {
                const drawn = layout(tree, shown, collapsed).nodes;
                return [drawn.filter((n) => n.data.kind === 'process').length,
                        drawn.filter((n) => n.data.kind === 'more').map((n) => n.data.label)];
            };
            return [count(new Map(), new Set()), count(new Map([['p', 200]]), new Set()),
                    count(new Map([['p', 300]]), new Set()), count(new Map(), new Set(['p']))];
        }"""
    )
    assert placed == [[101, ["+150 more"]], [201, ["+50 more"]], [251, []], [1, []]]
