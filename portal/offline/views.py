"""Routes of the field kit on the tablet: the service worker and the two pages that work
offline (docs/field-kit.md).

The pages are shells: they carry no borrower's data. What a visit needs on site comes
from ``/field/kit`` (portal/fieldkit) into the officer's own IndexedDB on the tablet, and
the shells read it there, with or without a network.
"""

import hashlib
from types import SimpleNamespace

from flask import Blueprint, make_response, render_template, url_for

from portal.access import roles_required
from portal.accounts.models import Role
from portal.core.assets import static_urls
from portal.visits import questions
from portal.visits.forms import VisitForm

bp = Blueprint("offline", __name__)

# The shells the service worker keeps for offline use (and nothing else of HTML).
SHELLS = ("/field", "/field/visit")
# Bumped when the worker's own logic changes in a way its text would not show.
WORKER_GENERATION = 1


def precache_entries() -> list[dict]:
    """Every static URL a portal page may load, as Workbox precache entries.

    The URLs are versioned (their name changes with their content, portal/core/assets.py),
    so no revision is needed, and a new release changes the worker's text: browsers
    install it.
    """
    return [{"url": url, "revision": None} for url in static_urls()]


@bp.get("/sw.js")
def service_worker():
    """The service worker, at the root so its scope is the whole portal. Public: it holds
    no personal data, only the list of static files and the shells' addresses."""
    entries = precache_entries()
    version = hashlib.sha256(
        repr((WORKER_GENERATION, entries, SHELLS)).encode("utf-8")
    ).hexdigest()[:12]
    body = render_template(
        "offline/sw.js",
        entries=entries,
        shells=SHELLS,
        version=version,
        scripts=[
            url_for("static", filename=f"vendor/workbox/workbox-{name}.prod.js")
            for name in ("core", "routing", "strategies", "precaching")
        ]
        + [
            url_for("static", filename="vendor/idb/idb.umd.js"),
            url_for("static", filename="js/offline/store.js"),
        ],
    )
    response = make_response(body)
    response.mimetype = "text/javascript"
    # The browser checks for a new worker on every navigation; never answer from a cache.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/field")
@roles_required(Role.OFFICER)
def field():
    return render_template("offline/field.html")


# The hint under "use of the funds" names the contract's purpose; the offline form fills
# it in from the stored borrower (static/js/offline/visit.js replaces this marker).
PURPOSE_MARKER = "{purpose}"


@bp.get("/field/visit")
@roles_required(Role.OFFICER)
def visit():
    form = VisitForm(formdata=None)
    return render_template(
        "offline/visit.html",
        form=form,
        sections=questions.sections(),
        loan=SimpleNamespace(purpose=PURPOSE_MARKER),
        purpose_marker=PURPOSE_MARKER,
    )
