"""The Elasticsearch options the commands share (`--es URL` and its credentials)."""

from __future__ import annotations

import argparse

from doorhunt.es.connection import EsConfig, EsConfigError


def add_es_options(parser: argparse.ArgumentParser, *, index: bool = False) -> None:
    group = parser.add_argument_group(
        "Elasticsearch (pip install 'doorhunt[es]'; each option also from DOORHUNT_ES_*)"
    )
    group.add_argument(
        "--es",
        metavar="URL",
        nargs="?",
        const="",
        default=None,
        help="use Elasticsearch at URL (--es alone: the URL in DOORHUNT_ES_URL)",
    )
    group.add_argument(
        "--es-api-key", metavar="KEY", help="API key, base64 id:key (DOORHUNT_ES_API_KEY)"
    )
    group.add_argument("--es-user", metavar="USER", help="user (DOORHUNT_ES_USER)")
    group.add_argument("--es-password", metavar="PASSWORD", help="password (DOORHUNT_ES_PASSWORD)")
    group.add_argument("--es-ca", metavar="FILE", help="CA certificate file (DOORHUNT_ES_CA)")
    group.add_argument(
        "--es-namespace",
        metavar="NAME",
        default="default",
        help="data stream namespace (default: default)",
    )
    if index:
        group.add_argument(
            "--es-index",
            metavar="PATTERN",
            default=None,
            help="indices to search (default: logs-doorhunt.*-*; e.g. logs-endpoint.events.*)",
        )


def es_config(args: argparse.Namespace) -> EsConfig | None:
    """The configuration the options and environment describe; None without --es (a URL in
    the environment alone never sends anything anywhere)."""
    if args.es is None:
        return None
    config = EsConfig.from_options(
        args.es,
        api_key=args.es_api_key,
        user=args.es_user,
        password=args.es_password,
        ca=args.es_ca,
        namespace=args.es_namespace,
    )
    if config is None:
        raise EsConfigError("--es without a URL needs DOORHUNT_ES_URL", location="--es")
    return config


__all__ = ["add_es_options", "es_config"]
