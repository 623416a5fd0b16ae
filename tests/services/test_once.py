"""The borrower's service request is stored once, however often its form is posted."""

import threading

from portal.core.once import TOKEN_PATTERN
from portal.services.models import ServiceRequest
from tests.services.helpers import (
    ONCE_TOKEN,
    count,
    english,
    flashed,
    once_token,
    send_request,
    text,
)

DATA = {"kind": "legal_services", "description": "借款合同里的担保条款看不懂", "preferred_time": ""}


def test_the_same_form_posted_again_finds_the_first_request(client, world, app):
    client.login("borrower")
    english(client)
    token = once_token(client)
    first = send_request(client, DATA, token)
    again = send_request(client, DATA, token)  # a double tap, or a resend after a lost answer
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    assert count(app, ServiceRequest) == 1
    shown = client.get(again.headers["Location"])
    assert "This request was already sent; here it is." in flashed(text(shown))
    # A new form is a new request.
    assert send_request(client, DATA).headers["Location"] != first.headers["Location"]
    assert count(app, ServiceRequest) == 2


def test_two_posts_of_one_form_at_the_same_moment_store_one_request(client, world, app):
    client.login("borrower")
    token = once_token(client)
    tabs = [app.test_client() for _ in range(2)]
    for tab in tabs:
        assert tab.login("borrower").status_code == 302
    start = threading.Barrier(len(tabs))
    answers = []

    def post(tab):
        csrf = tab.csrf_token("/me/services/new")
        start.wait()
        answers.append(
            tab.post(
                "/me/services/new", data=DATA | {"idempotency_token": token, "csrf_token": csrf}
            )
        )

    threads = [threading.Thread(target=post, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [answer.status_code for answer in answers] == [302, 302]
    assert len({answer.headers["Location"] for answer in answers}) == 1
    assert count(app, ServiceRequest) == 1


def test_a_missing_or_forged_token_is_refused_with_a_message(client, world, app):
    client.login("borrower")
    english(client)
    for token in ("", "short", "x" * 65, "<script>alert(1)</script>-token"):
        page = text(client.submit("/me/services/new", DATA | {"idempotency_token": token}))
        assert "This form is out of date. Reload the page and try again." in page
        reissued = ONCE_TOKEN.search(page).group(1)  # the page carries a good one again
        assert reissued != token and TOKEN_PATTERN.match(reissued)
    assert count(app, ServiceRequest) == 0
