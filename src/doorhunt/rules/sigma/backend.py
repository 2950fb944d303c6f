"""A pySigma backend that writes EQL with Elasticsearch's semantics, for doorhunt's engine and
for an Elasticsearch cluster alike.

Sigma matches strings case-insensitively unless `|cased`, with `*` and `?` wildcards and `\\`
escapes (Sigma specification). The EQL operators chosen for each shape of value:

| Sigma value | EQL |
|---|---|
| text, wildcards only where Sigma has them | `field : "pat*"` (`:` is case-insensitive with `*`, `?`) |
| text with a literal `*` or `?`, no wildcard | `field in~ ("a*b")` |
| literal `*`/`?` with a leading/trailing `*` | `startsWith~`, `endsWith~`, `stringContains~` |
| anything else with a literal `*`/`?` | `field regex~ "..."` (EQL wildcards have no escape) |
| `\\|cased` | `==`, `in`, `like`, `startsWith(...)`, `regex` |
| `\\|re` | `field regex "..."` (regex.py: whole-value Lucene syntax) |
| `\\|cidr` | `cidrMatch(field, "net/len")` |
| numbers on a numeric field; `\\|lt` ... | `field == 4444`, `field in (...)`, `field < 5` |
| `\\|exists`, `null` | `field != null`, `field == null` |

Values OR-ed on one field become one list (`field : ("a", "b*")`). Field types come from
doorhunt's pinned ECS field set: a numeric or IP field gets numbers or addresses, never a
wildcard pattern Elasticsearch would reject.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from sigma.conditions import (
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.conversion.base import TextQueryBackend
from sigma.conversion.deferred import DeferredQueryExpression
from sigma.conversion.state import ConversionState
from sigma.exceptions import SigmaFeatureNotSupportedByBackendError
from sigma.rule import SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SpecialChars,
)

from doorhunt.ecs import load_schema
from doorhunt.rules.sigma.pipeline import STATE_CATEGORY, STATE_EVENT_FILTER
from doorhunt.rules.sigma.regex import (
    LuceneRegex,
    RegexUnsupported,
    pcre_to_lucene,
    wildcards_to_lucene,
)
from doorhunt.rules.sigma.report import KIND_KEYWORDS, KIND_REGEX, KIND_VALUE
from doorhunt.rules.sigma.text import eql_escape, quote

_NUMERIC_TYPES: Final = frozenset(
    {"long", "integer", "short", "byte", "unsigned_long", "float", "double", "scaled_float"}
)
_PLAIN_FIELD: Final = re.compile(r"[A-Za-z_@][A-Za-z0-9_@]*(?:\.[A-Za-z_@][A-Za-z0-9_@]*)*")
_NUMBER: Final = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_IPV4_PREFIX: Final = re.compile(r"((?:[0-9]{1,3}\.){1,3})\*")

Token = tuple[str, str]  # ("text", literal), ("*", ""), ("?", "")


class NotConvertible(SigmaFeatureNotSupportedByBackendError):
    """A value doorhunt's EQL cannot express faithfully for its field."""

    def __init__(self, message: str, *, kind: str = KIND_VALUE) -> None:
        super().__init__(message)
        self.kind = kind


def eql_string(text: str) -> str:
    """`text` as an EQL string literal (Elasticsearch's escapes; `\\u{X}` for the rest)."""
    return quote(text, eql_escape)


def eql_field(name: str) -> str:
    return name if _PLAIN_FIELD.fullmatch(name) else "`" + name.replace("`", "``") + "`"


def field_kind(name: str) -> str:
    """`number`, `ip`, `boolean` or `text`, from the field's ECS type."""
    spec = load_schema().get(name)
    if spec is None:
        return "text"
    if spec.type in _NUMERIC_TYPES:
        return "number"
    if spec.type in ("ip", "boolean"):
        return spec.type
    return "text"


def string_tokens(value: SigmaString) -> list[Token]:
    tokens: list[Token] = []
    for part in value.s:
        if isinstance(part, str):
            if tokens and tokens[-1][0] == "text":
                tokens[-1] = ("text", tokens[-1][1] + part)
            else:
                tokens.append(("text", part))
        elif part is SpecialChars.WILDCARD_MULTI:
            tokens.append(("*", ""))
        elif part is SpecialChars.WILDCARD_SINGLE:
            tokens.append(("?", ""))
        else:
            raise NotConvertible(
                f"placeholder %{getattr(part, 'name', part)}% (the expand modifier) needs a "
                "value list, which doorhunt's pipeline does not define"
            )
    return tokens


@dataclass(frozen=True, slots=True)
class Term:
    """A field compared with one value by an operator that also takes a list."""

    field: str
    operator: str  # ":", "like", "in~", "in"
    value: str

    def render(self) -> str:
        if self.operator == "in":
            return f"{eql_field(self.field)} == {self.value}"
        if self.operator == "in~":
            return f"{eql_field(self.field)} in~ ({self.value})"
        return f"{eql_field(self.field)} {self.operator} {self.value}"


def render_terms(terms: Sequence[Term]) -> str:
    if len(terms) == 1:
        return terms[0].render()
    first = terms[0]
    values = ", ".join(term.value for term in terms)
    return f"{eql_field(first.field)} {first.operator} ({values})"


class DoorhuntEqlBackend(TextQueryBackend):
    """Sigma rules to EQL event queries with Elasticsearch's semantics."""

    name: ClassVar[str] = "doorhunt EQL"
    identifier: ClassVar[str] = "doorhunt_eql"
    formats: ClassVar[dict[str, str]] = {"default": "EQL event queries"}
    requires_pipeline: ClassVar[bool] = True

    group_expression: ClassVar[str] = "({expr})"
    # EQL's operators (ruff's S105 reads "token" as a password).
    token_separator: str = " "  # noqa: S105
    or_token: ClassVar[str] = "or"  # noqa: S105
    and_token: ClassVar[str] = "and"  # noqa: S105
    not_token: ClassVar[str] = "not"  # noqa: S105
    eq_token: ClassVar[str] = " : "  # noqa: S105
    field_exists_expression: ClassVar[str] = "{field} != null"
    field_not_exists_expression: ClassVar[str] = "{field} == null"
    field_null_expression: ClassVar[str] = "{field} == null"

    def escape_and_quote_field(self, field_name: str) -> str:
        return eql_field(field_name)

    # -- strings ------------------------------------------------------------------------------

    def string_term(self, field: str, value: SigmaString) -> Term | str:
        """One string comparison: a Term when a list form exists, else the expression."""
        cased = isinstance(value, SigmaCasedString)
        tokens = string_tokens(value)
        kind = field_kind(field)
        if kind == "number":
            return self.number_term(field, tokens, str(value))
        if kind == "ip":
            return self.ip_term(field, tokens, str(value))
        if kind == "boolean":
            text = "".join(t for _, t in tokens).lower()
            if [k for k, _ in tokens] != ["text"] or text not in ("true", "false"):
                raise NotConvertible(f"{field} is boolean; {value!s} is not true or false")
            return f"{eql_field(field)} == {text}"
        wildcard = any(k != "text" for k, _ in tokens)
        literal_wildcard = any(k == "text" and ("*" in t or "?" in t) for k, t in tokens)
        if not literal_wildcard:
            pattern = "".join(t if k == "text" else k for k, t in tokens)
            if cased:
                return Term(field, "like" if wildcard else "in", eql_string(pattern))
            return Term(field, ":", eql_string(pattern))
        text = "".join(t for k, t in tokens if k == "text")
        if not wildcard:
            return Term(field, "in" if cased else "in~", eql_string(text))
        shape = [k for k, _ in tokens]
        function = {
            ("*", "text"): "endsWith",
            ("text", "*"): "startsWith",
            ("*", "text", "*"): "stringContains",
        }.get(tuple(shape))
        if function is not None:
            tilde = "" if cased else "~"
            return f"{function}{tilde}({eql_field(field)}, {eql_string(text)})"
        return self.regex_expression(field, wildcards_to_lucene(tokens, cased=cased))

    def number_term(self, field: str, tokens: list[Token], shown: str) -> Term:
        text = "".join(t for _, t in tokens).strip()
        if [k for k, _ in tokens] != ["text"] or not _NUMBER.fullmatch(text):
            raise NotConvertible(f"{field} is numeric; the value {shown!r} is not a number")
        return Term(field, "in", text)

    def ip_term(self, field: str, tokens: list[Token], shown: str) -> Term | str:
        text = "".join(t if k == "text" else k for k, t in tokens)
        if [k for k, _ in tokens] == ["text"]:
            try:
                address = ipaddress.ip_address(text)
            except ValueError:
                raise NotConvertible(f"{field} holds IP addresses; {shown!r} is not one") from None
            return Term(field, "in", eql_string(str(address)))
        prefix = _IPV4_PREFIX.fullmatch(text)
        if prefix is not None:
            octets = prefix.group(1).rstrip(".").split(".")
            if all(int(o) <= 255 for o in octets):
                network = ".".join(octets + ["0"] * (4 - len(octets)))
                return f'cidrMatch({eql_field(field)}, "{network}/{8 * len(octets)}")'
        raise NotConvertible(f"{field} holds IP addresses; the pattern {shown!r} is not a prefix")

    def regex_expression(self, field: str, regex: LuceneRegex) -> str:
        operator = "regex~" if regex.insensitive else "regex"
        return f"{eql_field(field)} {operator} {eql_string(regex.pattern)}"

    def value_term(self, cond: ConditionFieldEqualsValueExpression) -> Term | str | None:
        """The list-capable form of a field/value comparison, or None for other values."""
        value = cond.value
        if isinstance(value, SigmaString):
            return self.string_term(cond.field, value)
        if isinstance(value, SigmaNumber):
            kind = field_kind(cond.field)
            if kind == "number":
                return Term(cond.field, "in", str(value.number))
            if kind == "text":
                return Term(cond.field, ":", eql_string(str(value.number)))
            raise NotConvertible(f"{cond.field} is {kind}; the number {value!s} cannot match it")
        return None

    def convert_condition_field_eq_val_str(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        term = self.value_term(cond)
        return term.render() if isinstance(term, Term) else str(term)

    def convert_condition_field_eq_val_str_case_sensitive(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return self.convert_condition_field_eq_val_str(cond, state)

    def convert_condition_field_eq_val_num(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        return self.convert_condition_field_eq_val_str(cond, state)

    def convert_condition_field_eq_val_bool(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = cond.value
        assert isinstance(value, SigmaBool)
        text = "true" if value.boolean else "false"
        if field_kind(cond.field) == "boolean":
            return f"{eql_field(cond.field)} == {text}"
        return f"{eql_field(cond.field)} : {eql_string(text)}"

    # -- other values ---------------------------------------------------------------------------

    def convert_condition_field_eq_val_re(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = cond.value
        assert isinstance(value, SigmaRegularExpression)
        if field_kind(cond.field) != "text":
            raise NotConvertible(f"a regular expression on {cond.field}, which is not text")
        flags = value.flags
        try:
            regex = pcre_to_lucene(
                str(value.regexp),
                ignorecase=SigmaRegularExpressionFlag.IGNORECASE in flags,
                multiline=SigmaRegularExpressionFlag.MULTILINE in flags,
                dotall=SigmaRegularExpressionFlag.DOTALL in flags,
            )
        except RegexUnsupported as error:
            raise NotConvertible(
                f"{error}, which Elasticsearch's regex syntax lacks", kind=KIND_REGEX
            ) from None
        return self.regex_expression(cond.field, regex)

    def convert_condition_field_eq_val_cidr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = cond.value
        assert isinstance(value, SigmaCIDRExpression)
        if field_kind(cond.field) != "ip":
            raise NotConvertible(f"a CIDR range on {cond.field}, which is not an IP field")
        return f"cidrMatch({eql_field(cond.field)}, {eql_string(str(value.network))})"

    def convert_condition_field_compare_op_val(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        value = cond.value
        assert isinstance(value, SigmaCompareExpression)
        if field_kind(cond.field) != "number":
            raise NotConvertible(f"a numeric comparison on {cond.field}, which is not numeric")
        operators = {"LT": "<", "LTE": "<=", "GT": ">", "GTE": ">=", "NEQ": "!="}
        operator = operators.get(value.op.name)
        if operator is None:
            raise NotConvertible(f"the comparison {value.op.name}")
        return f"{eql_field(cond.field)} {operator} {value.number.number}"

    def convert_condition_field_eq_field(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        raise NotConvertible("fieldref: Elasticsearch EQL cannot compare one field with another")

    def convert_condition_field_eq_val_timestamp_part(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        raise NotConvertible("timestamp-part modifiers (|minute, |hour, ...)")

    def convert_condition_field_eq_query_expr(
        self, cond: ConditionFieldEqualsValueExpression, state: ConversionState
    ) -> str:
        raise NotConvertible("query-expression placeholders")

    def convert_condition_val_str(self, cond: ConditionValueExpression, state: Any) -> str:
        raise NotConvertible("keyword search (a value without a field)", kind=KIND_KEYWORDS)

    def convert_condition_val_num(self, cond: ConditionValueExpression, state: Any) -> str:
        raise NotConvertible("keyword search (a value without a field)", kind=KIND_KEYWORDS)

    def convert_condition_val_re(self, cond: ConditionValueExpression, state: Any) -> str:
        raise NotConvertible(
            "keyword search (a regular expression without a field)", kind=KIND_KEYWORDS
        )

    def convert_condition_query_expr(self, cond: ConditionValueExpression, state: Any) -> str:
        raise NotConvertible("query-expression placeholders")

    # -- boolean structure ------------------------------------------------------------------------

    def convert_condition_or(
        self, cond: ConditionOR, state: ConversionState
    ) -> str | DeferredQueryExpression | None:
        """OR, with the values compared to one field by one operator gathered into a list."""
        groups: dict[tuple[str, str], list[Term]] = {}
        parts: list[object] = []
        for arg in cond.args:
            term = (
                self.value_term(arg)
                if isinstance(arg, ConditionFieldEqualsValueExpression)
                else None
            )
            if isinstance(term, Term):
                key = (term.field, term.operator)
                if key not in groups:
                    groups[key] = []
                    parts.append(key)
                # aN fields all become process.args: the same value may come several times.
                if term not in groups[key]:
                    groups[key].append(term)
            elif isinstance(term, str):
                parts.append(term)
            else:
                converted = (
                    self.convert_condition(arg, state)
                    if self.compare_precedence(cond, arg)
                    else self.convert_condition_group(arg, state)
                )
                parts.append(converted)
        rendered = [
            render_terms(groups[part]) if isinstance(part, tuple) else str(part)
            for part in parts
            if part is not None
        ]
        return " or ".join(dict.fromkeys(rendered))

    def convert_condition_not(
        self, cond: ConditionNOT, state: ConversionState
    ) -> str | DeferredQueryExpression | None:
        # Always `not (...)`: a reader need not know how tightly `not` binds next to `:`.
        inner = self.convert_condition(cond.args[0], state)
        if isinstance(inner, DeferredQueryExpression) or inner is None:
            return inner
        if inner.startswith("(") and inner.endswith(")") and _balanced(inner[1:-1]):
            return f"not {inner}"
        return f"not ({inner})"

    def finalize_query_default(
        self, rule: SigmaRule, query: str, index: int, state: ConversionState
    ) -> str:
        category = state.processing_state.get(STATE_CATEGORY, "any")
        event_filter = state.processing_state.get(STATE_EVENT_FILTER)
        if event_filter:
            return f"{category} where {event_filter} and\n  ({query})"
        return f"{category} where {query}"


def _balanced(text: str) -> bool:
    """Whether parentheses outside string literals balance without closing early."""
    depth = 0
    in_string = False
    escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


__all__ = [
    "DoorhuntEqlBackend",
    "NotConvertible",
    "Term",
    "eql_field",
    "eql_string",
    "field_kind",
    "render_terms",
    "string_tokens",
]
