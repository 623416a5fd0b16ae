"""The offline field kit in Chromium with the network REALLY cut (issue 14, "Done when" 1 and 4).

The browser goes through tests/browser/netcut.py, a loopback proxy the test switches
off, plus ``set_offline(True)``: the service worker and Background Sync cannot reach the
server either. A persistent profile (user-data-dir) lets the test close the browser and
open it again on the same "tablet".
"""

import hashlib
import json
import re
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal.accounts.models import User
from portal.borrowers.models import Borrower
from portal.extensions import db
from portal.fieldkit.entries import entry_hash
from portal.fieldkit.models import FieldEntry
from portal.loans.models import LoanStatus
from portal.services.models import ServiceRequest
from portal.services.operations import ensure_catalogue
from portal.visits import operations as visit_operations
from portal.visits import queries as visit_queries
from portal.visits.models import Visit, VisitSignature
from portal.visits.risk import RiskLevel
from tests.browser.fixtures import ARTIFACTS, CHROMIUM_ARGS, _chromium_path
from tests.browser.netcut import NetCut
from tests.browser.pages import sign
from tests.factories import make_borrower, make_loan

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
# What a cut network makes the browser log; anything else on the console fails the test.
NETWORK_NOISE = re.compile(
    r"ERR_(INTERNET_DISCONNECTED|PROXY_CONNECTION_FAILED|CONNECTION_REFUSED|EMPTY_RESPONSE|CONNECTION_CLOSED|CONNECTION_RESET|FAILED)|Failed to fetch|Failed to load resource"
)


@pytest.fixture
def netcut(live_server):
    proxy = NetCut(live_server)
    yield proxy
    proxy.cut()


class Tablet:
    """One Chromium profile on disk, opened and closed like a tablet's browser."""

    def __init__(self, browser, live_server, netcut, profile: Path):
        self.browser_type = browser.browser_type
        self.base = live_server
        self.netcut = netcut
        self.profile = profile
        self.context = None
        self.page = None
        self.errors: list[str] = []

    def open(self, offline: bool = False):
        self.context = self.browser_type.launch_persistent_context(
            str(self.profile),
            executable_path=_chromium_path(),
            headless=True,
            args=[*CHROMIUM_ARGS, "--proxy-bypass-list=<-loopback>"],
            proxy={"server": self.netcut.address},
            viewport=TABLET,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            service_workers="allow",
        )
        self.context.set_default_timeout(30_000)  # a busy two-core CI machine
        if offline:
            self.context.set_offline(True)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        return self.page

    def _console(self, message):
        if message.type == "error" and not NETWORK_NOISE.search(message.text):
            self.errors.append(message.text)

    def close(self):
        if self.context is not None:
            self.context.close()
            self.context = None

    def offline(self):
        self.netcut.cut()
        self.context.set_offline(True)

    def online(self):
        self.netcut.restore()
        self.context.set_offline(False)

    def go(self, path: str):
        self.page.goto(self.base + path)

    def login(self, username: str, password: str = "portal-demo"):
        self.go("/login")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("input[type=submit]")
        self.page.wait_for_url(self.base + "/")

    def shot(self, name: str):
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"test_field_kit-{name}.png"), full_page=True)

    def until(self, expression: str, seconds: float = 15):
        """Poll a JS expression (wait_for_function would need eval, which the CSP forbids)."""
        deadline = time.monotonic() + seconds
        while not self.page.evaluate(expression):
            assert time.monotonic() < deadline, f"still false: {expression}"
            self.page.wait_for_timeout(100)


@pytest.fixture
def tablet(browser, live_server, netcut, tmp_path):
    device = Tablet(browser, live_server, netcut, tmp_path / "profile")
    yield device
    device.close()


def _three_borrowers(app, world) -> list[tuple[int, str]]:
    """The World's own borrower and two more of the officer's, each with an active loan."""
    with app.app_context():
        ensure_catalogue()  # the service kinds a ticked need becomes a request of
        officer = db.session.get(User, world.officer.id)
        ids = [world.own_borrower.id]
        for _ in range(2):
            borrower = make_borrower(officer)
            make_loan(borrower, LoanStatus.ACTIVE)
            ids.append(borrower.id)
        db.session.commit()
        return [(b, db.session.get(Borrower, b).full_name) for b in ids]


def _plan(tablet: Tablet, borrower_ids):
    page = tablet.page
    tablet.go("/field/plan")
    for box in page.query_selector_all("input[name=borrower_ids]"):
        wanted = int(box.get_attribute("value")) in borrower_ids
        if box.is_checked() != wanted:
            box.click()
    page.click("form[data-testid=plan-form] button[type=submit]")
    page.wait_for_load_state()


def _prepare(tablet: Tablet, count: int):
    page = tablet.page
    tablet.go("/field")
    page.click("button[data-field-prepare]")
    page.wait_for_selector("[data-field-status] .alert-success")
    assert page.locator("[data-testid=kit-borrowers] a").count() == count
    # The worker is active and has kept the static files and both shells.
    # (The page that was loading while the worker first activated may stay uncontrolled;
    # the next navigation goes through the worker, which is what offline needs.)
    try:
        tablet.until(
            "navigator.serviceWorker.getRegistration()"
            ".then((r) => !!(r && r.active && r.active.state === 'activated'))",
            30,
        )
    except AssertionError:
        state = page.evaluate(
            "navigator.serviceWorker.getRegistration().then((r) => r && "
            "[r.installing && r.installing.state, r.waiting && r.waiting.state,"
            " r.active && r.active.state])"
        )
        raise AssertionError(f"no controlling worker: {state}") from None
    tablet.until("caches.open('portal-shells').then((c) => c.keys()).then((k) => k.length === 2)")


def _choose(page, name: str, value: str):
    radio = page.get_attribute(f"input[name={name}][value='{value}']", "id")
    page.click(f"label[for='{radio}']")


def _sign(tablet: Tablet):
    sign(tablet.page)


# The three visits: a green one, a red one (overdue and business suspended), and one
# asking for a service (a service request follows).
ANSWERS = [
    {
        "business_state": "normal",
        "revenue_trend": "stable",
        "funds_use": "as_contracted",
        "repayment_status": "on_time",
        "note": "猪舍干净，存栏约120头。",
    },
    {
        "business_state": "suspended",
        "revenue_trend": "falling",
        "funds_use": "diverted",
        "repayment_status": "overdue",
        "note": '养殖场已停业，"资金"被挪用。',
    },
    {
        "business_state": "growing",
        "revenue_trend": "rising",
        "funds_use": "as_contracted",
        "repayment_status": "on_time",
        "services": "technique_training",
        "note": "想学习母猪产后护理 🐖",
    },
]


def _visit(tablet: Tablet, borrower_id: int, name: str, answers: dict):
    page = tablet.page
    page.click(f"[data-testid=kit-borrowers] a[data-borrower-id='{borrower_id}']")
    page.wait_for_selector("body[data-visit-ready='1']")
    assert page.inner_text("[data-fact=name]") == name
    assert "购买仔猪和饲料" in page.inner_text("[data-fact=loan]")
    assert page.input_value("input[name=visited_at]")  # the tablet's time, as online
    assert page.input_value("input[name=place]")  # the borrower's address, as online
    for field in ("business_state", "revenue_trend", "funds_use", "repayment_status"):
        _choose(page, field, answers[field])
    _choose(page, "guarantor_status", "normal")
    _choose(page, "collateral_status", "intact")
    _choose(page, "satisfaction", "4")
    if "services" in answers:
        page.check(f"input[name=services_needed][value={answers['services']}]")
    page.fill("textarea[name=officer_observations]", answers["note"])
    _sign(tablet)
    tablet.shot(f"visit-{borrower_id}-signed-offline")
    page.click("form[data-testid=visit-form] button[type=submit]")
    page.wait_for_url(re.compile(r".*/field#saved$"))
    page.wait_for_selector("body[data-field-rendered]")


def _outbox_states(tablet: Tablet) -> list[str]:
    return tablet.page.eval_on_selector_all(
        "[data-testid=outbox] li[data-client-id]", "items => items.map(i => i.dataset.state)"
    )


def test_a_day_offline_three_visits_sent_exactly_once(app, world, tablet, netcut):
    borrowers = _three_borrowers(app, world)
    page = tablet.open()
    tablet.login("officer")
    _plan(tablet, [b for b, _ in borrowers])
    _prepare(tablet, 3)
    assert netcut.requests, "the browser did not go through the proxy"
    tablet.shot("1-prepared")

    tablet.offline()
    page.reload()
    page.wait_for_selector("body[data-field-rendered]")
    assert page.locator("[data-testid=kit-borrowers] a").count() == 3
    forwarded = len(netcut.requests)
    for (borrower_id, name), answers in zip(borrowers, ANSWERS, strict=True):
        _visit(tablet, borrower_id, name, answers)
    tablet.shot("2-three-waiting")
    assert _outbox_states(tablet) == ["waiting"] * 3
    assert len(netcut.requests) == forwarded  # nothing reached the server meanwhile

    # The browser is closed and opened again on the same profile, still offline.
    tablet.close()
    page = tablet.open(offline=True)
    tablet.go("/field")
    page.wait_for_selector("body[data-field-rendered]")
    assert _outbox_states(tablet) == ["waiting"] * 3
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0

    # Back online: the page sends itself (on `online`); the session may have ended with
    # the browser, and then logging in again sends them on the next page.
    tablet.online()
    deadline = time.monotonic() + 20
    while _outbox_states(tablet) != ["sent"] * 3:
        if time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    if _outbox_states(tablet) != ["sent"] * 3:
        problems = page.eval_on_selector_all(
            "[data-testid=outbox] li[data-client-id]", "items => items.map(i => i.dataset.problem)"
        )
        assert problems == ["login"] * 3  # "log in again to send"
        tablet.login("officer")
        tablet.go("/field")
        tablet.until(
            "document.querySelectorAll('[data-testid=outbox] li[data-state=sent]').length === 3"
        )
    assert _outbox_states(tablet) == ["sent"] * 3
    tablet.shot("3-sent")

    # A second "send now" changes nothing on the server.
    page.click("button[data-field-send]")
    page.wait_for_selector("[data-field-status] .alert-success")

    with app.app_context():
        visits = db.session.scalars(sa.select(Visit).order_by(Visit.id)).all()
        assert sorted(v.borrower_id for v in visits) == sorted(b for b, _ in borrowers)
        entries = db.session.scalars(sa.select(FieldEntry)).all()
        assert len(entries) == 3 and {e.visit_id for e in entries} == {v.id for v in visits}
        by_borrower = {v.borrower_id: v for v in visits}
        for (borrower_id, _), answers in zip(borrowers, ANSWERS, strict=True):
            visit = by_borrower[borrower_id]
            assert db.session.get(VisitSignature, visit.id).png.startswith(b"\x89PNG")
            assert visit_operations.verify(visit)
            assert visit.officer_observations == answers["note"]
        green, red, service = (by_borrower[b] for b, _ in borrowers)
        assert green.risk_level == RiskLevel.GREEN
        assert red.risk_level == RiskLevel.RED
        assert visit_queries.warning_of(red.id) is not None
        assert visit_queries.warning_of(green.id) is None
        requests = db.session.scalars(
            sa.select(ServiceRequest).where(ServiceRequest.source_visit_id == service.id)
        ).all()
        assert len(requests) == 1
    # Each link of the outbox opens the visit it became.
    links = page.eval_on_selector_all(
        "[data-testid=outbox] li[data-state=sent] a", "links => links.map(a => a.pathname)"
    )
    assert sorted(links) == sorted(f"/visits/{v.id}" for v in visits)
    assert tablet.errors == []


def _logout(page):
    """Tap "log out" in the menu (collapsed at tablet width)."""
    button = page.locator("form[data-field-logout] button[type=submit]")
    if not button.is_visible():
        page.click(".navbar-toggler")
        # Opened, not still opening: a tap during the animation lands on the menu itself.
        page.wait_for_selector(".navbar-collapse.show:not(.collapsing)")
    button.click()


def _db_names(page) -> list[str]:
    return page.evaluate("indexedDB.databases().then((all) => all.map((d) => d.name))")


def _other_officers_borrower(app, world) -> tuple[int, str]:
    with app.app_context():
        return world.own_borrower.id, db.session.get(Borrower, world.own_borrower.id).full_name


def test_another_officer_on_the_same_tablet_cannot_read_the_first_ones_data(
    app, world, tablet, netcut
):
    borrower_id, name = _other_officers_borrower(app, world)
    page = tablet.open()
    tablet.login("officer")
    _plan(tablet, [borrower_id])
    _prepare(tablet, 1)
    tablet.offline()
    page.reload()
    page.wait_for_selector("body[data-field-rendered]")
    _visit(tablet, borrower_id, name, ANSWERS[0])
    assert _outbox_states(tablet) == ["waiting"]

    # Online again, but the entries' address does not answer: the entry stays waiting.
    netcut.refuse("/field/entries")
    tablet.online()
    tablet.go("/field")
    page.wait_for_selector("body[data-field-rendered]")
    assert _outbox_states(tablet) == ["waiting"]

    # Logout warns (and "cancel" keeps the officer logged in) ...
    dialogs = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    _logout(page)
    deadline = time.monotonic() + 10  # the dialog's event reaches the test on its own
    while not dialogs:
        assert time.monotonic() < deadline, "no question before logging out"
        page.wait_for_timeout(100)
    assert "1" in dialogs[0]
    assert page.url.endswith("/field")
    # ... and "OK" logs out, keeps the entry, and the next page says so.
    page.once("dialog", lambda dialog: dialog.accept())
    _logout(page)
    page.wait_for_url(re.compile(r".*/login$"))
    page.wait_for_selector("[data-testid=field-left-notice]")
    tablet.shot("4-logged-out-with-waiting")
    first_db = f"portal-field-{world.officer.id}"
    assert first_db in _db_names(page)

    # Another officer of the same branch logs in on the same profile.
    with app.app_context():
        from tests.factories import make_user

        first = db.session.get(User, world.officer.id)
        make_user("secondofficer", first.role, first.branch)
        db.session.commit()
        second_id = db.session.scalar(sa.select(User.id).where(User.username == "secondofficer"))
    tablet.login("secondofficer")
    tablet.go("/field")
    page.wait_for_selector("body[data-field-rendered]")
    assert name not in page.inner_text("main")
    assert page.locator("[data-testid=kit-borrowers] a").count() == 0
    assert _outbox_states(tablet) == []
    assert page.evaluate("window.PortalFieldSync.user") == str(second_id)
    # This officer prepares (no plan today: nothing to store, the shells are refreshed).
    page.click("button[data-field-prepare]")
    page.wait_for_selector("[data-field-status] .alert-warning")
    tablet.shot("5-second-officer")
    # Offline, the first officer's borrower is not in this officer's kit either.
    tablet.offline()
    tablet.go(f"/field/visit#borrower={borrower_id}")
    page.wait_for_selector("[data-testid=visit-missing]:not([hidden])")
    assert name not in page.inner_text("main")
    # The first officer's outbox is still on the tablet, untouched.
    waiting = page.evaluate(
        f"""idb.openDB('{first_db}').then(async (db) => {{
            const all = await db.getAll('outbox'); db.close();
            return all.map((e) => e.state); }})"""
    )
    assert waiting == ["waiting"]

    # Back online, the first officer logs in again: the entry is sent, once.
    netcut.allow("/field/entries")
    tablet.online()
    tablet.go("/")
    _logout(page)
    page.wait_for_url(re.compile(r".*/login$"))
    tablet.login("officer")
    tablet.go("/field")
    tablet.until("document.querySelector('[data-testid=outbox] li[data-state=sent]') !== null")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 1
    # Logging out with nothing waiting removes the stored borrowers (not the outbox).
    _logout(page)
    page.wait_for_url(re.compile(r".*/login$"))
    counts = f"""idb.openDB('{first_db}').then(async (db) => {{
        const out = [await db.count('borrowers'), await db.count('outbox')];
        db.close(); return out; }})"""
    deadline = time.monotonic() + 10
    while page.evaluate(counts) != [0, 1]:
        assert time.monotonic() < deadline, page.evaluate(counts)
        page.wait_for_timeout(100)
    assert not page.is_visible("[data-testid=field-left-notice]")
    assert tablet.errors == []


HASH_TEXT = '借款人说："资金\\已到位"\n第二行\t制表 😀 — end'


def test_javascript_and_python_compute_the_same_content_hash(page):
    page.goto(page.base_url + "/login")
    entry = {
        "client_id": "3f1c2a9e-7b6d-4c1e-9a8f-0d2b4e6f8a1c",
        "borrower_id": 31,
        "plan_id": 12,
        "opened_at": "2026-11-26T03:01:12Z",
        "signed_at": "2026-11-26T03:12:40Z",
        "fields": {
            "officer_observations": [HASH_TEXT],
            "place": ['李庄村 "三组"'],
            "risk_signals": ["market_collapse", "illness"],
            "visited_at": ["2026-11-26T11:05"],
            "signature": ["data:image/png;base64,iVBORw0KGgo="],
        },
    }
    js = page.evaluate("(entry) => window.PortalField.contentHash(entry)", entry)
    python = entry_hash(entry)
    assert js == python
    canonical = json.dumps(
        {k: entry[k] for k in ("borrower_id", "client_id", "fields", "signed_at")},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    assert js == hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert (
        page.evaluate(
            "(entry) => window.PortalField.canonicalJson(entry)",
            {k: entry[k] for k in ("borrower_id", "client_id", "fields", "signed_at")},
        )
        == canonical
    )


def _worker_version(page) -> str:
    return page.evaluate(
        """() => new Promise((resolve) => {
            navigator.serviceWorker.addEventListener('message', (event) => {
                if (event.data && event.data.type === 'portal:version') resolve(event.data.version);
            });
            navigator.serviceWorker.controller.postMessage({type: 'portal:version'});
        })"""
    )


def test_a_new_worker_keeps_the_outbox_and_the_drafts(app, world, tablet, netcut, monkeypatch):
    from portal.offline import views as offline_views

    borrower_id, name = _other_officers_borrower(app, world)
    with app.app_context():
        officer = db.session.get(User, world.officer.id)
        second = make_borrower(officer)
        make_loan(second, LoanStatus.ACTIVE)
        db.session.commit()
        second_id = second.id
    page = tablet.open()
    tablet.login("officer")
    _plan(tablet, [borrower_id, second_id])
    _prepare(tablet, 2)
    tablet.offline()
    page.reload()
    page.wait_for_selector("body[data-field-rendered]")
    _visit(tablet, borrower_id, name, ANSWERS[0])
    # A second visit half typed: its draft stays in the browser.
    page.click(f"[data-testid=kit-borrowers] a[data-borrower-id='{second_id}']")
    page.wait_for_selector("body[data-visit-ready='1']")
    page.fill("textarea[name=officer_observations]", "还没写完的记录")
    draft_key = f"portal-draft:field-{world.officer.id}-visit-{second_id}"
    tablet.until(f"(localStorage.getItem('{draft_key}') || '').includes('还没写完')")
    old_version = _worker_version(page)

    # A new release: the worker's text changes; the server cannot take entries yet.
    netcut.refuse("/field/entries")
    tablet.online()
    monkeypatch.setattr(offline_views, "WORKER_GENERATION", offline_views.WORKER_GENERATION + 1)
    tablet.go("/field")
    page.wait_for_selector("body[data-field-rendered]")
    page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
    deadline = time.monotonic() + 30
    while _worker_version(page) == old_version:
        assert time.monotonic() < deadline, "the new worker did not take over"
        page.wait_for_timeout(200)

    assert _outbox_states(tablet) == ["waiting"]
    assert "还没写完" in page.evaluate(f"localStorage.getItem('{draft_key}')")
    # The new worker serves the field kit offline as the old one did, draft included.
    tablet.offline()
    page.reload()
    page.wait_for_selector("body[data-field-rendered]")
    assert page.locator("[data-testid=kit-borrowers] a").count() == 2
    assert _outbox_states(tablet) == ["waiting"]
    page.click(f"[data-testid=kit-borrowers] a[data-borrower-id='{second_id}']")
    page.wait_for_selector("body[data-visit-ready='1']")
    assert page.input_value("textarea[name=officer_observations]") == "还没写完的记录"
    assert tablet.errors == []


def test_a_visit_of_a_borrower_reassigned_meanwhile_is_held_and_the_outbox_says_why(
    app, world, tablet, netcut
):
    from portal.borrowers.operations import reassign
    from tests.factories import make_user

    borrower_id, name = _other_officers_borrower(app, world)
    page = tablet.open()
    tablet.login("officer")
    _plan(tablet, [borrower_id])
    _prepare(tablet, 1)
    tablet.offline()
    page.reload()
    page.wait_for_selector("body[data-field-rendered]")
    _visit(tablet, borrower_id, name, ANSWERS[1])

    # Meanwhile, at the branch, the head gives the borrower to another officer.
    with app.app_context():
        head = db.session.get(User, world.head.id)
        first = db.session.get(User, world.officer.id)
        successor = make_user("successor", first.role, first.branch)
        reassign([db.session.get(Borrower, borrower_id)], successor, "片区调整", by=head)
        db.session.commit()

    tablet.online()
    page.click("button[data-field-send]")
    page.wait_for_selector("[data-testid=outbox] li[data-state=held]")
    held = page.inner_text("[data-testid=outbox] li[data-state=held]")
    tablet.shot("6-held")
    with app.app_context():
        entry = db.session.scalars(sa.select(FieldEntry)).one()
        assert entry.visit_id is None and str(entry.reason) == "reassigned"
        assert db.session.scalar(sa.select(sa.func.count(Visit.id))) == 0
        stored = json.loads(entry.payload)
        assert stored["fields"]["signature"][0].startswith("data:image/png;base64,")
        assert entry_hash(stored) == stored["content_hash"]
    # The reason in words, as the server wrote it, is on the entry.
    answer = page.evaluate(
        f"""idb.openDB('portal-field-{world.officer.id}').then(async (db) => {{
            const [entry] = await db.getAll('outbox'); db.close(); return entry; }})"""
    )
    assert answer["reason"] == "reassigned" and answer["message"]
    assert answer["message"] in held
    assert tablet.errors == []
