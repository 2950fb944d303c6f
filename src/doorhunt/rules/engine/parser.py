"""From EQL text to the engine's tree (nodes.py), with Elasticsearch's rules and located errors.

The syntax is eql's grammar (the `eql` package, through _eql.py); the walk over its parse tree
is ours because eql's own walker folds away what Elasticsearch distinguishes (`like` from
`like~`, `in` from `in~`, `f` from `f~`) and rejects lower-case function names. The checks
follow Elasticsearch's EQL parser and verifier; each error says which rule it enforces.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, NoReturn

import lark

from doorhunt.rules.engine import nodes as n
from doorhunt.rules.engine._eql import SyntaxProblem, Tree, field_parts, parse_tree
from doorhunt.rules.engine.errors import EqlError
from doorhunt.rules.engine.functions import BOOLEAN, ENDGAME_ONLY, FUNCTIONS
from doorhunt.rules.engine.values import PatternError, lucene_regex, parse_network, wildcard_tokens

_KEYWORDS: Final = frozenset(
    {"and", "by", "const", "false", "in", "join", "macro", "not", "null", "of", "or", "sequence",
     "true", "until", "where", "with", "sample", "like", "regex", "any"}
)  # fmt: skip
# Time units of `with maxspan` (Elasticsearch's LogicalPlanBuilder.visitSequenceParams).
_UNITS_US: Final = {
    "ms": 1_000,
    "s": 1_000_000,
    "m": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
}
_MAX_RUNS: Final = 100  # "The runs value must be between 1 and 100 (inclusive)."
_UNICODE_ESCAPE: Final = re.compile(r"\\u\{([0-9a-fA-F]{2,8})\}")

Child = Tree | lark.Token | None


class QueryParser:
    """Parses one query; `source` and `first_line` place errors in the rule file."""

    def __init__(self, text: str, *, source: str | None = None, first_line: int = 1) -> None:
        self.text = text
        self.source = source
        self.first_line = first_line
        self.lines = text.splitlines() or [""]

    # -- errors -------------------------------------------------------------------------------

    def fail(self, where: n.Span | Child, message: str) -> NoReturn:
        span = where if isinstance(where, n.Span) else self.span(where)
        line_text = self.lines[span.line - 1] if 0 < span.line <= len(self.lines) else ""
        width = span.end_column - span.column if span.end_line == span.line else 1
        width = max(1, min(width, max(1, len(line_text) - span.column + 1)))
        raise EqlError(
            message,
            line=span.line + self.first_line - 1,
            column=span.column,
            source_line=line_text,
            width=width,
            source=self.source,
        )

    def span(self, node: Child) -> n.Span:
        if isinstance(node, lark.Token):
            line = node.line or 1
            column = node.column or 1
            end_line = node.end_line or line
            end_column = node.end_column or column + max(1, len(node))
            return n.Span(line, column, end_line, end_column)
        if isinstance(node, lark.Tree):
            meta = node.meta
            if not getattr(meta, "empty", True):
                return n.Span(meta.line, meta.column, meta.end_line, meta.end_column)
            for child in node.children:
                if child is not None:
                    return self.span(child)
        return n.NO_SPAN

    # -- queries ------------------------------------------------------------------------------

    def parse(self) -> n.Query:
        if not self.text.strip():
            raise EqlError("empty query", line=self.first_line, column=1, source=self.source)
        try:
            tree = parse_tree(self.text)
        except SyntaxProblem as problem:
            self.fail(
                n.Span(problem.line, problem.column, problem.line, problem.column + problem.width),
                f"invalid syntax: {problem.message}",
            )
        base, pipes = tree.children[0], tree.children[1] if len(tree.children) > 1 else None
        if not isinstance(base, lark.Tree):
            self.fail(tree, "a query needs an event query, a sequence or a sample before pipes")
        body = self.base_query(base)
        return n.Query(body, self.pipes(pipes))

    def base_query(self, tree: Tree) -> n.Body:
        inner = tree.children[0]
        assert isinstance(inner, lark.Tree)
        kind = inner.data
        if kind == "event_query":
            return self.event_query(inner)
        if kind == "sequence":
            return self.sequence(inner)
        if kind == "sample":
            return self.sample(inner)
        if kind == "join":
            self.fail(inner, "join is not supported by Elasticsearch EQL; use a sequence")
        return self.fail(inner, f"unsupported query {kind}")

    def event_query(self, tree: Tree) -> n.EventQuery:
        name, condition = tree.children[0], tree.children[-1]
        if name is None:
            self.fail(tree, "an event query needs an event category and `where`: "
                      "`process where ...` or `any where ...`")  # fmt: skip
        assert isinstance(name, lark.Tree)
        category = self.name(name)
        expr = self.expr(condition)
        self.require_boolean(expr, condition)
        return n.EventQuery(None if category == "any" else category, expr, self.span(tree))

    def name(self, tree: Tree) -> str:
        token = tree.children[0]
        assert isinstance(token, lark.Token)
        return str(token)

    def pipes(self, tree: Child) -> tuple[n.Pipe, ...]:
        if not isinstance(tree, lark.Tree):
            return ()
        out: list[n.Pipe] = []
        for pipe in tree.children:
            assert isinstance(pipe, lark.Tree)
            name_tree = pipe.children[0]
            assert isinstance(name_tree, lark.Tree)
            name = self.name(name_tree)
            if name not in ("head", "tail"):
                self.fail(
                    name_tree,
                    f"pipe {name} is not supported by Elasticsearch EQL (only head and tail)",
                )
            args = [c for c in pipe.children[1:] if c is not None]
            values = self.expressions(args[0]) if args and args[0].data == "expressions" else []  # type: ignore[union-attr]
            if (
                len(values) != 1
                or not isinstance(values[0], n.Literal)
                or type(values[0].value) is not int
                or values[0].value <= 0
            ):
                self.fail(pipe, f"pipe {name} expects one positive integer")
            count = values[0].value
            assert isinstance(count, int)
            out.append(n.Pipe(name, count, self.span(pipe)))  # type: ignore[arg-type]
        return tuple(out)

    # -- sequences and samples -----------------------------------------------------------------

    def sequence(self, tree: Tree) -> n.Sequence:
        shared: list[n.Field] = []
        maxspan: int | None = None
        steps: list[n.Step] = []
        until: n.Step | None = None
        seen_with = False
        for child in tree.children:
            if not isinstance(child, lark.Tree):
                continue
            if child.data == "join_values":
                if seen_with:
                    self.fail(child, "specify sequence [by] before [with], not after "
                              "(Elasticsearch's grammar)")  # fmt: skip
                shared = self.join_keys(child)
            elif child.data == "with_params":
                seen_with = True
                maxspan = self.maxspan(child)
            elif child.data == "subquery_by":
                steps.extend(self.subquery_by(child, shared, allow_runs=True))
            elif child.data == "until_subquery_by":
                inner = child.children[0]
                assert isinstance(inner, lark.Tree)
                (until,) = self.subquery_by(inner, shared, allow_runs=False)
                if until.missing:
                    self.fail(inner, "`until` cannot be a missing-event step")
        self.check_key_counts(tree, steps + ([until] if until else []), len(shared))
        if not any(not step.missing for step in steps):
            self.fail(tree, "a sequence needs at least one step that is not a missing event")
        if len(steps) < 2:
            self.fail(tree, "a sequence needs at least two steps")
        if any(step.missing for step in steps) and maxspan is None:
            self.fail(tree, "`with maxspan` is mandatory when missing event steps are present")
        return n.Sequence(tuple(steps), until, maxspan, self.span(tree))

    def sample(self, tree: Tree) -> n.Sample:
        shared: list[n.Field] = []
        steps: list[n.Step] = []
        for child in tree.children:
            if not isinstance(child, lark.Tree):
                continue
            if child.data == "join_values":
                shared = self.join_keys(child)
            elif child.data == "subquery_by":
                for step in self.subquery_by(child, shared, allow_runs=False):
                    if step.missing:
                        self.fail(child, "missing event steps are only allowed in sequences")
                    steps.append(step)
        self.check_key_counts(tree, steps, len(shared))
        if len(steps) < 2:
            self.fail(tree, "a sample needs at least two steps")
        if not steps[0].keys:
            self.fail(tree, "a sample needs join keys (`sample by ...`)")
        return n.Sample(tuple(steps), self.span(tree))

    def check_key_counts(self, tree: Tree, steps: Sequence[n.Step], shared: int) -> None:
        if not steps:
            return
        expected = len(steps[0].keys)
        for step in steps[1:]:
            if len(step.keys) != expected:
                self.fail(
                    step.span,
                    "inconsistent number of join keys specified; expected "
                    f"[{expected - shared}] but found [{len(step.keys) - shared}]",
                )

    def maxspan(self, tree: Tree) -> int:
        time_range = tree.children[-1]
        assert isinstance(time_range, lark.Tree)
        number_tree = time_range.children[0]
        unit_tree = time_range.children[1] if len(time_range.children) > 1 else None
        assert isinstance(number_tree, lark.Tree)
        token = number_tree.children[-1]
        assert isinstance(token, lark.Token)
        if token.type != "UNSIGNED_INTEGER":
            self.fail(number_tree, f"decimal time interval [{token}] not supported; "
                      "please use a positive integer")  # fmt: skip
        value = int(token)
        if value <= 0:
            self.fail(number_tree, f"a positive maxspan value is required; found [{value}]")
        if unit_tree is None:
            self.fail(time_range, f"no time unit specified, did you mean [s] as in [{value}s]?")
        assert isinstance(unit_tree, lark.Tree)
        unit = self.name(unit_tree)
        if unit not in _UNITS_US:
            self.fail(unit_tree, f"unrecognized time unit [{unit}], please specify one of "
                      "[ms, s, m, h, d]")  # fmt: skip
        return value * _UNITS_US[unit]

    def join_keys(self, tree: Tree) -> list[n.Field]:
        expressions = tree.children[0]
        assert isinstance(expressions, lark.Tree)
        keys: list[n.Field] = []
        for child in _children(expressions):
            if child is None:
                continue
            expr = self.expr(child)
            if not isinstance(expr, n.Field):
                self.fail(child, "join keys must be fields")
            keys.append(expr)
        return keys

    def subquery_by(
        self, tree: Tree, shared: Sequence[n.Field], *, allow_runs: bool
    ) -> list[n.Step]:
        subquery = tree.children[0]
        assert isinstance(subquery, lark.Tree)
        missing = any(
            isinstance(c, lark.Token) and c.type == "MISSING_EVENT_OPEN" for c in subquery.children
        )
        event = next(c for c in subquery.children if isinstance(c, lark.Tree))
        query = self.event_query(event)
        keys = list(shared)
        runs = 1
        for child in tree.children[1:]:
            if not isinstance(child, lark.Tree):
                continue
            if child.data == "join_values":
                keys.extend(self.join_keys(child))
            elif child.data == "repeated_sequence":
                if not allow_runs:
                    self.fail(child, "`with runs` is only allowed on sequence steps")
                count = next(c for c in child.children if isinstance(c, lark.Token)
                             and c.type == "UNSIGNED_INTEGER")  # fmt: skip
                runs = int(count)
                if not 1 <= runs <= _MAX_RUNS:
                    self.fail(child, "the runs value must be between 1 and 100 (inclusive)")
            elif child.data == "fork_param":
                self.fail(child, "sequence fork is unsupported")
            elif child.data == "sequence_alias":
                self.fail(child, "sequence aliases (`as`) are not Elasticsearch EQL")
        step = n.Step(query, tuple(keys), missing, self.span(tree))
        return [step] * runs

    # -- expressions ----------------------------------------------------------------------------

    def require_boolean(self, expr: n.Expr, where: Child) -> None:
        if isinstance(expr, n.Literal) and not isinstance(expr.value, bool):
            self.fail(where, f"expected a condition, found the literal {_render(expr.value)}")
        if isinstance(expr, n.Arith | n.Negate):
            self.fail(where, "expected a condition, found arithmetic")
        if isinstance(expr, n.Call) and expr.name not in BOOLEAN:
            self.fail(where, f"expected a condition, found {expr.name}(), which does not "
                      "return a boolean")  # fmt: skip

    def expr(self, node: Child) -> n.Expr:
        if isinstance(node, lark.Token):
            self.fail(node, f"unexpected {node!s}")
        if node is None:
            self.fail(n.NO_SPAN, "missing expression")
        handler = getattr(self, f"x_{node.data}", None)
        if handler is None:
            self.fail(node, f"{node.data.replace('_', ' ')} is not supported")
        result: n.Expr = handler(node)
        return result

    def expressions(self, tree: Child) -> list[n.Expr]:
        if not isinstance(tree, lark.Tree):
            return []
        return [self.expr(child) for child in tree.children if child is not None]

    def x_or_expr(self, tree: Tree) -> n.Expr:
        terms = [self.expr(c) for c in tree.children if c is not None]
        for term, child in zip(terms, tree.children, strict=False):
            self.require_boolean(term, child)
        return n.Or(tuple(terms), self.span(tree))

    def x_and_expr(self, tree: Tree) -> n.Expr:
        terms = [self.expr(c) for c in tree.children if c is not None]
        for term, child in zip(terms, tree.children, strict=False):
            self.require_boolean(term, child)
        return n.And(tuple(terms), self.span(tree))

    def x_not_expr(self, tree: Tree) -> n.Expr:
        nots = sum(1 for c in tree.children if isinstance(c, lark.Token) and c.type == "NOT_OP")
        inner = tree.children[-1]
        expr = self.expr(inner)
        self.require_boolean(expr, inner)
        for _ in range(nots):
            expr = n.Not(expr, self.span(tree))
        return expr

    def x_comparison(self, tree: Tree) -> n.Expr:
        left_node, op_token, right_node = tree.children
        assert isinstance(op_token, lark.Token)
        op = str(op_token)
        if op == "=":
            self.fail(op_token, "invalid syntax: compare with == instead of =")
        left, right = self.expr(left_node), self.expr(right_node)
        span = self.span(tree)
        if op in ("==", "!=") and (_is_null(left) or _is_null(right)):
            value = right if _is_null(left) else left
            null_check: n.Expr = n.IsNull(value, span)
            return null_check if op == "==" else n.Not(null_check, span)
        if _has_field(left) and _has_field(right):
            self.fail(tree, "comparisons against fields are not supported by Elasticsearch "
                      f"EQL; offender [{self.text_of(right_node)}] in [{op}]")  # fmt: skip
        for side, node in ((left, left_node), (right, right_node)):
            if isinstance(side, n.Literal) and side.value is None:
                self.fail(node, f"null can only be compared with == or !=, not {op}")
            if op not in ("==", "!=") and isinstance(side, n.Literal) and type(side.value) is bool:
                self.fail(node, f"booleans cannot be ordered with {op}")
        if isinstance(left, n.Literal) and isinstance(right, n.Literal):
            self.check_comparable(tree, left, right)
        return n.Compare(op, left, right, span)  # type: ignore[arg-type]

    def check_comparable(self, tree: Tree, left: n.Literal, right: n.Literal) -> None:
        kinds = {_kind(left.value), _kind(right.value)}
        if len(kinds) > 1:
            self.fail(tree, f"cannot compare {_render(left.value)} with {_render(right.value)}")

    def x_in_set(self, tree: Tree, *, negated: bool = False) -> n.Expr:
        value_node, in_token, items_tree = tree.children[0], tree.children[1], tree.children[2]
        assert isinstance(in_token, lark.Token)
        value = self.expr(value_node)
        items: list[n.Literal] = []
        assert isinstance(items_tree, lark.Tree)
        for child in _children(items_tree):
            if child is None:
                continue
            item = self.expr(child)
            if not isinstance(item, n.Literal):
                self.fail(child, "the values of `in` must be literals (Elasticsearch does not "
                          "compare a field to another field)")  # fmt: skip
            items.append(item)
        if isinstance(value, n.Literal):
            self.fail(value_node, "the left side of `in` must not be a literal")
        expr: n.Expr = n.InList(value, tuple(items), str(in_token) == "in~", self.span(tree))
        return n.Not(expr, self.span(tree)) if negated else expr

    def x_not_in_set(self, tree: Tree) -> n.Expr:
        return self.x_in_set(tree, negated=True)

    def x_string_predicate(self, tree: Tree) -> n.Expr:
        value_node, op_token = tree.children[0], tree.children[1]
        assert isinstance(op_token, lark.Token)
        op = str(op_token)
        value = self.expr(value_node)
        patterns: list[str] = []
        for child in _children(tree)[2:]:
            if child is None:
                continue
            item = self.expr(child)
            if not isinstance(item, n.Literal) or not isinstance(item.value, str):
                self.fail(child, f"`{op}` compares with strings only")
            patterns.append(item.value)
            self.check_pattern(child, op, item.value)
        kind: n.PatternKind = "regex" if op.startswith("regex") else "like"
        insensitive = op in (":", "like~", "regex~")
        return n.Pattern(value, kind, insensitive, tuple(patterns), self.span(tree))

    def check_pattern(self, node: Child, op: str, pattern: str) -> None:
        try:
            if op.startswith("regex"):
                lucene_regex(pattern, op.endswith("~"))
            else:
                wildcard_tokens(pattern)
        except PatternError as error:
            self.fail(node, str(error))

    def x_sum_expr(self, tree: Tree) -> n.Expr:
        return self.arith_chain(tree)

    def x_mul_expr(self, tree: Tree) -> n.Expr:
        return self.arith_chain(tree)

    def arith_chain(self, tree: Tree) -> n.Expr:
        result = self.numeric_operand(tree.children[0])
        for op_token, operand in zip(tree.children[1::2], tree.children[2::2], strict=True):
            assert isinstance(op_token, lark.Token)
            right = self.numeric_operand(operand)
            result = n.Arith(str(op_token), result, right, self.span(tree))  # type: ignore[arg-type]
        return result

    def numeric_operand(self, node: Child) -> n.Expr:
        expr = self.expr(node)
        if isinstance(expr, n.Literal) and not _is_number(expr.value):
            self.fail(node, f"arithmetic needs numbers, found {_render(expr.value)}")
        return expr

    def x_value(self, tree: Tree) -> n.Expr:
        sign, operand = tree.children[0], tree.children[1]
        expr = self.numeric_operand(operand)
        if str(sign) == "-":
            if isinstance(expr, n.Literal) and _is_number(expr.value):
                return n.Literal(-expr.value, self.span(tree))  # type: ignore[operator]
            return n.Negate(expr, self.span(tree))
        return expr

    def x_method_chain(self, tree: Tree) -> n.Expr:
        self.fail(tree, "method syntax (`value:function()`) is not Elasticsearch EQL")

    def x_varpath(self, tree: Tree) -> n.Expr:
        self.fail(tree, "variables ($name) are not Elasticsearch EQL")

    def x_named_subquery(self, tree: Tree) -> n.Expr:
        self.fail(tree, "lineage keywords (child of, descendant of, event of) are not "
                  "supported by Elasticsearch EQL")  # fmt: skip

    def x_function_call(self, tree: Tree) -> n.Expr:
        name_token = tree.children[0]
        assert isinstance(name_token, lark.Token)
        written = str(name_token)
        insensitive = written.endswith("~")
        key = written.rstrip("~").lower()
        spec = FUNCTIONS.get(key)
        if spec is None:
            if key in ENDGAME_ONLY:
                self.fail(name_token, f"function {written.rstrip('~')} is Endgame EQL (the eql "
                          "package), not supported by Elasticsearch")  # fmt: skip
            self.fail(name_token, f"unknown function {written.rstrip('~')}")
        if insensitive and not spec.insensitive:
            self.fail(name_token, f"function {spec.name} has no case-insensitive form (~)")
        args_tree = tree.children[1] if len(tree.children) > 1 else None
        arg_nodes = (
            [c for c in args_tree.children if c is not None]
            if isinstance(args_tree, lark.Tree)
            else []
        )
        args = [self.expr(c) for c in arg_nodes]
        if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
            expected = (
                str(spec.min_args)
                if spec.max_args == spec.min_args
                else f"{spec.min_args} or more"
                if spec.max_args is None
                else f"{spec.min_args} to {spec.max_args}"
            )
            self.fail(tree, f"{spec.name} takes {expected} arguments, got {len(args)}")
        for index, (arg, node) in enumerate(zip(args, arg_nodes, strict=True)):
            literal_needed = index in spec.literal_args or (
                spec.literal_from is not None and index >= spec.literal_from
            )
            if literal_needed and not isinstance(arg, n.Literal):
                self.fail(node, f"argument {index + 1} of {spec.name} must be a literal")
        self.check_call(spec.name, args, arg_nodes)
        return n.Call(spec.name, tuple(args), insensitive, self.span(tree))

    def check_call(self, name: str, args: Sequence[n.Expr], nodes: Sequence[Child]) -> None:
        if name == "cidrMatch":
            for arg, node in zip(args[1:], nodes[1:], strict=True):
                assert isinstance(arg, n.Literal)
                if not isinstance(arg.value, str):
                    self.fail(node, "cidrMatch takes CIDR blocks as strings")
                try:
                    parse_network(arg.value)
                except PatternError as error:
                    self.fail(node, str(error))
        if name == "between" and len(args) == 4:
            greedy = args[3]
            if not isinstance(greedy, n.Literal) or not isinstance(greedy.value, bool):
                self.fail(nodes[3], "the greedy argument of between must be true or false")
        if name == "number" and len(args) == 2:
            base = args[1]
            assert isinstance(base, n.Literal)
            if base.value is not None and (
                type(base.value) is not int or not 2 <= base.value <= 36
            ):
                self.fail(nodes[1], "the base of number() must be an integer from 2 to 36")

    def x_literal(self, tree: Tree) -> n.Expr:
        inner = tree.children[0]
        assert isinstance(inner, lark.Tree)
        span = self.span(tree)
        if inner.data == "null":
            return n.Literal(None, span)
        token = inner.children[-1]
        assert isinstance(token, lark.Token)
        if inner.data == "boolean":
            return n.Literal(str(token) == "true", span)
        if inner.data == "number":
            text = str(token)
            value: int | float = int(text) if token.type == "UNSIGNED_INTEGER" else float(text)
            return n.Literal(value, span)
        return n.Literal(self.string(token), span)

    def string(self, token: lark.Token) -> str:
        text = str(token)
        if text.startswith('"""'):
            return text[3:-3]
        if text.startswith(("'", "?")):
            self.fail(token, 'strings are enclosed in double quotes (") or three double quotes '
                      '("""); single quotes and ?"..." are not Elasticsearch EQL')  # fmt: skip
        return self.unescape(token, text[1:-1])

    def unescape(self, token: lark.Token, body: str) -> str:
        # Escapes of the EQL syntax reference, "Escape characters in a string".
        out: list[str] = []
        index = 0
        while index < len(body):
            char = body[index]
            if char != "\\":
                out.append(char)
                index += 1
                continue
            match = _UNICODE_ESCAPE.match(body, index)
            if match:
                code = int(match.group(1), 16)
                if code > 0x10FFFF:
                    self.fail(token, f"invalid unicode escape {match.group(0)}")
                out.append(chr(code))
                index = match.end()
                continue
            escaped = body[index + 1] if index + 1 < len(body) else ""
            mapped = {"n": "\n", "r": "\r", "t": "\t", "\\": "\\", '"': '"', "b": "\b", "f": "\f"}
            if escaped not in mapped:
                self.fail(token, f"invalid escape sequence \\{escaped} (single quotes are "
                          "reserved; use \\\" for a double quote)")  # fmt: skip
            out.append(mapped[escaped])
            index += 2
        return "".join(out)

    def x_field(self, tree: Tree) -> n.Expr:
        token = tree.children[0]
        assert isinstance(token, lark.Token)
        text = str(token)
        optional = text.startswith("?")
        path: list[str] = []
        for kind, part in field_parts(text[1:] if optional else text):
            if kind == "index":
                self.fail(tree, "array indexes (field[0]) are not Elasticsearch EQL")
            if kind == "name" and part in _KEYWORDS - {"any", "like", "regex", "sample"}:
                self.fail(tree, f"invalid use of the keyword {part}")
            path.append(part)
        return n.Field(tuple(path), optional, self.span(tree))

    def x_base_field(self, tree: Tree) -> n.Expr:
        inner = tree.children[0]
        assert isinstance(inner, lark.Tree)
        token = inner.children[0]
        assert isinstance(token, lark.Token)
        if token.type == "ESCAPED_NAME":
            return n.Field((str(token)[1:-1],), False, self.span(tree))
        name = str(token)
        if name in _KEYWORDS - {"any", "like", "regex", "sample"}:
            self.fail(tree, f"invalid use of the keyword {name}")
        return n.Field((name,), False, self.span(tree))

    def text_of(self, node: Child) -> str:
        span = self.span(node)
        if span.line == span.end_line and 0 < span.line <= len(self.lines):
            return self.lines[span.line - 1][span.column - 1 : span.end_column - 1]
        return "..."


def _children(tree: Tree) -> list[Child]:
    # Lark 1.3 keeps None for absent optional parts; its stubs do not say so.
    return list(tree.children)


def _is_null(expr: n.Expr) -> bool:
    return isinstance(expr, n.Literal) and expr.value is None


def _has_field(expr: n.Expr) -> bool:
    return bool(n.fields_of(expr))


def _is_number(value: n.Scalar) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _kind(value: n.Scalar) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "null"


def _render(value: n.Scalar) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def parse_query(text: str, *, source: str | None = None, first_line: int = 1) -> n.Query:
    """Parse one EQL query (Elasticsearch syntax) into the engine's tree."""
    return QueryParser(text, source=source, first_line=first_line).parse()


__all__ = ["QueryParser", "parse_query"]
