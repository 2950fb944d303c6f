"""Connecting to Elasticsearch with the official client (the optional extra `doorhunt[es]`)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from doorhunt.errors import InputError

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

ENVIRONMENT: Final = {
    "url": "DOORHUNT_ES_URL",
    "api_key": "DOORHUNT_ES_API_KEY",
    "user": "DOORHUNT_ES_USER",
    "password": "DOORHUNT_ES_PASSWORD",
    "ca": "DOORHUNT_ES_CA",
}
REQUEST_TIMEOUT: Final = 30.0


class EsConfigError(InputError):
    """Elasticsearch options that cannot work (a URL that is not http(s), a missing client)."""


class EsUnavailableError(InputError):
    """The cluster did not answer, or refused the request (the location is its URL)."""


@dataclass(frozen=True, slots=True)
class EsConfig:
    """Where the cluster is and how to authenticate. Secrets are never printed."""

    url: str
    api_key: str | None = None
    user: str | None = None
    password: str | None = None
    ca: str | None = None
    namespace: str = "default"

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise EsConfigError(
                "expected an http:// or https:// URL", location=f"--es {redacted(self.url)}"
            )
        # Data stream names are lower case, without the characters an index name may not hold.
        if not re.fullmatch(r"[a-z0-9][a-z0-9_.]{0,99}", self.namespace):
            raise EsConfigError(
                "a namespace is lower-case letters, digits, `_` and `.`",
                location=f"--es-namespace {self.namespace!r}",
            )

    @classmethod
    def from_options(
        cls,
        url: str | None,
        *,
        api_key: str | None = None,
        user: str | None = None,
        password: str | None = None,
        ca: str | None = None,
        namespace: str = "default",
        environ: Mapping[str, str] | None = None,
    ) -> EsConfig | None:
        """Options first, then DOORHUNT_ES_* variables; None when no URL is given at all."""
        environ = os.environ if environ is None else environ
        url = url or environ.get(ENVIRONMENT["url"]) or None
        if url is None:
            return None
        return cls(
            url=url,
            api_key=api_key or environ.get(ENVIRONMENT["api_key"]) or None,
            user=user or environ.get(ENVIRONMENT["user"]) or None,
            password=password or environ.get(ENVIRONMENT["password"]) or None,
            ca=ca or environ.get(ENVIRONMENT["ca"]) or None,
            namespace=namespace,
        )

    @property
    def display(self) -> str:
        return redacted(self.url)

    def client(self) -> Elasticsearch:
        """A client that does not retry on its own: doorhunt's sink decides when to retry."""
        try:
            from elasticsearch import Elasticsearch  # noqa: PLC0415 (optional extra)
        except ImportError:
            raise EsConfigError(
                "the Elasticsearch client is not installed: pip install 'doorhunt[es]'",
                location="--es",
            ) from None
        options: dict[str, object] = {
            "request_timeout": REQUEST_TIMEOUT,
            "max_retries": 0,
            "retry_on_timeout": False,
        }
        if self.api_key:
            options["api_key"] = self.api_key
        elif self.user:
            options["basic_auth"] = (self.user, self.password or "")
        if self.ca:
            options["ca_certs"] = self.ca
        return Elasticsearch(self.url, **options)  # type: ignore[arg-type]


def redacted(url: str) -> str:
    """The URL without a password in it."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    return parts._replace(netloc=f"{parts.username}:***@{netloc}").geturl()


__all__ = ["ENVIRONMENT", "EsConfig", "EsConfigError", "EsUnavailableError", "redacted"]
