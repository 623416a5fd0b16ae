"""The health check the load balancer probes, and the X-Query-Count header the benchmark reads."""

from portal import create_app
from tests.conftest import PortalClient


def test_query_count_header_counts_the_statements_of_one_request(app, world):
    counted = create_app({**app.config, "QUERY_COUNT_HEADER": True})
    counted.test_client_class = PortalClient
    client = counted.test_client()
    assert client.get("/login").headers["X-Query-Count"] == "0"
    client.login("admin")
    # Loading the session and its user is one statement; the page adds its own.
    assert int(client.get("/admin/branches/").headers["X-Query-Count"]) >= 2


def test_header_is_off_by_default(client):
    assert "X-Query-Count" not in client.get("/login").headers


def test_healthz_answers_503_when_the_database_server_cannot_be_reached(app):
    unreachable = create_app(
        {**app.config, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://portal@127.0.0.1:1/portal"}
    )
    response = unreachable.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "error",
        "database": "unreachable",
        "rate_limit_storage": "ok",
        "worker": "unknown",
    }
