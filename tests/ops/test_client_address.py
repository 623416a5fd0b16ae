"""Behind nginx and a load balancer, each client keeps its own address (docs/deploy.md, 6).

``TRUST_PROXY_HOPS`` says how many proxies in front of the app append to
X-Forwarded-For; the app takes the address that many hops back, so clients behind
the balancer do not share one login bucket, and a client cannot pick its address by
sending the header itself.
"""

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.accounts.models import LoginSession
from portal.extensions import db
from portal.settings import ConfigurationError, from_environment
from tests.conftest import PortalClient

NGINX = "127.0.0.1"


@pytest.fixture
def behind(app):
    """Clients of the app behind ``hops`` proxies (one app per test: the limiter is shared)."""
    apps = {}

    def build(hops: int) -> PortalClient:
        if hops not in apps:
            apps[hops] = create_app({**app.config, "TRUST_PROXY_HOPS": hops})
            apps[hops].test_client_class = PortalClient
        return apps[hops].test_client()

    return build


def _via(*chain: str) -> dict:
    """The request as nginx hands it on: X-Forwarded-For as the proxies built it."""
    return {
        "environ_base": {"REMOTE_ADDR": NGINX},
        "headers": {"X-Forwarded-For": ", ".join(chain)},
    }


def test_two_clients_behind_the_balancer_have_their_own_login_buckets(behind, world):
    # nginx appends the balancer's peer to what the balancer sent: "client, balancer".
    client = behind(2)
    for i in range(6):
        client.login("officer", f"guess-{i}", **_via("203.0.113.9", "10.0.0.2"))
    assert client.login("officer", **_via("203.0.113.9", "10.0.0.2")).status_code == 429
    assert behind(2).login("officer", **_via("198.51.100.7", "10.0.0.2")).status_code == 302


def test_a_forged_header_does_not_change_the_clients_address(behind, world):
    client = behind(2)
    for i in range(6):
        client.login("officer", f"guess-{i}", **_via(f"192.0.2.{i}", "203.0.113.9", "10.0.0.2"))
    assert (
        client.login("officer", **_via("192.0.2.99", "203.0.113.9", "10.0.0.2")).status_code == 429
    )


def test_the_login_session_records_the_clients_address(behind, world, app):
    assert behind(1).login("officer", **_via("198.51.100.7")).status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(LoginSession.ip_address)).all() == ["198.51.100.7"]


def test_hops_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRUST_PROXY_HOPS", "2")
    assert from_environment({"SECRET_KEY": "x"})["TRUST_PROXY_HOPS"] == 2
    monkeypatch.delenv("TRUST_PROXY_HOPS")
    monkeypatch.setenv("TRUST_PROXY_HEADERS", "1")  # the older spelling of one hop
    assert from_environment({"SECRET_KEY": "x"})["TRUST_PROXY_HOPS"] == 1
    monkeypatch.setenv("TRUST_PROXY_HOPS", "-1")
    with pytest.raises(ConfigurationError, match="TRUST_PROXY_HOPS"):
        from_environment({"SECRET_KEY": "x"})
