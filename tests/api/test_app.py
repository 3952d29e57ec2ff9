"""The app's frame: configuration that refuses unsafe starts, probes, the OpenAPI document."""

from __future__ import annotations

import pytest
from werkzeug.routing import Rule

from addin import create_app
from addin.config import ConfigError

BASE = {"SECRET_KEY": "s", "API_AUDIENCE": "aud", "BROKER_URL": "memory://"}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.4", "sidepane.example.com", "::"])
def test_demo_refuses_to_start_off_loopback(host, tmp_path):
    with pytest.raises(ConfigError, match="loopback"):
        create_app(
            {**BASE, "DEMO": True, "HOST": host, "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
        )


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_demo_starts_on_loopback(host, tmp_path):
    app = create_app(
        {
            "DEMO": True,
            "HOST": host,
            "BROKER_URL": "memory://",
            "DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        }
    )
    assert app.config["DEMO"] is True


def test_production_needs_an_audience_and_a_secret(tmp_path):
    db = f"sqlite:///{tmp_path}/x.db"
    with pytest.raises(ConfigError, match="SIDEPANE_API_AUDIENCE"):
        create_app({"SECRET_KEY": "s", "DATABASE_URL": db})
    with pytest.raises(ConfigError, match="SIDEPANE_SECRET_KEY"):
        create_app({"API_AUDIENCE": "aud", "DATABASE_URL": db})


def test_configuration_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SIDEPANE_API_AUDIENCE", "from-env")
    monkeypatch.setenv("SIDEPANE_PORT", "8123")
    monkeypatch.setenv("SIDEPANE_INTERNAL_DOMAINS", "Contoso.com, @fabrikam.com")
    app = create_app(
        {"SECRET_KEY": "s", "BROKER_URL": "memory://", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}
    )
    assert app.config["API_AUDIENCE"] == "from-env"
    assert app.config["BASE_URL"] == "http://127.0.0.1:8123"
    assert app.config["INTERNAL_DOMAINS"] == ["contoso.com", "fabrikam.com"]


def test_demo_identity_only_in_demo_mode(tmp_path, sandbox):
    from addin import store

    url = f"sqlite:///{tmp_path}/demo.db"
    store.upgrade(url)
    demo = create_app(
        {
            "DEMO": True,
            "BROKER_URL": "memory://",
            "DATABASE_URL": url,
            "SANDBOX_PATH": str(sandbox[0]),
        }
    )
    client = demo.test_client()
    me = client.get("/api/me", headers={"Authorization": "Bearer demo:alex"}).get_json()
    assert me["user_oid"] == "demo-alex"
    assert client.get("/api/me").status_code == 401
    assert (
        client.get("/api/me", headers={"Authorization": "Bearer demo:Bad Name"}).status_code == 401
    )
    # A request that reaches the demo from another machine (e.g. through a proxy) is refused.
    remote = client.get(
        "/api/me",
        headers={"Authorization": "Bearer demo:alex"},
        environ_base={"REMOTE_ADDR": "10.0.0.9"},
    )
    assert remote.status_code == 403
    demo.extensions["store_engine"].dispose()


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_when_ready(client):
    assert client.get("/readyz").get_json() == {"status": "ready"}


def test_readyz_names_what_is_missing(tmp_path, entra):
    app = create_app(
        {
            **BASE,
            "ENTRA_AUTHORITY": entra.url,
            "DATABASE_URL": f"sqlite:///{tmp_path}/never-migrated.db",
            "SANDBOX_PATH": str(tmp_path / "absent.db"),
        }
    )
    answer = app.test_client().get("/readyz")
    assert answer.status_code == 503
    checks = answer.get_json()["checks"]
    assert "sidepane db upgrade" in checks["store"]
    assert "sidepane seed" in checks["crm"]
    app.extensions["store_engine"].dispose()


def test_every_api_route_is_documented_and_nothing_else(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = {
        (path, method.upper()) for path, ops in document["paths"].items() for method in ops
    }

    def openapi_path(rule: Rule) -> str:
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<int:{argument}>", f"{{{argument}}}").replace(
                f"<{argument}>", f"{{{argument}}}"
            )
        return path

    served = {
        (openapi_path(rule), method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and rule.endpoint != "api.openapi_document"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert served == documented
