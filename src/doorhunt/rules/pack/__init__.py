"""Detection rules as data: the shipped pack (the `*.toml` files beside this module), user rule
directories, the example tester and the Kibana export. The format is docs/rule-format.md.

    rules = load_rules([Path("/etc/doorhunt/rules")])     # the pack + a directory
    engine = StreamingEngine(rules.compiled())
    for match in engine.process(document):
        rule = rules.rule_of(match.rule)                  # the Rule behind a match
    results = check_examples(find_rule(rules, "execution_from_shared_memory"))
"""

from __future__ import annotations

from doorhunt.rules.pack.examples import ExampleResult, check_example, check_examples
from doorhunt.rules.pack.kibana import KIBANA_INDEX, kibana_ndjson, kibana_rule
from doorhunt.rules.pack.loader import (
    PACK_DIRECTORY,
    RuleSet,
    collect_rules,
    find_rule,
    load_rule_file,
    load_rules,
    parse_rule,
)
from doorhunt.rules.pack.model import (
    PACK_RULESET,
    RESPONSE_ACTIONS,
    RISK_BANDS,
    SEVERITIES,
    Example,
    Rule,
    RuleError,
    query_fields,
)

__all__ = [
    "KIBANA_INDEX",
    "PACK_DIRECTORY",
    "PACK_RULESET",
    "RESPONSE_ACTIONS",
    "RISK_BANDS",
    "SEVERITIES",
    "Example",
    "ExampleResult",
    "Rule",
    "RuleError",
    "RuleSet",
    "check_example",
    "check_examples",
    "collect_rules",
    "find_rule",
    "kibana_ndjson",
    "kibana_rule",
    "load_rule_file",
    "load_rules",
    "parse_rule",
    "query_fields",
]
