"""The tablet's pages as the server sends them: the worker, the two shells, the base page's
hooks (docs/field-kit.md). The browser side is tests/browser/test_field_kit.py."""

import json
import re

NAMES = re.compile(r'<(?:input|textarea|select)\b[^>]*\bname="([^"]+)"(?:[^>]*\bvalue="([^"]*)")?')
SKIPPED = {"csrf_token", "idempotency_token"}


def _controls(html: str) -> list[tuple[str, str]]:
    """(name, value) of the visit form's controls, in page order (the form only)."""
    form = html[html.index('data-testid="visit-form"') :]
    form = form[: form.index("</form>")]
    return [
        (name, value if "radio" in tag or "checkbox" in tag else "")
        for tag, (name, value) in (
            (match.group(0), match.groups()) for match in NAMES.finditer(form)
        )
        if name not in SKIPPED
    ]


def test_the_service_worker_is_public_javascript_at_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    text = response.get_data(as_text=True)
    assert "workbox-core" in text and "workbox-precaching" in text and "idb" in text
    entries = json.loads(re.search(r"precacheAndRoute\((\[.*?\])\);", text, re.S).group(1))
    urls = [entry["url"] for entry in entries]
    assert any("css/portal" in url for url in urls)
    assert any("signature_pad" in url for url in urls)
    assert any("js/offline/visit" in url for url in urls)
    assert not any(url.endswith((".map", ".ttc")) or "/pdf/" in url for url in urls)
    assert '["/field", "/field/visit"]' in text


def test_the_shells_carry_the_officer_and_no_borrower(client, world):
    client.login("officer")
    for path in ("/field", "/field/visit"):
        response = client.get(path)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert f'<meta name="portal-user" content="{world.officer.id}"' in html
        assert '<meta name="portal-shell"' in html
        assert "no-store" in response.headers["Cache-Control"]


def test_the_offline_form_asks_exactly_what_the_online_form_asks(client, world):
    client.login("officer")
    online = client.get(f"/borrowers/{world.own_borrower.id}/visits/new").get_data(as_text=True)
    offline = client.get("/field/visit").get_data(as_text=True)
    assert _controls(offline) == _controls(online)
    assert len(_controls(online)) > 20


def test_only_officers_open_the_field_kit(client, world):
    client.login("head")
    assert client.get("/field").status_code == 403
    assert client.get("/field/visit").status_code == 403


def test_logout_form_and_notice_slot_for_the_outbox(client, world):
    client.login("officer")
    html = client.get("/").get_data(as_text=True)
    assert "data-field-logout" in html and "data-field-confirm" in html
    assert "js/offline/sync" in html
    client.logout()
    html = client.get("/login").get_data(as_text=True)
    assert 'name="portal-user"' not in html
    assert "data-field-notice" in html
