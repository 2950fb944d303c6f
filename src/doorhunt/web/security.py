"""Who may talk to the UI, and what the browser may do with its pages.

- Loopback by default. On any other address the server requires a random access token,
  printed once as a URL (`/?token=...`): the first visit turns it into an HttpOnly,
  SameSite=Strict cookie and drops it from the address bar; scripts may send it as
  `Authorization: Bearer TOKEN` instead. Tokens are compared in constant time.
- On loopback, the Host header must name loopback: a web page elsewhere that rebinds its
  DNS name to 127.0.0.1 is refused (DNS rebinding).
- Changes (POST, PUT, DELETE) need the `X-Doorhunt-Request` header and a JSON body, which a
  page elsewhere cannot send without a CORS preflight that the server never answers, and an
  Origin, when the browser sends one, that is the server's own (CSRF).
- Every answer carries a Content-Security-Policy without inline scripts or styles, and
  nosniff, no-referrer, and no framing.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any, Final
from urllib.parse import parse_qs

import orjson

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE: Final = "doorhunt_token"
REQUEST_HEADER: Final = b"x-doorhunt-request"
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: Final = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
_MUTATING: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOOPBACK_NAMES: Final = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str) -> bool:
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


@dataclass(frozen=True, slots=True)
class AccessPolicy:
    """What the server requires: a token (None on loopback) and, on loopback, the port."""

    token: str | None
    loopback: bool
    port: int


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _host_name(host_header: str) -> str:
    if host_header.startswith("["):
        return host_header[: host_header.find("]") + 1]
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


async def _answer(
    send: Send, status: int, body: dict[str, object], headers: list[tuple[bytes, bytes]]
) -> None:
    payload = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
                (b"cache-control", b"no-store"),
                *SECURITY_HEADERS,
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class SecurityMiddleware:
    """The checks above, before any route runs, and the headers on every answer."""

    def __init__(self, app: App, policy: AccessPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy
        host_header = _header(scope, b"host") or ""
        if policy.loopback and not is_loopback(_host_name(host_header)):
            await _answer(send, 403, {"error": "this server answers to loopback names only"}, [])
            return
        method = scope.get("method", "GET")
        path = scope.get("path", "/")
        if policy.token is not None:
            query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
            offered = query.get("token", [None])[0]
            if path == "/" and method == "GET" and offered is not None:
                if not same_token(offered, policy.token):
                    await _answer(send, 401, {"error": "wrong access token"}, [])
                    return
                # Keep the token out of the address bar, history and screenshots.
                cookie = f"{COOKIE}={policy.token}; HttpOnly; SameSite=Strict; Path=/"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 303,
                        "headers": [
                            (b"location", b"/"),
                            (b"set-cookie", cookie.encode()),
                            (b"cache-control", b"no-store"),
                            (b"content-length", b"0"),
                            *SECURITY_HEADERS,
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
            if not self._authorized(scope):
                await _answer(
                    send,
                    401,
                    {"error": "an access token is required: open the URL the server printed"},
                    [],
                )
                return
        if method in _MUTATING:
            problem = self._cross_site(scope, host_header)
            if problem is not None:
                await _answer(send, 403, {"error": problem}, [])
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (key, value)
                    for key, value in message.get("headers", [])
                    if key.lower() not in {name for name, _ in SECURITY_HEADERS}
                ]
                headers.extend(SECURITY_HEADERS)
                if path.startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _authorized(self, scope: Scope) -> bool:
        token = self.policy.token
        assert token is not None
        authorization = _header(scope, b"authorization")
        if authorization is not None and authorization.startswith("Bearer "):
            return same_token(authorization[7:].strip(), token)
        cookies = _header(scope, b"cookie")
        if cookies:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(cookies)
            except Exception:  # a malformed Cookie header is just no cookie
                return False
            morsel = jar.get(COOKIE)
            return morsel is not None and same_token(morsel.value, token)
        return False

    def _cross_site(self, scope: Scope, host_header: str) -> str | None:
        if _header(scope, REQUEST_HEADER) is None:
            return "changes need the X-Doorhunt-Request header"
        origin = _header(scope, b"origin")
        if origin is not None and origin not in (f"http://{host_header}", f"https://{host_header}"):
            return "changes from another origin are refused"
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip()
        if scope.get("method") in ("POST", "PUT", "PATCH") and content_type not in (
            "application/json",
            "",
        ):
            return "changes take a JSON body (Content-Type: application/json)"
        return None


__all__ = [
    "CONTENT_SECURITY_POLICY",
    "COOKIE",
    "SECURITY_HEADERS",
    "AccessPolicy",
    "SecurityMiddleware",
    "is_loopback",
    "new_token",
    "same_token",
]
