"""The EQL engine: one rule language (EQL with Elasticsearch's semantics) run three ways.

    rule = compile_rule('process where process.name : "bash"', name="shell")
    engine = StreamingEngine([rule])           # the sensor's processors hook
    matches = engine.process(document)
    matches = run_hunt(store_reader, rule)      # SQL over the embedded store (DuckDB)
    request = es_eql_request(rule, "logs-*")    # the same rule on an Elasticsearch cluster

Semantics, the SQL design and the differences from the `eql` package: docs/eql.md.
"""

from __future__ import annotations

from doorhunt.rules.engine.compiler import CompiledRule, CompiledStep, compile_rule
from doorhunt.rules.engine.errors import EqlError
from doorhunt.rules.engine.es import es_eql_request, es_eql_search, parse_eql_response
from doorhunt.rules.engine.sql import Relation, run_hunt, store_relation, to_sql
from doorhunt.rules.engine.streaming import (
    DEFAULT_MAX_PENDING,
    EngineStats,
    Match,
    RuleStats,
    StreamingEngine,
)

__all__ = [
    "DEFAULT_MAX_PENDING",
    "CompiledRule",
    "CompiledStep",
    "EngineStats",
    "EqlError",
    "Match",
    "Relation",
    "RuleStats",
    "StreamingEngine",
    "compile_rule",
    "es_eql_request",
    "es_eql_search",
    "parse_eql_response",
    "run_hunt",
    "store_relation",
    "to_sql",
]
