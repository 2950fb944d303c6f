"""A small Elasticsearch stand-in on 127.0.0.1 for the sink and query tests.

It answers the APIs doorhunt uses with the response shapes from Elasticsearch's REST API
reference (9.x): `GET /`, `GET|PUT /_index_template/NAME`, `GET /_data_stream/NAME`,
`POST /_bulk` (per-item results, `errors`), `POST /INDEX/_search` (bool filter with term,
wildcard and range; sort on @timestamp). It sends `X-Elastic-Product: Elasticsearch`, which
the official client checks on every answer. Switches simulate an outage (connections closed
without an answer), whole-request 503s, per-item 429s and mapping rejections.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeElasticsearch:
    def __init__(self) -> None:
        self.templates: dict[str, dict[str, Any]] = {}
        self.streams: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[tuple[str, str]] = []
        self.down = False
        self.status_503 = 0  # answer the next N bulk requests with 503
        self.item_429 = 0  # refuse the next N bulk items with 429
        self.reject_field = "reject_me"  # documents holding this top-level field get 400
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def documents(self) -> list[dict[str, Any]]:
        with self.lock:
            return [doc for docs in self.streams.values() for doc in docs]

    # -- the HTTP side -------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _answer(self, status: int, document: object) -> None:
                data = json.dumps(document).encode()
                accept = self.headers.get("Accept") or "application/json"
                content_type = accept if "vnd.elasticsearch+json" in accept else "application/json"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _route(self, method: str) -> None:
                body = self._body()
                path = self.path.split("?", 1)[0]
                with fake.lock:
                    fake.requests.append((method, path))
                if fake.down:
                    self.close_connection = True  # no answer at all: as a dead node
                    return
                status, document = fake.handle(method, path, body)
                self._answer(status, document)

            def do_GET(self) -> None:
                self._route("GET")

            def do_PUT(self) -> None:
                self._route("PUT")

            def do_POST(self) -> None:
                self._route("POST")

            def do_HEAD(self) -> None:
                self._route("HEAD")

        return Handler

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, object]:
        parts = [part for part in path.split("/") if part]
        if not parts:
            return 200, {
                "name": "fake",
                "cluster_name": "doorhunt-test",
                "version": {"number": "9.1.0", "build_flavor": "default"},
                "tagline": "You Know, for Search",
            }
        if parts[0] == "_index_template" and len(parts) == 2:
            return self._template(method, parts[1], body)
        if parts[0] == "_data_stream" and len(parts) == 2:
            return self._data_stream(parts[1])
        if parts[-1] == "_bulk":
            return self._bulk(body)
        if parts[-1] == "_search":
            index = parts[0] if len(parts) == 2 else "*"
            return self._search(index, json.loads(body or b"{}"))
        return 404, _error(404, "resource_not_found_exception", f"no handler for {path}")

    def _template(self, method: str, name: str, body: bytes) -> tuple[int, object]:
        if method == "PUT":
            with self.lock:
                self.templates[name] = json.loads(body)
            return 200, {"acknowledged": True}
        with self.lock:
            template = self.templates.get(name)
        if template is None:
            return 404, _error(
                404, "resource_not_found_exception", f"index template matching [{name}] not found"
            )
        return 200, {"index_templates": [{"name": name, "index_template": template}]}

    def _data_stream(self, name: str) -> tuple[int, object]:
        with self.lock:
            if name not in self.streams:
                return 404, _error(404, "index_not_found_exception", f"no such index [{name}]")
            count = len(self.streams[name])
        return 200, {
            "data_streams": [
                {
                    "name": name,
                    "timestamp_field": {"name": "@timestamp"},
                    "indices": [{"index_name": f".ds-{name}-000001"}],
                    "generation": 1,
                    "status": "GREEN",
                    "template": self._matching_template(name) or "",
                    "documents": count,
                }
            ]
        }

    def _matching_template(self, name: str) -> str | None:
        for template_name, template in self.templates.items():
            if any(fnmatch.fnmatch(name, p) for p in template.get("index_patterns", [])):
                return template_name
        return None

    def _bulk(self, body: bytes) -> tuple[int, object]:
        with self.lock:
            if self.status_503:
                self.status_503 -= 1
                return 503, _error(503, "unavailable_shards_exception", "no shards")
        lines = [line for line in body.split(b"\n") if line.strip()]
        items = []
        errors = False
        for action_line, document_line in zip(lines[::2], lines[1::2], strict=True):
            action = json.loads(action_line)
            op, meta = next(iter(action.items()))
            document = json.loads(document_line)
            index = meta["_index"]
            with self.lock:
                if self.item_429:
                    self.item_429 -= 1
                    errors = True
                    items.append(
                        {
                            op: {
                                "_index": index,
                                "status": 429,
                                "error": {
                                    "type": "es_rejected_execution_exception",
                                    "reason": "queue full",
                                },
                            }
                        }
                    )
                    continue
            if self.reject_field in document:
                errors = True
                items.append(
                    {
                        op: {
                            "_index": index,
                            "status": 400,
                            "error": {
                                "type": "document_parsing_exception",
                                "reason": f"failed to parse field [{self.reject_field}]",
                            },
                        }
                    }
                )
                continue
            if op != "create" and self._matching_template(index):
                errors = True
                items.append(
                    {
                        op: {
                            "_index": index,
                            "status": 400,
                            "error": {
                                "type": "illegal_argument_exception",
                                "reason": "only write ops with an op_type of create are allowed in data streams",
                            },
                        }
                    }
                )
                continue
            with self.lock:
                stream = self.streams.setdefault(index, [])
                stream.append(document)
                number = len(stream)
            items.append({op: {"_index": f".ds-{index}-000001", "_id": str(number),
                               "_version": 1, "result": "created", "_seq_no": number - 1,
                               "_primary_term": 1, "status": 201}})  # fmt: skip
        return 200, {"took": 3, "errors": errors, "items": items}

    def _search(self, index: str, request: Mapping[str, Any]) -> tuple[int, object]:
        with self.lock:
            candidates = [
                doc
                for name, docs in self.streams.items()
                if any(fnmatch.fnmatch(name, pattern) for pattern in index.split(","))
                for doc in docs
            ]
        query = request.get("query", {"match_all": {}})
        hits = [doc for doc in candidates if _matches(query, doc)]
        order = request.get("sort", [{"@timestamp": {"order": "desc"}}])[0]["@timestamp"]["order"]
        hits.sort(key=lambda doc: doc.get("@timestamp", ""), reverse=order == "desc")
        hits = hits[: int(request.get("size", 10))]
        return 200, {
            "took": 1,
            "timed_out": False,
            "hits": {
                "total": {"value": len(hits), "relation": "eq"},
                "hits": [
                    {"_index": "x", "_id": str(i), "_source": doc} for i, doc in enumerate(hits)
                ],
            },
        }


def _error(status: int, kind: str, reason: str) -> dict[str, object]:
    return {"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind,
                      "reason": reason}, "status": status}  # fmt: skip


def _values(doc: Mapping[str, Any], field: str) -> list[Any]:
    value: Any = doc
    for part in field.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return []
        value = value[part]
    return value if isinstance(value, list) else [value]


def _matches(query: Mapping[str, Any], doc: Mapping[str, Any]) -> bool:
    if "match_all" in query:
        return True
    if "bool" in query:
        return all(_matches(clause, doc) for clause in query["bool"].get("filter", []))
    if "term" in query:
        field, value = next(iter(query["term"].items()))
        return any(str(v) == str(value) for v in _values(doc, field))
    if "wildcard" in query:
        field, spec = next(iter(query["wildcard"].items()))
        pattern = spec["value"]
        return any(fnmatch.fnmatchcase(str(v), pattern) for v in _values(doc, field))
    if "range" in query:
        field, bounds = next(iter(query["range"].items()))
        values = _values(doc, field)
        return any(
            ("gte" not in bounds or str(v) >= bounds["gte"][:19])
            and ("lt" not in bounds or str(v) < bounds["lt"][:19])
            for v in values
        )
    raise AssertionError(f"the fake does not know {query}")
