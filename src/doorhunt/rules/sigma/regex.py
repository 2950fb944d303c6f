"""Sigma's regular expressions as Elasticsearch's.

Sigma's `|re` values are PCRE searched anywhere in the value, case-sensitive unless `(?i)` or
the `|i` modifier says otherwise (Sigma specification, "Modifiers"). EQL's `regex` is a Lucene
regular expression that must match the *whole* value, with no anchors, no lazy or possessive
quantifiers, no lookaround and no inline flags (Elasticsearch's `regexp` syntax). This module
parses the PCRE subset that can be carried over exactly and rewrites it for a whole-value
match: `.*` around an unanchored pattern, leading `^` and trailing `$` turned into the absence
of that `.*`, an anchor inside a leading or trailing group (`(^|/)`) distributed over the
group's alternatives, `.` kept from matching a newline (Lucene's `.` matches any character),
and case-insensitivity written out as character classes where `regex~` cannot express it.
Anything else raises RegexUnsupported with the construct named.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Final

_MAX_REPEAT: Final = 1000  # doorhunt's engine, like RE2, refuses larger counts
_MAX_EXPANSIONS: Final = 32  # alternatives produced by distributing edge anchors
_MAX_FOLD_RANGE: Final = 512  # characters of a non-ASCII range folded one by one
_CONTROL_ESCAPES: Final = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "f": "\f",
    "v": "\v",
    "e": "\x1b",
    "a": "\x07",
    "0": "\x00",
}
# PCRE's \s, \d and \w are ASCII (no PCRE2_UCP in Sigma's PCRE); Lucene's are too.
_SHORTHANDS: Final = {
    "d": (("0", "9"),),
    "w": (("a", "z"), ("A", "Z"), ("0", "9"), ("_", "_")),
    "s": ((" ", " "), ("\t", "\r")),  # \t \n \v \f \r are consecutive code points
}
_UNSUPPORTED_ESCAPES: Final = {
    "b": "word boundaries (\\b)",
    "B": "non-word boundaries (\\B)",
    "G": "\\G",
    "K": "\\K",
    "Q": "\\Q...\\E quoting",
    "p": "Unicode properties (\\p)",
    "P": "Unicode properties (\\P)",
    "X": "\\X",
    "R": "\\R",
    "h": "\\h",
    "H": "\\H",
    "N": "\\N",
    "C": "\\C",
}


class RegexUnsupported(ValueError):
    """A regular expression that Elasticsearch's regex syntax cannot express exactly."""


# -- the parsed pattern ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Literal:
    char: str
    fold: bool


@dataclass(frozen=True, slots=True)
class AnyChar:
    dotall: bool


@dataclass(frozen=True, slots=True)
class CharClass:
    ranges: tuple[tuple[str, str], ...]
    negated: bool
    fold: bool


@dataclass(frozen=True, slots=True)
class Start:
    multiline: bool


@dataclass(frozen=True, slots=True)
class End:
    multiline: bool
    # `$` and `\Z` also match before a final newline; `\z` only at the very end.
    before_final_newline: bool = True


@dataclass(frozen=True, slots=True)
class Concat:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Group:
    alternatives: tuple[Concat, ...]


@dataclass(frozen=True, slots=True)
class Repeat:
    node: Node
    low: int
    high: int | None


Node = Literal | AnyChar | CharClass | Start | End | Group | Repeat


@dataclass(slots=True)
class _Flags:
    ignorecase: bool
    multiline: bool
    dotall: bool


@dataclass(frozen=True, slots=True)
class LuceneRegex:
    """A Lucene regular expression for a whole-value match; `insensitive` means `regex~`."""

    pattern: str
    insensitive: bool


# -- parsing ----------------------------------------------------------------------------------


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.index = 0

    def fail(self, message: str) -> RegexUnsupported:
        return RegexUnsupported(f"regular expression {self.pattern!r}: {message}")

    def peek(self, ahead: int = 0) -> str:
        at = self.index + ahead
        return self.pattern[at] if at < len(self.pattern) else ""

    def parse(self, flags: _Flags) -> Group:
        group = self.alternation(flags)
        if self.index != len(self.pattern):
            raise self.fail(f"unbalanced ) at {self.index}")
        return group

    def alternation(self, flags: _Flags) -> Group:
        # An inline flag change lasts to the end of its group, across later alternatives (PCRE).
        local = replace(flags)
        alternatives = [self.concat(local)]
        while self.peek() == "|":
            self.index += 1
            alternatives.append(self.concat(local))
        return Group(tuple(alternatives))

    def concat(self, flags: _Flags) -> Concat:
        items: list[Node] = []
        while self.index < len(self.pattern) and self.peek() not in "|)":
            atom = self.atom(flags)
            if atom is None:
                continue
            while (bounds := self.quantifier()) is not None:
                if isinstance(atom, Start | End):
                    raise self.fail("a repeated anchor")
                if isinstance(atom, Repeat):
                    raise self.fail("a repeated repetition")
                atom = Repeat(atom, *bounds)
                if self.peek() == "+":
                    raise self.fail("possessive quantifiers")
                if self.peek() == "?":
                    # A lazy quantifier matches the same set of strings as a greedy one.
                    self.index += 1
            items.append(atom)
        return Concat(tuple(items))

    def quantifier(self) -> tuple[int, int | None] | None:
        char = self.peek()
        if char == "*":
            self.index += 1
            return 0, None
        if char == "+":
            self.index += 1
            return 1, None
        if char == "?":
            self.index += 1
            return 0, 1
        if char == "{":
            bounds = self.counted()
            if bounds is not None:
                return bounds
        return None

    def counted(self) -> tuple[int, int | None] | None:
        """`{n}`, `{n,}`, `{n,m}` or `{,m}`; None when the brace is a literal (PCRE)."""
        end = self.pattern.find("}", self.index)
        if end < 0:
            return None
        body = self.pattern[self.index + 1 : end]
        low_text, comma, high_text = body.partition(",")
        if not (low_text.isdigit() or (comma and not low_text)):
            return None
        if high_text and not high_text.isdigit():
            return None
        if not low_text and not high_text:
            return None
        low = int(low_text) if low_text else 0
        high = int(high_text) if high_text else (None if comma else low)
        if max(low, high or 0) > _MAX_REPEAT:
            raise self.fail(f"repetition counts above {_MAX_REPEAT}")
        if high is not None and high < low:
            raise self.fail(f"invalid repetition {{{body}}}")
        self.index = end + 1
        return low, high

    def atom(self, flags: _Flags) -> Node | None:
        char = self.pattern[self.index]
        if char == "(":
            return self.group(flags)
        if char == "[":
            return self.char_class(flags)
        self.index += 1
        if char == ".":
            return AnyChar(flags.dotall)
        if char == "^":
            return Start(flags.multiline)
        if char == "$":
            return End(flags.multiline)
        if char == "\\":
            return self.escape(flags)
        if char in "*+?":
            raise self.fail(f"nothing to repeat before {char!r}")
        if char == "{":
            self.index -= 1
            if self.counted() is not None:
                raise self.fail("nothing to repeat before '{'")
            self.index += 1
        return Literal(char, flags.ignorecase)

    def group(self, flags: _Flags) -> Node | None:
        self.index += 1
        inner_flags = replace(flags)
        if self.peek() == "?":
            self.index += 1
            kind = self.peek()
            if kind == "#":
                end = self.pattern.find(")", self.index)
                if end < 0:
                    raise self.fail("unterminated comment")
                self.index = end + 1
                return None
            if kind == ":":
                self.index += 1
            elif kind in ("P", "<", "'") and self.peek(1) not in ("=", "!"):
                self.named_group_start()
            elif kind in ("=", "!") or (kind == "<" and self.peek(1) in ("=", "!")):
                raise self.fail("lookaround assertions")
            elif kind == ">":
                raise self.fail("atomic groups")
            else:
                scoped = self.inline_flags(inner_flags)
                if not scoped:
                    # `(?i)`: the rest of the enclosing group takes the flags.
                    flags.ignorecase = inner_flags.ignorecase
                    flags.multiline = inner_flags.multiline
                    flags.dotall = inner_flags.dotall
                    return None
        inner = self.alternation(inner_flags)
        if self.peek() != ")":
            raise self.fail("missing )")
        self.index += 1
        return inner

    def named_group_start(self) -> None:
        if self.peek() == "P":
            self.index += 1
            if self.peek() != "<":
                raise self.fail("back references (?P=...)")
        closing = ">" if self.peek() == "<" else "'"
        end = self.pattern.find(closing, self.index + 1)
        if end < 0:
            raise self.fail("unterminated group name")
        self.index = end + 1

    def inline_flags(self, flags: _Flags) -> bool:
        """Read `(?imsx-imsx)` or `(?imsx-imsx:`; True when the flags are scoped to a group."""
        on = True
        while True:
            char = self.peek()
            self.index += 1
            if char == ")":
                return False
            if char == ":":
                return True
            if char == "-":
                on = False
            elif char == "i":
                flags.ignorecase = on
            elif char == "m":
                flags.multiline = on
            elif char == "s":
                flags.dotall = on
            elif char == "x":
                raise self.fail("extended mode (?x)")
            elif not char:
                raise self.fail("missing )")
            else:
                raise self.fail(f"the group or flag (?{char}")

    def escape(self, flags: _Flags) -> Node:
        if self.index >= len(self.pattern):
            raise self.fail("a trailing backslash")
        char = self.pattern[self.index]
        self.index += 1
        if char.lower() in _SHORTHANDS:
            return CharClass(_SHORTHANDS[char.lower()], char.isupper(), False)
        if char == "A":
            return Start(False)
        if char in "Zz":
            return End(False, before_final_newline=char == "Z")
        if char in _UNSUPPORTED_ESCAPES:
            raise self.fail(_UNSUPPORTED_ESCAPES[char])
        return Literal(self.escaped_char(char), flags.ignorecase)

    def escaped_char(self, char: str) -> str:
        """The character an escape outside the shorthands stands for."""
        if char in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[char]
        if char in "xu":
            return self.hex_char(char)
        if char.isdigit():
            raise self.fail("back references")
        if char.isascii() and char.isalnum():
            raise self.fail(f"the escape \\{char}")
        return char

    def hex_char(self, kind: str) -> str:
        if kind == "x" and self.peek() == "{":
            end = self.pattern.find("}", self.index)
            digits = self.pattern[self.index + 1 : end] if end > 0 else ""
            self.index = end + 1
        else:
            width = 2 if kind == "x" else 4
            digits = self.pattern[self.index : self.index + width]
            self.index += width
            if len(digits) != width:
                digits = ""
        try:
            code = int(digits, 16)
            return chr(code)
        except (ValueError, OverflowError):
            raise self.fail(f"a malformed \\{kind} escape") from None

    def char_class(self, flags: _Flags) -> CharClass:
        self.index += 1
        negated = self.peek() == "^"
        if negated:
            self.index += 1
        ranges: list[tuple[str, str]] = []
        first = True
        while True:
            if self.index >= len(self.pattern):
                raise self.fail("missing ]")
            char = self.pattern[self.index]
            if char == "]" and not first:
                self.index += 1
                break
            first = False
            if char == "[" and self.peek(1) in (":", "=", "."):
                raise self.fail("POSIX character classes")
            low = self.class_char(ranges)
            if low is None:
                continue
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.index += 1
                high = self.class_char(ranges)
                if high is None:
                    raise self.fail("a range ending in a shorthand class")
                if high < low:
                    raise self.fail(f"the invalid range {low}-{high}")
                ranges.append((low, high))
            else:
                ranges.append((low, low))
        return CharClass(tuple(ranges), negated, flags.ignorecase)

    def class_char(self, ranges: list[tuple[str, str]]) -> str | None:
        """One class member; a shorthand (`\\d`) is added to `ranges` and gives None."""
        char = self.pattern[self.index]
        self.index += 1
        if char != "\\":
            return char
        if self.index >= len(self.pattern):
            raise self.fail("a trailing backslash")
        escaped = self.pattern[self.index]
        self.index += 1
        if escaped in _SHORTHANDS:
            ranges.extend(_SHORTHANDS[escaped])
            return None
        if escaped.lower() in _SHORTHANDS:
            raise self.fail(f"\\{escaped} inside a character class")
        if escaped == "b":
            return "\b"  # backspace inside a class
        return self.escaped_char(escaped)


# -- anchors ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Branch:
    start: Start | None
    items: tuple[Node, ...]
    end: End | None


def _leading_anchor(node: Node) -> bool:
    if isinstance(node, Start):
        return True
    if isinstance(node, Group):
        return any(alt.items and _leading_anchor(alt.items[0]) for alt in node.alternatives)
    return False


def _trailing_anchor(node: Node) -> bool:
    if isinstance(node, End):
        return True
    if isinstance(node, Group):
        return any(alt.items and _trailing_anchor(alt.items[-1]) for alt in node.alternatives)
    return False


def _branches(items: tuple[Node, ...], parser: _Parser) -> Iterator[_Branch]:
    """The pattern as alternatives with their edge anchors taken out."""
    if items and isinstance(items[0], Group) and _leading_anchor(items[0]):
        for alternative in items[0].alternatives:
            yield from _branches(alternative.items + items[1:], parser)
        return
    if items and isinstance(items[-1], Group) and _trailing_anchor(items[-1]):
        for alternative in items[-1].alternatives:
            yield from _branches(items[:-1] + alternative.items, parser)
        return
    start: Start | None = None
    end: End | None = None
    body = list(items)
    while body and isinstance(body[0], Start):
        start = body.pop(0)  # type: ignore[assignment]
    while body and isinstance(body[-1], End):
        end = body.pop()  # type: ignore[assignment]
    if body and (_leading_anchor(body[0]) or _trailing_anchor(body[-1])):
        yield from _branches(tuple(body), parser)  # `^(^|x)` and the like
        return
    yield _Branch(start, tuple(body), end)


# -- emitting ---------------------------------------------------------------------------------


class _Emitter:
    def __init__(self, parser: _Parser, native_fold: bool) -> None:
        self.parser = parser
        # Under `regex~` (one case-insensitive flag for the whole pattern) ASCII letters fold by
        # themselves; otherwise each folded letter is written as a class.
        self.native_fold = native_fold

    def node(self, node: Node) -> str:
        if isinstance(node, Literal):
            return self.literal(node)
        if isinstance(node, AnyChar):
            # PCRE's `.` stops at a newline unless (?s); Lucene's never does.
            return "." if node.dotall else "[^\n]"
        if isinstance(node, CharClass):
            return self.char_class(node)
        if isinstance(node, Group):
            return self.group(node)
        if isinstance(node, Repeat):
            return self.repeat(node)
        raise self.parser.fail("an anchor (^, $) inside the pattern")

    def concat(self, items: Sequence[Node]) -> str:
        return "".join(self.node(item) for item in items)

    def group(self, group: Group) -> str:
        bodies = [self.concat(alt.items) for alt in group.alternatives]
        filled = [body for body in bodies if body]
        if not filled:
            return ""
        inner = "|".join(filled)
        # Lucene has no empty alternative; `(a|)` is `(a)?`.
        return f"({inner})?" if len(filled) < len(bodies) else f"({inner})"

    def repeat(self, repeat: Repeat) -> str:
        inner = self.node(repeat.node)
        if not inner:
            return ""
        if not _single_atom(repeat.node, inner):
            inner = f"({inner})"
        low, high = repeat.low, repeat.high
        if (low, high) == (0, None):
            return inner + "*"
        if (low, high) == (1, None):
            return inner + "+"
        if (low, high) == (0, 1):
            return inner + "?"
        if high is None:
            return f"{inner}{{{low},}}"
        if low == high:
            return f"{inner}{{{low}}}"
        return f"{inner}{{{low},{high}}}"

    def literal(self, literal: Literal) -> str:
        variants = _case_variants(literal.char) if literal.fold else {literal.char}
        if len(variants) > 1 and not (self.native_fold and literal.char.isascii()):
            return "[" + "".join(_class_char(c) for c in sorted(variants)) + "]"
        return _escape_literal(literal.char)

    def char_class(self, char_class: CharClass) -> str:
        ranges = list(char_class.ranges)
        if char_class.fold:
            ranges.extend(self.folded(ranges))
        body = "".join(
            _class_char(low) if low == high else f"{_class_char(low)}-{_class_char(high)}"
            for low, high in dict.fromkeys(ranges)
        )
        return f"[^{body}]" if char_class.negated else f"[{body}]"

    def folded(self, ranges: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        extra: list[tuple[str, str]] = []
        for low, high in ranges:
            for start, end in (("a", "z"), ("A", "Z")):
                lo, hi = max(low, start), min(high, end)
                if lo <= hi:
                    extra.append((lo.swapcase(), hi.swapcase()))
            if high > "\x7f":
                first = max(ord(low), 0x80)
                if ord(high) - first > _MAX_FOLD_RANGE:
                    raise self.parser.fail("a case-insensitive range of non-ASCII letters")
                for code in range(first, ord(high) + 1):
                    extra.extend((v, v) for v in _case_variants(chr(code)) if v != chr(code))
        return extra


def _single_atom(node: Node, text: str) -> bool:
    if isinstance(node, Group):
        return text.startswith("(") and text.endswith(")")
    return isinstance(node, AnyChar | CharClass | Literal)


def _case_variants(char: str) -> set[str]:
    variants = {char}
    for other in (char.lower(), char.upper(), char.swapcase()):
        if len(other) == 1:
            variants.add(other)
    return variants


def _escape_literal(char: str) -> str:
    # Lucene reads `\c` as `c` for any character, so escaping every ASCII symbol is safe and
    # keeps `"`, `#`, `@`, `&`, `<`, `>`, `~` from being Lucene operators.
    if char.isascii() and not char.isalnum() and char != "_" and char.isprintable():
        return "\\" + char
    return char


def _class_char(char: str) -> str:
    if char.isascii() and not char.isalnum() and char != "_" and char.isprintable():
        return "\\" + char
    return char


def _all_folded(node: Node | Concat) -> tuple[bool, bool]:
    """(any case-insensitive atom, any case-sensitive atom) below `node`."""
    if isinstance(node, Literal | CharClass):
        return node.fold, not node.fold
    children: Sequence[Node | Concat]
    if isinstance(node, Concat):
        children = node.items
    elif isinstance(node, Group):
        children = node.alternatives
    elif isinstance(node, Repeat):
        children = (node.node,)
    else:
        return False, False
    folded = sensitive = False
    for child in children:
        f, s = _all_folded(child)
        folded, sensitive = folded or f, sensitive or s
    return folded, sensitive


# -- public -----------------------------------------------------------------------------------


def pcre_to_lucene(
    pattern: str, *, ignorecase: bool = False, multiline: bool = False, dotall: bool = False
) -> LuceneRegex:
    """A Sigma `|re` value (searched anywhere) as a Lucene regex for a whole-value match."""
    parser = _Parser(pattern)
    tree = parser.parse(_Flags(ignorecase, multiline, dotall))
    folded, sensitive = _all_folded(tree)
    emitter = _Emitter(parser, native_fold=folded and not sensitive)
    branches: list[str] = []
    for alternative in tree.alternatives:
        for branch in _branches(alternative.items, parser):
            if len(branches) >= _MAX_EXPANSIONS:
                raise parser.fail("too many anchored alternatives")
            branches.append(_branch_text(emitter, branch))
    text = "|".join(dict.fromkeys(branches))
    return LuceneRegex(text, emitter.native_fold)


def _branch_text(emitter: _Emitter, branch: _Branch) -> str:
    if branch.start is None:
        prefix = ".*"
    elif branch.start.multiline:
        prefix = "(.*\n)?"
    else:
        prefix = ""
    if branch.end is None:
        suffix = ".*"
    elif branch.end.multiline:
        suffix = "(\n.*)?"
    elif branch.end.before_final_newline:
        suffix = "\n?"
    else:
        suffix = ""
    return prefix + emitter.concat(branch.items) + suffix


def wildcards_to_lucene(tokens: Sequence[tuple[str, str]], *, cased: bool) -> LuceneRegex:
    """A Sigma string as a whole-value Lucene regex. `tokens` are ("text", literal),
    ("*", "") for any run of characters and ("?", "") for exactly one character."""
    # Non-ASCII letters do not fold under `regex~` (ASCII-only): the emitter writes them as
    # classes.
    emitter = _Emitter(_Parser(""), native_fold=True)
    parts: list[str] = []
    for kind, text in tokens:
        if kind == "*":
            parts.append(".*")
        elif kind == "?":
            parts.append(".")
        else:
            parts.extend(emitter.literal(Literal(char, fold=not cased)) for char in text)
    return LuceneRegex("".join(parts), insensitive=not cased)


__all__ = ["LuceneRegex", "RegexUnsupported", "pcre_to_lucene", "wildcards_to_lucene"]
