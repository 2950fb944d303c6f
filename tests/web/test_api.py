"""Every endpoint: what it answers, and a 4xx with a message for bad parameters."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from doorhunt.web import UiState, create_app
from doorhunt.web.messages import MESSAGES
from doorhunt.web.security import CONTENT_SECURITY_POLICY
from tests.investigate.fixtures import BPFDOOR, HOSTILE_NAME, Fixture
from tests.web.conftest import changing

STATIC = Path(__file__).parents[2] / "src" / "doorhunt" / "web" / "static"
WINDOW = {"since": "2025-05-01T08:00:00Z", "until": "2025-05-02T08:00:00Z"}


def ok(client: TestClient, path: str, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get(path, params=params)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    return response.json()  # type: ignore[no-any-return]


def refused(client: TestClient, path: str, expect: int = 400, **params: object) -> dict:  # type: ignore[type-arg]
    response = client.get(path, params=params)  # type: ignore[arg-type]
    assert response.status_code == expect, response.text
    body = response.json()
    assert body["error"]
    return body  # type: ignore[no-any-return]


def test_info_and_messages(client: TestClient) -> None:
    info = ok(client, "/api/info")
    assert info["hosts"] == ["db-1", "web-1"] and info["store"]["events"] > 100
    assert "process.name" in info["fields"] and info["severities"][-1] == "critical"
    messages = ok(client, "/api/messages")
    assert messages["ko"]["page_alerts"] == "경보" and messages["en"]["page_alerts"] == "Alerts"


def test_every_string_the_front_end_uses_is_in_both_languages() -> None:
    used: set[str] = set()
    prefixes: set[str] = set()
    for script in STATIC.joinpath("js").rglob("*.js"):
        text = script.read_text()
        used |= set(re.findall(r"\bt\('([a-z0-9_]+)'", text))
        prefixes |= set(re.findall(r"\bt\(`([a-z_]+)\$\{", text))
        prefixes |= set(re.findall(r"`([a-z]+_)\$\{", text))
    missing = sorted(key for key in used if key not in MESSAGES.entries)
    assert not missing, missing
    for prefix in prefixes:
        assert any(key.startswith(prefix) for key in MESSAGES.entries), prefix


def test_overview_hosts_and_host_page(client: TestClient) -> None:
    overview = ok(client, "/api/overview")
    assert overview["verdicts"]["compromised"] == 1 and overview["open_alerts"] == 5
    hosts = ok(client, "/api/hosts")["hosts"]
    assert [h["name"] for h in hosts] == ["web-1", "db-1"]
    page = ok(client, "/api/hosts/web-1", lang="ko", **WINDOW)
    assert page["sockets"][0]["explanation"]["class"] == "bpfdoor"
    assert page["recent"] and page["window"]["since"].startswith("2025-05-01T08:00")
    refused(client, "/api/hosts/nobody", 404)
    assert "'a/b'" in refused(client, "/api/hosts/a%2Fb", 404)["error"]  # a name with a slash
    refused(client, "/api/hosts/web-1", since="yesterday-ish")
    refused(client, "/api/hosts/web-1", lang="fr")


def test_network_and_users(client: TestClient) -> None:
    result = ok(client, "/api/network", host="web-1", **WINDOW)
    assert result["listeners"][0]["bind_shell_range"]
    people = ok(client, "/api/users", **WINDOW)
    assert people["privilege_changes"]
    # Ages count back from the newest stored event, not the clock.
    assert ok(client, "/api/users", since="2d")["users"]
    refused(client, "/api/network", since="2025-05-02", until="2025-05-01")
    refused(client, "/api/users", hostname="x")


def test_alerts_filters_groups_and_status(client: TestClient) -> None:
    listing = ok(client, "/api/alerts")
    assert listing["total"] == 5 and listing["by_status"]["open"] == 5
    critical = ok(client, "/api/alerts", severity="critical", group="rule")
    assert critical["total"] == 3 and {g["key"] for g in critical["groups"]} == {
        "Executable run from shared memory", "BPFDoor socket filter attached", "BPFDoor socket filter",
    }  # fmt: skip
    assert ok(client, "/api/alerts", host="db-1")["total"] == 1
    assert ok(client, "/api/alerts", entity="web1-implant")["total"] == 3
    ref = listing["alerts"][0]["ref"]
    path = f"/api/alerts/{quote(ref)}/status"
    assert client.post(path, json={"status": "acknowledged"}).status_code == 403  # no header
    response = client.post(
        path, json={"status": "acknowledged", "expected": "open"}, headers=changing(client)
    )
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"
    assert client.post(path, json={"status": "closed"}, headers=changing(client)).status_code == 400
    stale = client.post(
        path, json={"status": "closed", "note": "n", "expected": "open"}, headers=changing(client)
    )
    assert stale.status_code == 409 and "changed meanwhile" in stale.json()["error"]
    closed = client.post(
        path, json={"status": "closed", "note": "false positive: cron"}, headers=changing(client)
    )
    assert closed.status_code == 200
    detail = ok(client, f"/api/alerts/{quote(ref)}")
    assert detail["status"] == "closed" and [h["to"] for h in detail["history"]] == [
        "acknowledged",
        "closed",
    ]
    assert ok(client, "/api/alerts", status="open")["total"] == 4
    assert ok(client, "/api/alerts", status="closed")["alerts"][0]["ref"] == ref
    bad = client.post(path, json={"status": "gone"}, headers=changing(client))
    assert bad.status_code == 400 and bad.json()["location"] == "status"
    assert client.post(path, content=b"[1]", headers=changing(client)).status_code == 400
    assert client.post(path, content=b"{nope", headers=changing(client)).status_code == 400
    missing = client.post(
        "/api/alerts/1-0123456789abcdef/status", json={"status": "closed"}, headers=changing(client)
    )
    assert missing.status_code == 404
    refused(client, "/api/alerts", status="solved")
    refused(client, "/api/alerts", group="colour")
    refused(client, "/api/alerts", limit="-1")
    refused(client, "/api/alerts", limit="ten")


def test_timeline_pins_and_notes(client: TestClient) -> None:
    page = ok(client, "/api/timeline", q="process.name:curl", columns="process.args", **WINDOW)
    assert page["kind"] == "terms" and page["total"] == 4
    row = page["rows"][0]
    assert row["fields"]["process.args"][0] == "curl" and row["pinned"] is False
    eql = ok(client, "/api/timeline", q='process where process.name == "curl"', **WINDOW)
    assert eql["kind"] == "eql" and eql["total"] == 2
    hostile = ok(
        client,
        "/api/timeline",
        q=f'"process.name:{HOSTILE_NAME.replace(chr(34), chr(92) + chr(34))}"',
        **WINDOW,
    )
    assert hostile["rows"][0]["fields"]["process.name"] == HOSTILE_NAME
    ref = row["ref"]
    assert (
        client.put(
            f"/api/pins/{quote(ref)}", params={"host": "web-1"}, headers=changing(client)
        ).status_code
        == 200
    )
    pins = ok(client, "/api/pins")["pins"]
    assert pins[0]["event"] == ref and pins[0]["row"]["fields"]["process.name"] == "curl"
    assert ok(client, "/api/timeline", q="process.name:curl", **WINDOW)["rows"][0]["pinned"] is True
    note = client.post(
        "/api/notes",
        json={"event": ref, "text": "downloaded the implant"},
        headers=changing(client),
    )
    assert note.status_code == 200
    detail = ok(client, f"/api/events/{quote(ref)}")
    assert detail["pinned"] and detail["notes"][0]["text"] == "downloaded the implant"
    assert detail["fields"]["process.args"] == row["fields"]["process.args"]
    assert ok(client, "/api/notes", event=ref)["notes"][0]["id"] == note.json()["id"]
    assert ok(client, "/api/notes", all="true")["notes"]
    assert client.delete(f"/api/notes/{note.json()['id']}", headers=changing(client)).json() == {
        "removed": True
    }
    assert client.delete(f"/api/pins/{quote(ref)}", headers=changing(client)).json() == {
        "removed": True
    }
    assert client.delete("/api/notes/zero", headers=changing(client)).status_code == 400
    assert client.post("/api/notes", json={"text": ""}, headers=changing(client)).status_code == 400
    assert (
        client.post(
            "/api/notes", json={"text": "x", "event": 5}, headers=changing(client)
        ).status_code
        == 400
    )
    assert client.put("/api/pins/not-a-ref", headers=changing(client)).status_code == 400
    refused(client, "/api/events/1-0123456789abcdef", 404)
    refused(client, "/api/events/nope")
    for params in (
        {"q": "process.pid:abc"}, {"q": "process where ("}, {"sort": "doc"}, {"limit": "0"},
        {"order": "sideways"}, {"columns": "not a field"}, {"since": "2025-13-01"},
        {"offset": "-3"}, {"q": "x" * 20_001}, {"q": "a\x00b"}, {"buckets": "9999"},
    ):  # fmt: skip
        body = refused(client, "/api/timeline", **params)
        assert body["location"], params


def test_correlation_tree_and_filter_explanation(client: TestClient, fixture: Fixture) -> None:
    attached = ok(client, "/api/timeline", q="event.action:filter_attached", **WINDOW)["rows"][0]
    around = ok(
        client, "/api/correlate", ref=attached["ref"], seconds="5", category=["file", "network"]
    )
    assert around["counts"] == {"file": 1, "network": 3}
    refused(client, "/api/correlate")
    refused(client, "/api/correlate", ref=attached["ref"], seconds="nan")
    refused(client, "/api/correlate", 404, ref="1-0123456789abcdef")
    tree = ok(client, "/api/tree", entity=fixture.entities["implant"], host="web-1")
    nodes = {n["entity_id"]: n for n in tree["nodes"]}
    assert (
        tree["root"] == fixture.entities["systemd"]
        and nodes[fixture.entities["implant"]]["severity"] == "critical"
    )
    early = ok(client, "/api/tree", entity=fixture.entities["implant"], at="2025-05-01T10:00:30Z")
    assert len(early["nodes"]) < len(tree["nodes"]) and early["at"].startswith(
        "2025-05-01T10:00:30"
    )
    refused(client, "/api/tree")
    refused(client, "/api/tree", 404, entity="nobody")
    refused(client, "/api/tree", entity="x", max_nodes="0")
    explained = ok(client, "/api/bpf/explain", bytecode=BPFDOOR["bytecode"], lang="ko")
    assert explained["class"] == "bpfdoor" and "받아들이는" in explained["summary"]
    refused(client, "/api/bpf/explain", bytecode="0011")
    refused(client, "/api/bpf/explain", bytecode=BPFDOOR["bytecode"], link="fddi")
    refused(client, "/api/bpf/explain")


def test_pages_and_unknown_paths(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/static/js/main.js">' in page.text
    assert "style=" not in page.text and "onclick" not in page.text
    script = client.get("/static/js/main.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    module = client.get("/static/vendor/cytoscape/cytoscape.esm.min.mjs")
    assert module.status_code == 200 and "javascript" in module.headers["content-type"]
    assert client.get("/api/nothing-here").status_code == 404
    assert client.get("/static/../pyproject.toml").status_code == 404
    for response in (page, script, client.get("/api/nothing-here"), client.get("/api/info?x=1")):
        headers = response.headers
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "'unsafe-inline'" not in headers["content-security-policy"]


@pytest.mark.parametrize("path", ["/api/overview", "/api/hosts", "/api/pins", "/api/messages"])
def test_endpoints_without_parameters_refuse_them(client: TestClient, path: str) -> None:
    body = refused(client, path, unexpected="1")
    assert body["location"] == "unexpected"


# Every endpoint with a request it must refuse: (method, path, query, JSON body, status, the
# parameter the answer names). A new endpoint without a line here fails the test below.
BAD_REQUESTS: list[tuple[str, str, dict[str, str], object, int, str | None]] = [
    ("GET", "/api/info", {"verbose": "1"}, None, 400, "verbose"),
    ("GET", "/api/messages", {"lang": "ko"}, None, 400, "lang"),
    ("GET", "/api/overview", {"since": "1h"}, None, 400, "since"),
    ("GET", "/api/hosts", {"limit": "5"}, None, 400, "limit"),
    ("GET", "/api/hosts/web-1", {"until": "2025-02-30"}, None, 400, "until"),
    ("GET", "/api/hosts/no-such-host", {}, None, 404, None),
    ("GET", "/api/network", {"host": "x" * 1001}, None, 400, "host"),
    ("GET", "/api/users", {"since": "5x"}, None, 400, "since"),
    ("GET", "/api/alerts", {"severity": "urgent"}, None, 400, "severity"),
    ("GET", "/api/alerts", {"offset": "1e3"}, None, 400, "offset"),
    ("GET", "/api/alerts/1-0123456789abcdef", {}, None, 404, None),
    ("GET", "/api/alerts/1-0123456789abcdef", {"x": "1"}, None, 400, "x"),
    ("POST", "/api/alerts/1-0123456789abcdef/status", {}, {"status": "closed"}, 404, None),
    ("POST", "/api/alerts/{alert}/status", {}, {"status": "solved"}, 400, "status"),
    ("POST", "/api/alerts/{alert}/status", {}, {"status": "acknowledged", "note": 5}, 400, "note"),
    ("POST", "/api/alerts/{alert}/status", {}, ["closed"], 400, "body"),
    ("GET", "/api/timeline", {"sort": "doc"}, None, 400, "sort"),
    ("GET", "/api/timeline", {"q": "sequence [process where true]"}, None, 400, "q"),
    ("GET", "/api/timeline", {"category": "x" * 101}, None, 400, "category"),
    ("GET", "/api/events/not-a-ref", {}, None, 400, "ref"),
    ("GET", "/api/events/1-0123456789abcdef", {}, None, 404, None),
    ("GET", "/api/correlate", {"ref": "{event}", "same_host": "maybe"}, None, 400, "same_host"),
    ("GET", "/api/correlate", {"ref": "{event}", "limit": "5000"}, None, 400, "limit"),
    ("GET", "/api/pins", {"all": "true"}, None, 400, "all"),
    ("PUT", "/api/pins/not-a-ref", {}, None, 400, "ref"),
    ("PUT", "/api/pins/{event}", {"host": "a", "colour": "red"}, None, 400, "colour"),
    ("DELETE", "/api/pins/not-a-ref", {}, None, 400, "ref"),
    ("GET", "/api/notes", {"all": "perhaps"}, None, 400, "all"),
    ("GET", "/api/notes", {"event": "x" * 101}, None, 400, "event"),
    ("POST", "/api/notes", {}, {"text": "x" * 4001}, 400, "text"),
    ("POST", "/api/notes", {}, {"text": "a\x00b"}, 400, "text"),
    ("DELETE", "/api/notes/-1", {}, None, 400, "id"),
    ("GET", "/api/tree", {"entity": "web1-implant", "at": "noon"}, None, 400, "at"),
    ("GET", "/api/tree", {"entity": "web1-implant", "max_nodes": "50001"}, None, 400, "max_nodes"),
    ("GET", "/api/tree", {"entity": "x" * 513}, None, 400, "entity"),
    ("GET", "/api/bpf/explain", {"bytecode": "zz"}, None, 400, "bytecode"),
    ("GET", "/api/bpf/explain", {"bytecode": BPFDOOR["bytecode"], "lang": "de"}, None, 400, "lang"),
    ("GET", "/api/no-such-endpoint", {}, None, 404, None),
    ("PATCH", "/api/notes", {}, {"text": "x"}, 405, None),
]


def test_every_endpoint_refuses_bad_requests_with_a_message(client: TestClient) -> None:
    alert = ok(client, "/api/alerts")["alerts"][0]["ref"]
    event = ok(client, "/api/timeline", q="process.name:curl", **WINDOW)["rows"][0]["ref"]
    for method, template, given, body, status, location in BAD_REQUESTS:
        path = template.replace("{alert}", quote(alert)).replace("{event}", quote(event))
        query = {key: value.replace("{event}", event) for key, value in given.items()}
        response = client.request(
            method,
            path,
            params=query,
            json=body,
            headers=changing(client) if method != "GET" else None,
        )
        case = (method, path[:60], query)
        assert response.status_code == status, (case, response.text)
        answer = response.json()
        assert isinstance(answer["error"], str) and answer["error"], case
        assert answer.get("location") == location or location is None, (case, answer)
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY


def test_the_bad_requests_cover_every_endpoint(state: UiState) -> None:
    app = create_app(state).app  # inside the security middleware
    covered = {(method, re.sub(r"\{[a-z_]+\}|[0-9a-f]+-[0-9a-f]{16}|web-1|no-such-host|not-a-ref|-1", "*", path))
               for method, path, *_ in BAD_REQUESTS}  # fmt: skip
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith("/api/"):
            continue
        shape = re.sub(r"\{[a-z_]+(:path)?\}", "*", path)
        for method in getattr(route, "methods", ()):
            if shape == "/api/*":  # the catch-all answers 404 to any other path
                continue
            assert (method, shape) in covered, (method, shape)
