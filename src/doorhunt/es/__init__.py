"""Elasticsearch: shipping documents to data streams and searching them (`doorhunt[es]`).

The client is imported only when a sink or reader is made, so the rest of doorhunt works
without the extra installed. Data streams, template and behaviour: docs/elasticsearch.md.
"""

from __future__ import annotations

from doorhunt.es.connection import EsConfig, EsConfigError, EsUnavailableError
from doorhunt.es.query import EsReader, search_body
from doorhunt.es.sink import ElasticsearchSink, SinkStats
from doorhunt.es.template import (
    ALERTS_DATASET,
    EVENTS_DATASET,
    INDEX_PATTERNS,
    SEARCH_PATTERN,
    TEMPLATE_NAME,
    index_template,
    stream_for,
)

__all__ = [
    "ALERTS_DATASET",
    "EVENTS_DATASET",
    "INDEX_PATTERNS",
    "SEARCH_PATTERN",
    "TEMPLATE_NAME",
    "ElasticsearchSink",
    "EsConfig",
    "EsConfigError",
    "EsReader",
    "EsUnavailableError",
    "SinkStats",
    "index_template",
    "search_body",
    "stream_for",
]
