"""Field benchmark: the officer's pages on an emulated slow 3G link (issue 14, Budgets).

Headless Chromium (Debian's, through Playwright) with the DevTools protocol's
``Network.emulateNetworkConditions``: 400 ms latency, 400 kbit/s down and up, against
gunicorn serving a generated company (``flask demo generate``, 200 borrowers per
officer; like the other benchmarks generated afresh whenever the generator or the
migrations changed, and analysed before measuring). The busiest officer is measured.

Each run starts a new browser context (an empty cache, the officer logged in through
the context's own request API so that no page has warmed the cache), then:

- **first visit**: the officer's month page (``/visits/month``) until its ``load``
  event, and the bytes received for it (every response, headers included: the
  DevTools ``encodedDataLength``; request bodies are not counted);
- **repeated visit**: the same page opened again in the same context (the static files
  now come from the browser's cache; the page itself is ``no-store``).

Several runs; median and p95 of each, against the issue's budgets. Writes
bench/results/field.json and prints a table with ok/OVER.

Then, when the field kit is there (``/field``, ``/field/kit``, ``/field/entries``), on a
copy of the data (the visits it sends do not change the generated company), the
officer plans a day of 20 borrowers, and in a new context per run:

- **prepare 20**: on ``/field`` (opened once before, so the service worker is
  installed), from the tap on "prepare for the field" to the kit shown as ready;
- **offline form**: the network cut (``context.set_offline``), from opening
  ``/field/visit#borrower=<id>`` to the form filled from IndexedDB
  (``body[data-visit-ready]``);
- **sync 20**: 20 signed visits in the outbox (put there through
  ``PortalField.addToOutbox``, as the form's save does), the network back, from opening
  ``/field`` to all 20 answered ``stored`` by the server (the page sends on load).

The emulated link is set on the page; the service worker's own requests (its install,
the shells' network-first) are not slowed down by it.

    python bench/field.py [--runs 7] [--kit-runs 5] [--borrowers 1000] [--months 6]
"""

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "bench"))

from web import (  # noqa: E402 - the web benchmark's data set-up and server
    CSRF,
    PASSWORD,
    database_url,
    ensure_data,
    gunicorn,
    login,
    percentile,
    pick_targets,
)

# Issue 14, "Budgets": 400 ms latency, 400 kbit/s each way.
LATENCY_MS = 400
THROUGHPUT_BYTES_PER_S = 400_000 / 8
MONTH_PAGE_BUDGETS = {
    "first visit, month page": {"seconds": 3.0, "kib": 150.0},
    "repeated visit, month page": {"seconds": 1.0},
}
FIELD_KIT_BUDGETS = {
    "prepare a day of 20 borrowers": {"seconds": 5.0},
    "open the visit form offline, kit prepared": {"seconds": 1.0},
    "sync 20 signed visits": {"seconds": 10.0},
}
BUDGETS = MONTH_PAGE_BUDGETS | FIELD_KIT_BUDGETS
DAY = 20  # borrowers in the day's plan, and visits synced
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TABLET = {"width": 768, "height": 1024}


def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(path).exists():
        raise SystemExit("Chromium not found: `make bench-field` installs Debian's chromium")
    return path


class SlowLink:
    """One page on the emulated link, counting what crosses the wire."""

    def __init__(self, page):
        self.page = page
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": LATENCY_MS,
                "downloadThroughput": THROUGHPUT_BYTES_PER_S,
                "uploadThroughput": THROUGHPUT_BYTES_PER_S,
            },
        )
        self.bytes = 0
        self.responses = 0
        self.from_cache = 0
        self.cdp.on("Network.loadingFinished", self._finished)
        self.cdp.on("Network.requestServedFromCache", self._cached)

    def _finished(self, event: dict) -> None:
        self.bytes += event["encodedDataLength"]
        self.responses += 1

    def _cached(self, _event: dict) -> None:
        self.from_cache += 1

    def reset(self) -> None:
        self.bytes = self.responses = self.from_cache = 0

    def figures(self, seconds: float) -> dict:
        return {
            "seconds": round(seconds, 3),
            "kib": round(self.bytes / 1024, 1),
            "responses": self.responses,
        }

    def visit(self, url: str) -> dict:
        """Open ``url``; seconds to its ``load`` event, KiB on the wire, requests."""
        self.bytes = self.responses = self.from_cache = 0
        started = time.perf_counter()
        response = self.page.goto(url, wait_until="load")
        wall = time.perf_counter() - started
        if response is None or response.status != 200:
            raise RuntimeError(f"{url}: {response and response.status}")
        # Navigation Timing, from the start of the navigation: the page's own HTML
        # arrived, then the end of `load` (every stylesheet, script and image).
        html_ms, load_ms = self.page.evaluate(
            "() => { const n = performance.getEntriesByType('navigation')[0];"
            " return [n.responseEnd, n.loadEventEnd]; }"
        )
        self.page.wait_for_timeout(50)  # the last loadingFinished events arrive
        return {
            "seconds": round(load_ms / 1000, 3),
            "html_seconds": round(html_ms / 1000, 3),
            "wall_seconds": round(wall, 3),
            "kib": round(self.bytes / 1024, 1),
            "responses": self.responses,
            "from_cache": self.from_cache,
        }


def log_in(context, base: str, username: str) -> None:
    """The officer's session cookie in ``context``, without loading any page in it."""
    login_page = context.request.get(base + "/login")
    token = CSRF.search(login_page.text()).group(1)
    answer = context.request.post(
        base + "/login",
        form={"username": username, "password": PASSWORD, "csrf_token": token},
        max_redirects=0,
    )
    if answer.status != 302:
        raise RuntimeError(f"login as {username} failed: {answer.status}")


def server_time_ms(base: str, officer: str, count: int = 20) -> dict:
    """The month page without the emulated link: the server's share of the figures."""
    session = login(base, officer)
    for _ in range(3):
        session.get(base + "/visits/month")
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = session.get(base + "/visits/month", headers={"Accept-Encoding": "br"})
        times.append((time.perf_counter() - started) * 1000)
        answer.raise_for_status()
    return {
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "requests": count,
    }


def measure_month_page(browser, base: str, officer: str, runs: int) -> dict:
    samples: dict[str, list[dict]] = {name: [] for name in MONTH_PAGE_BUDGETS}
    for run in range(runs + 1):  # run 0 warms gunicorn's workers and is not counted
        context = browser.new_context(viewport=TABLET, locale="zh-CN")
        try:
            log_in(context, base, officer)
            link = SlowLink(context.new_page())
            first = link.visit(base + "/visits/month")
            repeated = link.visit(base + "/visits/month")
        finally:
            context.close()
        if run:
            samples["first visit, month page"].append(first)
            samples["repeated visit, month page"].append(repeated)
            print(
                f"  run {run}: first {first['seconds']:.2f} s {first['kib']:.0f} KiB "
                f"({first['responses']} responses), repeated {repeated['seconds']:.2f} s "
                f"{repeated['kib']:.0f} KiB ({repeated['responses']} responses, "
                f"{repeated['from_cache']} from cache)",
                flush=True,
            )
    return {name: summarise(name, values) for name, values in samples.items()}


def field_kit_present(base: str, officer: str) -> bool:
    """Whether the field kit's pages and JSON answer (helpers A and B have landed)."""
    session = login(base, officer)
    answers = [session.get(base + path, allow_redirects=False) for path in ("/field", "/field/kit")]
    return all(answer.status_code == 200 for answer in answers)


def plan_day(base: str, officer: str) -> list[int]:
    """Today's plan of DAY borrowers, as the officer saves it on /field/plan."""
    session = login(base, officer)
    page = session.get(base + "/field/plan").text
    offered = [int(i) for i in re.findall(r'name="borrower_ids" value="(\d+)"', page)]
    if len(offered) < DAY:
        raise RuntimeError(f"{officer}: only {len(offered)} borrowers offered for today's plan")
    chosen = offered[:DAY]
    token = CSRF.search(page).group(1)
    answer = session.post(
        base + "/field/plan",
        data={"borrower_ids": [str(i) for i in chosen], "csrf_token": token},
        allow_redirects=False,
    )
    if answer.status_code != 302:
        raise RuntimeError(f"saving the plan failed: {answer.status_code}")
    return chosen


def visit_fields() -> dict[str, list[str]]:
    """A complete, valid, signed visit form as name -> values (the tests' own builder)."""
    sys.path.insert(0, str(ROOT))
    from tests.visits.conftest import visit_form_data

    form = visit_form_data("bench")
    form.pop("idempotency_token")
    return {
        name: value if isinstance(value, list) else [str(value)] for name, value in form.items()
    }


OUTBOX = "async () => (await PortalField.readAll(PortalFieldSync.user)).outbox"
FILL_OUTBOX = """async ([ids, fields]) => {
  const user = PortalFieldSync.user;
  const state = await PortalField.readAll(user);
  const now = new Date().toISOString().slice(0, 19) + 'Z';
  for (const id of ids) {
    await PortalField.addToOutbox(user, {borrower_id: id, plan_id: state.kit.plan.id,
      opened_at: now, signed_at: now, fields, borrower_name: '', village: ''});
  }
  return (await PortalField.readAll(user)).outbox.length;
}"""
ALL_ANSWERED = """async (count) => {
  if (!window.PortalField || !window.PortalFieldSync) return false;  // scripts still loading
  const outbox = (await PortalField.readAll(PortalFieldSync.user)).outbox;
  return outbox.length >= count && outbox.every((entry) => entry.state !== 'waiting');
}"""


def measure_field_kit(browser, base: str, officer: str, chosen: list[int], runs: int) -> dict:
    names = list(FIELD_KIT_BUDGETS)
    samples: dict[str, list[dict]] = {name: [] for name in names}
    fields = visit_fields()
    for run in range(1, runs + 1):
        context = browser.new_context(viewport=TABLET, locale="zh-CN", service_workers="allow")
        context.set_default_timeout(120_000)
        try:
            log_in(context, base, officer)
            page = context.new_page()
            link = SlowLink(page)
            link.visit(base + "/field")  # installs the service worker; not measured
            page.evaluate("async () => !!(await navigator.serviceWorker.ready).active")

            link.reset()
            started = time.perf_counter()
            page.click("[data-field-prepare]")
            page.wait_for_function(
                "() => !document.querySelector('[data-field-prepare]').disabled"
                " && !document.querySelector('[data-field-ready]').hidden"
            )
            prepare = link.figures(time.perf_counter() - started)
            kit = page.evaluate("async () => (await PortalField.readAll(PortalFieldSync.user)).kit")
            if not kit or kit.get("borrowers") != DAY:
                raise RuntimeError(f"the kit holds {kit and kit.get('borrowers')} borrowers")

            context.set_offline(True)
            started = time.perf_counter()
            page.goto(f"{base}/field/visit#borrower={chosen[0]}", wait_until="commit")
            page.wait_for_function("() => document.body.dataset.visitReady === '1'")
            offline = {"seconds": round(time.perf_counter() - started, 3), "kib": 0.0}

            count = page.evaluate(FILL_OUTBOX, [chosen, fields])
            page.close()
            context.set_offline(False)
            page = context.new_page()
            link = SlowLink(page)
            started = time.perf_counter()
            page.goto(base + "/field", wait_until="commit")
            deadline = time.monotonic() + 300
            while not page.evaluate(ALL_ANSWERED, count):  # evaluate awaits the promise
                if time.monotonic() > deadline:
                    raise RuntimeError(f"sync: not all answered: {page.evaluate(OUTBOX)}")
                time.sleep(0.05)
            sync = link.figures(time.perf_counter() - started)
            outbox = page.evaluate(OUTBOX)
            outcomes = [
                entry["state"] + (f" ({entry['reason']})" if entry.get("reason") else "")
                for entry in outbox
            ]
            sync["outcomes"] = {state: outcomes.count(state) for state in sorted(set(outcomes))}
        finally:
            context.close()
        for name, figures in zip(names, (prepare, offline, sync), strict=True):
            samples[name].append(figures)
        print(
            f"  run {run}: prepare {prepare['seconds']:.2f} s {prepare['kib']:.0f} KiB, "
            f"offline form {offline['seconds']:.2f} s, sync {sync['seconds']:.2f} s "
            f"{sync['kib']:.0f} KiB {sync['outcomes']}",
            flush=True,
        )
    return {name: summarise(name, values) for name, values in samples.items()}


def summarise(name: str, values: list[dict]) -> dict:
    seconds = [v["seconds"] for v in values]
    kib = [v["kib"] for v in values]
    html = [v["html_seconds"] for v in values if "html_seconds" in v]
    return {
        "runs": len(values),
        "median_s": round(statistics.median(seconds), 3),
        "p95_s": round(percentile(seconds, 0.95), 3),
        "median_kib": round(statistics.median(kib), 1),
        "max_kib": round(max(kib), 1),
        "median_html_s": round(statistics.median(html), 3) if html else None,
        "responses": max(v.get("responses", 0) for v in values),
        "budget": BUDGETS[name],
        "samples": values,
    }


def within_budget(row: dict) -> bool:
    """p95 time and the largest transfer within the budget."""
    budget = row["budget"]
    return row["p95_s"] <= budget["seconds"] and row["max_kib"] <= budget.get("kib", float("inf"))


def print_table(results: dict) -> None:
    print(
        f"\n{'on 400 ms / 400 kbit/s':41} {'html s':>7} {'median s':>9} {'p95 s':>7} {'KiB':>7}"
        f" {'budget':>14} {'':>5}"
    )
    for name, row in results.items():
        budget = row["budget"]
        limit = f"{budget['seconds']:.0f} s" + (
            f", {budget['kib']:.0f} KiB" if "kib" in budget else ""
        )
        verdict = "ok" if within_budget(row) else "OVER"
        html = "-" if row["median_html_s"] is None else f"{row['median_html_s']:.2f}"
        print(
            f"{name:41} {html:>7} {row['median_s']:9.2f} {row['p95_s']:7.2f}"
            f" {row['median_kib']:7.1f} {limit:>14} {verdict:>5}"
        )
    for name, budget in FIELD_KIT_BUDGETS.items():
        if name not in results:
            print(f"{name:41} not measured: no field kit here (≤ {budget['seconds']:.0f} s)")


def scratch_copy(url: str) -> str:
    """A copy of the SQLite data for the field kit's writes (the visits it syncs)."""
    source = Path(url.removeprefix("sqlite:///"))
    target = source.with_name("field-kit-scratch.sqlite3")
    for suffix in ("-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--kit-runs", type=int, default=5, help="runs of the field kit's part")
    parser.add_argument("--borrowers", type=int, default=1_000)
    parser.add_argument("--months", type=int, default=6)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2)
    args = parser.parse_args()
    url = database_url("sqlite", args.borrowers)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "FLASK_APP": "wsgi.py",
        "LOGIN_RATE_LIMIT": "10000 per minute",
        "LOGIN_ADDRESS_RATE_LIMIT": "10000 per minute",
        "LOGIN_USERNAME_RATE_LIMIT": "10000 per hour",
        "PORTAL_ENV": "development",
    }
    data = ensure_data("sqlite", url, env, args.borrowers, args.months)
    officer = pick_targets(url)["officer"]
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}")
    print(
        f"officer {officer}; {args.runs} runs on {LATENCY_MS} ms latency, "
        f"{THROUGHPUT_BYTES_PER_S * 8 / 1000:.0f} kbit/s each way",
        flush=True,
    )
    not_measured = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True
        )
        try:
            chromium_version = browser.version
            with gunicorn(env, args.workers) as base:
                results = measure_month_page(browser, base, officer, args.runs)
                server = server_time_ms(base, officer)
            kit_env = {**env, "DATABASE_URL": scratch_copy(url)}
            with gunicorn(kit_env, args.workers) as base:
                if field_kit_present(base, officer):
                    chosen = plan_day(base, officer)
                    print(f"field kit: {args.kit_runs} runs, a plan of {len(chosen)}", flush=True)
                    results |= measure_field_kit(browser, base, officer, chosen, args.kit_runs)
                else:
                    not_measured = {
                        name: {"budget": budget, "why": "no /field, /field/kit in this code"}
                        for name, budget in FIELD_KIT_BUDGETS.items()
                    }
        finally:
            browser.close()
    load_after = os.getloadavg()
    print_table(results)
    print(
        f"the month page on the server alone (no emulated link, {server['requests']} requests): "
        f"p50 {server['p50_ms']:.0f} ms, p95 {server['p95_ms']:.0f} ms"
    )
    print(f"load average after: {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "link": {"latency_ms": LATENCY_MS, "kbit_per_s": THROUGHPUT_BYTES_PER_S * 8 / 1000},
        "chromium": chromium_version,
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
        "load_average": {"before": load_before, "after": load_after},
        "workers": args.workers,
        "data": data,
        "officer": officer,
        "results": results,
        "server_alone": server,
        "not_measured": not_measured,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "field.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"\nwritten {RESULTS / 'field.json'}")
    over = [name for name, row in results.items() if not within_budget(row)]
    print("Over budget: " + ", ".join(over) if over else "Within budget.")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
