"""Who may talk to the UI: loopback names only on loopback; a token everywhere else; changes
only from the UI's own pages."""

from __future__ import annotations

import hmac
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from doorhunt.web import UiState, create_app, security
from doorhunt.web.server import plan
from tests.web.conftest import changing

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def exposed(state: UiState) -> Iterator[TestClient]:
    app = create_app(state, token=TOKEN, loopback=False, port=8765)
    with TestClient(app, base_url="http://10.1.2.3:8765", follow_redirects=False) as client:
        yield client


def test_a_token_is_required_off_loopback(exposed: TestClient) -> None:
    for path in ("/", "/api/info", "/static/js/main.js", "/api/nothing"):
        response = exposed.get(path)
        assert response.status_code == 401 and "token" in response.json()["error"]
        assert response.headers["content-security-policy"] == security.CONTENT_SECURITY_POLICY
    assert exposed.get("/?token=wrong").status_code == 401
    assert exposed.get("/api/info", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert exposed.get("/api/info", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert (
        exposed.get("/api/info", headers={"Cookie": f"{security.COOKIE}=wrong"}).status_code == 401
    )
    assert exposed.get("/api/info", headers={"Cookie": 'x="unterminated'}).status_code == 401


def test_the_printed_url_becomes_a_cookie(exposed: TestClient) -> None:
    entry = exposed.get(f"/?token={TOKEN}")
    assert entry.status_code == 303 and entry.headers["location"] == "/"
    cookie = entry.headers["set-cookie"]
    assert f"{security.COOKIE}={TOKEN}" in cookie
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    # The client keeps the cookie: the page and the API now answer.
    assert exposed.get("/").status_code == 200
    assert exposed.get("/api/hosts").status_code == 200
    exposed.cookies.clear()
    assert exposed.get("/api/hosts").status_code == 401


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(security.hmac, "compare_digest", spy)
    assert security.same_token(TOKEN, TOKEN) and not security.same_token("x", TOKEN)
    assert not security.same_token(None, TOKEN)
    assert len(calls) == 2


def test_loopback_answers_loopback_names_only(client: TestClient) -> None:
    assert client.get("/api/info").status_code == 200
    for host in ("localhost:8765", "[::1]:8765", "127.0.0.1"):
        assert client.get("/api/info", headers={"Host": host}).status_code == 200, host
    # A page elsewhere whose name now resolves to 127.0.0.1 (DNS rebinding).
    for host in ("evil.example:8765", "127.0.0.1.evil.example", ""):
        assert client.get("/api/info", headers={"Host": host}).status_code == 403, host


def test_changes_only_from_the_ui(client: TestClient) -> None:
    path = "/api/notes"
    assert client.post(path, json={"text": "x"}).status_code == 403
    assert (
        client.post(
            path, json={"text": "x"}, headers={**changing(client), "Origin": "http://evil.example"}
        ).status_code
        == 403
    )
    form = client.post(
        path,
        content=b"text=x",
        headers={"X-Doorhunt-Request": "1", "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 403
    same = client.post(
        path, json={"text": "x"}, headers={**changing(client), "Origin": "http://127.0.0.1:8765"}
    )
    assert same.status_code == 200
    assert client.delete("/api/notes/1").status_code == 403


def test_plans() -> None:
    local = plan("127.0.0.1", 8765)
    assert local.token is None and local.loopback and local.url == "http://127.0.0.1:8765/"
    assert plan("::1", 1).loopback and plan("localhost", 1).token is None
    wide = plan("0.0.0.0", 9000)
    assert wide.token and len(wide.token) >= 40 and not wide.loopback
    assert wide.url == f"http://HOST:9000/?token={wide.token}"
    assert plan("10.0.0.5", 80).token != plan("10.0.0.5", 80).token
    assert plan("fe80::1", 80).url.startswith("http://[fe80::1]:80/?token=")
