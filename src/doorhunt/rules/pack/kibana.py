"""Rules as Kibana detection-engine rules: one JSON object a line, the NDJSON that
`POST /api/detection_engine/rules/_import` takes (Kibana's `RuleToImport`: the create-rule
fields of an EQL rule plus a required `rule_id`; security_solution
common/api/detection_engine/rule_management/import_rules/rule_to_import.ts)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Final

from doorhunt.ecs import load_schema
from doorhunt.rules.pack.model import Rule, query_fields

# Elastic Defend's Linux event data streams, and doorhunt's own when shipped with `--es`.
KIBANA_INDEX: Final = ("logs-endpoint.events.*", "logs-doorhunt.*")
INTERVAL_SECONDS: Final = 300  # Kibana's default schedule, `5m`
MAX_SIGNALS: Final = 100  # Kibana's default
# Kibana's default look-back is one minute more than the interval (`now-6m`), so that a late
# event is still seen; a sequence also needs its maxspan before that.
LOOKBACK_MARGIN_SECONDS: Final = 60


def kibana_rule(rule: Rule, *, language: str = "en", enabled: bool = False) -> dict[str, object]:
    """The rule as Kibana imports it; the investigation guide (`note`) is the triage note in
    `language`."""
    maxspan = rule.compiled.maxspan_us or 0
    lookback = INTERVAL_SECONDS + LOOKBACK_MARGIN_SECONDS + math.ceil(maxspan / 1_000_000)
    return {
        "rule_id": rule.id,
        "name": rule.name,
        "description": " ".join(rule.description.split()),
        "type": "eql",
        "language": "eql",
        "query": rule.query.strip(),
        "index": list(KIBANA_INDEX),
        "severity": rule.severity,
        "risk_score": rule.risk_score,
        "threat": [_plain(entry) for entry in rule.threat],
        "references": list(rule.references),
        "tags": list(rule.tags),
        "false_positives": list(rule.false_positives),
        "note": f"## Triage\n\n{rule.triage_text(language)}\n",
        "version": rule.version,
        "enabled": enabled,
        "interval": f"{INTERVAL_SECONDS // 60}m",
        "from": f"now-{lookback}s",
        "max_signals": MAX_SIGNALS,
        "author": list(rule.author),
        "license": rule.license,
        "required_fields": required_fields(rule),
    }


def required_fields(rule: Rule) -> list[dict[str, str]]:
    """The fields the query reads with their Elasticsearch types (Kibana's
    `RequiredFieldInput`: informational, shown on the rule's page)."""
    schema = load_schema()
    out = []
    for name in query_fields(rule.compiled):
        spec = schema.get(name)
        if spec is not None:
            out.append({"name": name, "type": spec.type})
    return out


def kibana_ndjson(rules: Iterable[Rule], *, language: str = "en", enabled: bool = False) -> str:
    """One line per rule, each ending in a newline."""
    return "".join(
        json.dumps(kibana_rule(rule, language=language, enabled=enabled), ensure_ascii=False) + "\n"
        for rule in rules
    )


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


__all__ = ["KIBANA_INDEX", "kibana_ndjson", "kibana_rule", "required_fields"]
