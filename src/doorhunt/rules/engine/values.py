"""Value semantics shared by the streaming and SQL engines, written once so they agree.

Elasticsearch evaluates EQL against indexed fields, so a rule sees what the index holds, not
the JSON as sent. The model here, which docs/eql.md spells out, is:

- A field's *values* are every scalar at its path: arrays (and arrays of objects along the
  path) are flattened and `null`s dropped, as Elasticsearch indexes them ("Arrays": "there
  is no dedicated array data type ... any field can contain zero or more values";
  reference/elasticsearch/mapping-reference/array). A missing field has no values.
- A comparison holds when it holds for *any* value (a term query matches a document when
  any of its terms does).
- Strings compare as a `keyword` field would hold them: a JSON number or boolean is indexed
  as its text (`443` as "443", `true` as "true"), the *keyword form* below.
- Numbers compare as a numeric field would: a numeric string is coerced ("coerce": true is
  the default for numeric fields; mapping-reference/coerce), the *numeric form* below.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Final

Value = str | int | float | bool

# The numbers a numeric field accepts as text: ASCII digits only, so that Python and
# DuckDB (which runs the same regular expression) agree on every string.
NUMBER_PATTERN: Final = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
# Integers of up to 18 digits are exact in both engines (DuckDB HUGEINT arithmetic cannot
# overflow on them); longer ones are treated as floats.
INTEGER_PATTERN: Final = r"[+-]?[0-9]{1,18}"
NUMBER_RE: Final = re.compile(NUMBER_PATTERN)
_NUMBER: Final = NUMBER_RE
_INTEGER: Final = re.compile(INTEGER_PATTERN)
_EXACT_LIMIT: Final = 10**18


def keyword(value: Value) -> str:
    """The text a keyword field indexes for a JSON scalar."""
    if value.__class__ is str:
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def numeric(value: Value) -> float | None:
    """The number a numeric field indexes for a JSON scalar, or None (booleans are not).

    Compared as IEEE doubles in both engines, so integers beyond 2**53 compare by their
    nearest double (docs/eql.md, "Differences")."""
    cls = value.__class__
    if cls is int or cls is float:
        return float(value)
    if cls is str and _NUMBER.fullmatch(value):  # type: ignore[arg-type]
        return float(value)
    return None


def number_of(value: Value) -> int | float | None:
    """Like `numeric`, keeping integers exact for arithmetic (EQL integer division)."""
    cls = value.__class__
    if cls is int:
        number: int = value  # type: ignore[assignment]
        return number if -_EXACT_LIMIT < number < _EXACT_LIMIT else float(number)
    if cls is float:
        return value  # type: ignore[return-value]
    if cls is str:
        text: str = value  # type: ignore[assignment]
        if _INTEGER.fullmatch(text):
            return int(text)
        if _NUMBER.fullmatch(text):
            return float(text)
    return None


def fold(text: str) -> str:
    """Lower case one code point at a time, as Java's Character.toLowerCase (which
    Elasticsearch's case-insensitive term and wildcard queries use) and DuckDB's lower().

    Python's str.lower applies Unicode's context-dependent special casing (final sigma,
    dotted capital I); per code point it does not, except for U+0130."""
    if text.isascii():
        return text.lower()
    return "".join(_fold_char(char) for char in text)


def _fold_char(char: str) -> str:
    lowered = char.lower()
    if len(lowered) == 1:
        return lowered
    return "i" if char == "\u0130" else char


# -- field values -------------------------------------------------------------------------


def scalars(raw: object) -> list[Value]:
    """The scalars of a raw JSON value: arrays flattened, objects and nulls dropped."""
    if raw is None:
        return []
    cls = raw.__class__
    if cls is str or cls is int or cls is float or cls is bool:
        return [raw]  # type: ignore[list-item]
    if cls is list or cls is tuple:
        found: list[Value] = []
        for item in raw:  # type: ignore[attr-defined]
            found.extend(scalars(item))
        return found
    return []


def resolve(document: Mapping[str, object], path: Sequence[str]) -> object:
    """The raw value at `path`, following nested objects, dotted keys and arrays of objects.

    Returns None when missing, the value when one object holds it, and a list when arrays
    along the path spread it over several objects."""
    found = _resolve(document, path, 0)
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    return found


def _resolve(obj: object, path: Sequence[str], start: int) -> list[object]:
    if start == len(path):
        return [obj]
    if isinstance(obj, list | tuple):
        out: list[object] = []
        for item in obj:
            out.extend(_resolve(item, path, start))
        return out
    if not isinstance(obj, Mapping):
        return []
    out = []
    # Elasticsearch reads {"a.b": 1} as {"a": {"b": 1}}: try every split of the remaining
    # path into one dotted key and the rest.
    for end in range(start + 1, len(path) + 1):
        key = path[start] if end == start + 1 else ".".join(path[start:end])
        if key in obj:
            child = obj[key]
            if child is not None:
                out.extend(_resolve(child, path, end))
    return out


def field_values(document: Mapping[str, object], path: Sequence[str]) -> list[Value]:
    return scalars(resolve(document, path))


def has_dotted_keys(document: Mapping[str, object]) -> bool:
    """Whether a top-level key has a dot, the cheap test the store's writer also makes."""
    try:
        return "." in "".join(document)
    except TypeError:
        return True


def expand_dotted(document: Mapping[str, object]) -> dict[str, object]:
    """The document with dotted keys ({"process.name": x}) made nested objects, at every
    level, as Elasticsearch reads them (the same as the store's columns.nested)."""
    out: dict[str, object] = {}
    for key, value in document.items():
        child = expand_dotted(value) if isinstance(value, Mapping) else value
        parts = (
            key.split(".") if isinstance(key, str) and "." in key and all(key.split(".")) else [key]
        )
        target = out
        for part in parts[:-1]:
            existing = target.get(part)
            if not isinstance(existing, dict):
                existing = {}
                target[part] = existing
            target = existing
        _merge(target, parts[-1], child)
    return out


def _merge(target: dict[str, object], key: str, value: object) -> None:
    existing = target.get(key)
    if isinstance(existing, dict) and isinstance(value, dict):
        for child_key, child in value.items():
            _merge(existing, child_key, child)
    else:
        target[key] = value


# -- wildcards ------------------------------------------------------------------------------


class PatternError(ValueError):
    """A wildcard or regular expression Elasticsearch would reject."""


WildcardToken = tuple[str, str]  # ("*", ""), ("?", ""), ("text", literal)


def wildcard_tokens(pattern: str) -> list[WildcardToken]:
    """Split an EQL wildcard pattern: `*` any run of characters, `?` exactly one.

    There is no escape: Elasticsearch turns the pattern into a LIKE pattern by replacing
    `*` and `?` and quoting everything else, a backslash included (EQL's
    StringUtils.toLikePattern), so "*\\x*" matches a literal backslash followed by x.
    """
    tokens: list[WildcardToken] = []
    text: list[str] = []
    for char in pattern:
        if char in "*?":
            if text:
                tokens.append(("text", "".join(text)))
                text = []
            tokens.append((char, ""))
        else:
            text.append(char)
    if text:
        tokens.append(("text", "".join(text)))
    return tokens


def wildcard_regex(tokens: Sequence[WildcardToken]) -> str:
    parts = []
    for kind, text in tokens:
        if kind == "*":
            parts.append(".*")
        elif kind == "?":
            parts.append(".")
        else:
            parts.append(re.escape(text))
    return "".join(parts)


def wildcard_like(tokens: Sequence[WildcardToken]) -> str:
    """The pattern for SQL `LIKE ... ESCAPE '\\'`."""
    parts = []
    for kind, text in tokens:
        if kind == "*":
            parts.append("%")
        elif kind == "?":
            parts.append("_")
        else:
            parts.append(text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_"))
    return "".join(parts)


def wildcard_matcher(patterns: Iterable[str], insensitive: bool) -> Callable[[str], bool]:
    """A test of one string against any of the patterns (case folded when `insensitive`).

    Most rule patterns are an exact string, `prefix*`, `*suffix` or `*infix*`; those are
    tested with set lookups and str methods, and only the rest with one regular expression.
    """
    exact: set[str] = set()
    prefixes: list[str] = []
    suffixes: list[str] = []
    infixes: list[str] = []
    general: list[str] = []
    for pattern in patterns:
        tokens = wildcard_tokens(fold(pattern) if insensitive else pattern)
        kinds = [kind for kind, _ in tokens]
        texts = [text for kind, text in tokens if kind == "text"]
        if kinds == ["text"]:
            exact.add(texts[0])
        elif not kinds:
            exact.add("")
        elif kinds == ["text", "*"]:
            prefixes.append(texts[0])
        elif kinds == ["*", "text"]:
            suffixes.append(texts[0])
        elif kinds == ["*", "text", "*"]:
            infixes.append(texts[0])
        elif set(kinds) == {"*"}:
            prefixes.append("")
        else:
            general.append(wildcard_regex(tokens))
    prefix_tuple = tuple(prefixes)
    suffix_tuple = tuple(suffixes)
    infix_tuple = tuple(infixes)
    regex = re.compile("|".join(f"(?:{g})" for g in general), re.DOTALL) if general else None
    exact_set = frozenset(exact)

    def test(value: str) -> bool:
        if insensitive:
            value = fold(value)
        if value in exact_set:
            return True
        if prefix_tuple and value.startswith(prefix_tuple):
            return True
        if suffix_tuple and value.endswith(suffix_tuple):
            return True
        for infix in infix_tuple:
            if infix in value:
                return True
        return regex is not None and regex.fullmatch(value) is not None

    return test


# -- regular expressions --------------------------------------------------------------------

_CLASS_ESCAPES: Final[Mapping[str, str]] = {
    # Lucene's RegExp shorthand classes (ASCII, as Lucene defines them).
    "d": "0-9",
    "w": "a-zA-Z0-9_",
    "s": " \\t\\n\\r",
}


def lucene_regex(pattern: str, insensitive: bool) -> str:
    """A Lucene regular expression (Elasticsearch's `regexp` syntax) as a pattern that
    Python's `re` and RE2 (DuckDB) both read the same way, for a full match.

    Supported: literals, `.`, `\\` escapes, `"quoted"` strings, `[...]` classes with ranges
    and `^`, `\\d \\w \\s` (and upper-case negations), groups, `|`, `* + ? {n} {n,} {n,m}`.
    The optional operators Elasticsearch also enables (`~` complement, `&` intersection,
    `@` any string, `<n-m>` numeric ranges, `#` empty language) are rejected: neither
    Python nor RE2 can express them. `regex~` is ASCII-only case-insensitive, as Lucene's
    RegExp.ASCII_CASE_INSENSITIVE that Elasticsearch's case_insensitive regexp query uses.
    `.` matches any character, newlines included: compile with DOTALL (`(?s)` in RE2).
    """
    return _RegexTranslator(pattern, insensitive).translate()


class _RegexTranslator:
    def __init__(self, pattern: str, insensitive: bool) -> None:
        self.pattern = pattern
        self.insensitive = insensitive
        self.index = 0

    def error(self, message: str) -> PatternError:
        return PatternError(f"invalid regular expression {self.pattern!r}: {message}")

    def translate(self) -> str:
        out = self.alternation()
        if self.index != len(self.pattern):
            raise self.error(f"unexpected {self.pattern[self.index]!r} at {self.index}")
        return out

    def alternation(self) -> str:
        branches = [self.concatenation()]
        while self.peek() == "|":
            self.index += 1
            branches.append(self.concatenation())
        return "|".join(branches)

    def concatenation(self) -> str:
        parts: list[str] = []
        while self.index < len(self.pattern) and self.peek() not in "|)":
            atom = self.atom()
            quantified = False
            while (quantifier := self.quantifier()) is not None:
                # Lucene reads `a*?` and `a*+` as nested repetition; Python would read a lazy
                # or possessive quantifier and RE2 rejects them, so nest explicitly.
                if quantified:
                    atom = f"(?:{atom})"
                atom += quantifier
                quantified = True
            parts.append(atom)
        return "".join(parts)

    def peek(self) -> str:
        return self.pattern[self.index] if self.index < len(self.pattern) else ""

    def quantifier(self) -> str | None:
        char = self.peek()
        if char and char in "*+?":
            self.index += 1
            return char
        if char != "{":
            return None
        end = self.pattern.find("}", self.index)
        body = self.pattern[self.index + 1 : end] if end > 0 else ""
        if end < 0 or not re.fullmatch(r"[0-9]+(,[0-9]*)?", body):
            raise self.error("malformed {n,m} repetition")
        numbers = [int(n) for n in body.split(",") if n]
        if any(n > 1000 for n in numbers):
            raise self.error("repetition counts above 1000 are not supported")
        if len(numbers) == 2 and numbers[1] < numbers[0]:
            raise self.error(f"invalid repetition {{{body}}}")
        self.index = end + 1
        return "{" + body + "}"

    def atom(self) -> str:
        char = self.pattern[self.index]
        if char == "(":
            self.index += 1
            inner = self.alternation()
            if self.peek() != ")":
                raise self.error("missing )")
            self.index += 1
            return f"(?:{inner})"
        if char == "[":
            return self.char_class()
        if char == ".":
            self.index += 1
            return "."
        if char == '"':
            end = self.pattern.find('"', self.index + 1)
            if end < 0:
                raise self.error('missing closing "')
            literal = self.pattern[self.index + 1 : end]
            self.index = end + 1
            return "(?:" + "".join(self.literal(c) for c in literal) + ")"
        if char == "\\":
            if self.index + 1 >= len(self.pattern):
                raise self.error("trailing \\")
            escaped = self.pattern[self.index + 1]
            self.index += 2
            if escaped.lower() in _CLASS_ESCAPES:
                body = _CLASS_ESCAPES[escaped.lower()]
                return f"[^{body}]" if escaped.isupper() else f"[{body}]"
            return self.literal(escaped)
        if char in "~&@<>#":
            raise self.error(
                f"the Lucene operator {char!r} is not supported (escape it as \\{char})"
            )
        if char in "*+?{":
            raise self.error(f"nothing to repeat before {char!r}")
        self.index += 1
        return self.literal(char)

    def literal(self, char: str) -> str:
        if self.insensitive and char.isascii() and char.isalpha():
            return f"[{char.lower()}{char.upper()}]"
        return _escape_literal(char)

    def char_class(self) -> str:
        self.index += 1
        negated = self.peek() == "^"
        if negated:
            self.index += 1
        items: list[str] = []
        first = True
        while True:
            if self.index >= len(self.pattern):
                raise self.error("missing ]")
            char = self.pattern[self.index]
            if char == "]" and not first:
                self.index += 1
                break
            first = False
            if char == "\\":
                if self.index + 1 >= len(self.pattern):
                    raise self.error("trailing \\")
                escaped = self.pattern[self.index + 1]
                self.index += 2
                if escaped.lower() in _CLASS_ESCAPES and not escaped.isupper():
                    items.append(_CLASS_ESCAPES[escaped])
                    continue
                if escaped.lower() in _CLASS_ESCAPES:
                    raise self.error(f"\\{escaped} inside a character class is not supported")
                low = escaped
            else:
                low = char
                self.index += 1
            if (
                self.peek() == "-"
                and self.index + 1 < len(self.pattern)
                and self.pattern[self.index + 1] != "]"
            ):
                self.index += 1
                high = self.pattern[self.index]
                if high == "\\":
                    if self.index + 1 >= len(self.pattern):
                        raise self.error("trailing \\")
                    high = self.pattern[self.index + 1]
                    self.index += 1
                self.index += 1
                if ord(high) < ord(low):
                    raise self.error(f"invalid range {low}-{high}")
                items.append(f"{_escape_class(low)}-{_escape_class(high)}")
                items.extend(self._other_case_range(low, high))
            else:
                items.append(_escape_class(low))
                if self.insensitive and low.isascii() and low.isalpha():
                    items.append(low.swapcase())
        body = "".join(items)
        if not body:
            raise self.error("empty character class")
        return f"[^{body}]" if negated else f"[{body}]"

    def _other_case_range(self, low: str, high: str) -> list[str]:
        if not self.insensitive:
            return []
        out = []
        for start, end in (("a", "z"), ("A", "Z")):
            lo, hi = max(low, start), min(high, end)
            if lo <= hi:
                out.append(f"{lo.swapcase()}-{hi.swapcase()}")
        return out


def regex_prefix(pattern: str) -> str:
    """Literal text every match of the Lucene regular expression starts with ("" if none):
    what the streaming engine's index can use for `regex` conditions."""
    if _top_level_alternation(pattern):
        return ""
    out: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if index + 1 >= len(pattern) or pattern[index + 1].lower() in _CLASS_ESCAPES:
                break
            literal, width = pattern[index + 1], 2
        elif char in '.?+*{}[]()"~&@<>#':
            break
        else:
            literal, width = char, 1
        # Quantifiers stack in Lucene (`a+*` is `(a+)*`): any optional one after the atom,
        # even behind `+`, means the character may repeat zero times.
        quantifiers = pattern[index + width :]
        following = quantifiers[:1]
        if following in ("?", "*", "{") or quantifiers.lstrip("+")[:1] in ("?", "*", "{"):
            break
        out.append(literal)
        index += width
        if following == "+":
            break
    return "".join(out)


def _top_level_alternation(pattern: str) -> bool:
    depth = 0
    index = 0
    in_class = in_quote = False
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 2
            continue
        if in_quote:
            in_quote = char != '"'
        elif in_class:
            in_class = char != "]"
        elif char == '"':
            in_quote = True
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        index += 1
    return False


def _escape_literal(char: str) -> str:
    if char.isalnum() or char == "_" or ord(char) > 0x7F:
        return char
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    if char == "\r":
        return "\\r"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\x{ord(char):02x}"
    return "\\" + char


def _escape_class(char: str) -> str:
    if char in "]\\^-[":
        return "\\" + char
    if char == "\n":
        return "\\n"
    if char == "\t":
        return "\\t"
    if char == "\r":
        return "\\r"
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\x{ord(char):02x}"
    return char


# -- IP addresses -----------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_network(text: str) -> Network:
    """A CIDR block (or a single address) as cidrMatch accepts it."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError as error:
        raise PatternError(f"not a CIDR block: {text!r} ({error})") from None


def parse_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address in `text`, or None: dotted IPv4 without leading zeros, or IPv6 (with an
    embedded IPv4 tail allowed), and no zone index (an `ip` field rejects one)."""
    if "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def ip_in(text: str, networks: Sequence[Network]) -> bool:
    address = parse_ip(text)
    if address is None:
        return False
    return any(address.version == net.version and address in net for net in networks)


_OCTET_RE: Final = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4_RE: Final = re.compile(rf"({_OCTET_RE})\.({_OCTET_RE})\.({_OCTET_RE})\.({_OCTET_RE})")


def ip_value(text: str) -> tuple[int, int] | None:
    """(version, integer) of an address, as parse_ip reads it; dotted IPv4 parsed inline,
    the rest through ipaddress with a cache (an event stream repeats its addresses)."""
    match = _IPV4_RE.fullmatch(text)
    if match is not None:
        a, b, c, d = (int(part) for part in match.groups())
        return 4, (a << 24) | (b << 16) | (c << 8) | d
    if ":" not in text:
        return None
    return _ipv6_value(text)


@functools.lru_cache(maxsize=4096)
def _ipv6_value(text: str) -> tuple[int, int] | None:
    address = parse_ip(text)
    return None if address is None else (address.version, int(address))


def network_ranges(networks: Sequence[Network]) -> tuple[tuple[int, int, int], ...]:
    """(version, first, last) of each network, for ip_value comparisons."""
    return tuple(
        (net.version, int(net.network_address), int(net.broadcast_address)) for net in networks
    )


# -- functions ----------------------------------------------------------------------------------


def to_number(text: str, base: int | None) -> int | float | None:
    """EQL number(): decimal, float, `0x` hexadecimal, or an integer in `base`."""
    stripped = text.strip(" \t\n\r\x0b\x0c")
    if not stripped:
        return None
    sign = 1
    body = stripped
    if body[0] in "+-":
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    if body[:2].lower() == "0x" and base in (None, 16):
        digits, base = body[2:], 16
    else:
        digits = body
    if digits[:1] in ("+", "-"):
        return None
    try:
        if base is None or base == 10:
            if _INTEGER.fullmatch(digits):
                return sign * int(digits)
            if _NUMBER.fullmatch(digits):
                return sign * float(digits)
            return None
        if base != 16 or not re.fullmatch(r"[0-9a-fA-F]{1,15}", digits):
            # Bases other than 10 and 16, and hexadecimal beyond 60 bits, are not read (the
            # SQL twin could not read them the same way).
            return None
        return sign * int(digits, 16)
    except ValueError:
        return None


def to_text(value: Value) -> str:
    """EQL string(): the text of a value."""
    return keyword(value)


def between(source: str, left: str, right: str, greedy: bool, insensitive: bool) -> str:
    """EQL between(): the text between `left` and `right`, "" when either is missing."""
    haystack = fold(source) if insensitive else source
    left_key = fold(left) if insensitive else left
    right_key = fold(right) if insensitive else right
    start = haystack.find(left_key)
    if start < 0:
        return ""
    start += len(left_key)
    end = haystack.rfind(right_key) if greedy else haystack.find(right_key, start)
    if end < start:
        return ""
    return source[start:end]


def index_of(source: str, sub: str, start: int | None, insensitive: bool) -> int | None:
    haystack = fold(source) if insensitive else source
    needle = fold(sub) if insensitive else sub
    position = max(start or 0, 0)
    if position > len(haystack):
        return None
    found = haystack.find(needle, position)
    return None if found < 0 else found


def arithmetic(op: str, left: int | float, right: int | float) -> int | float | None:
    """EQL arithmetic: integer operands give integer results (division truncates, as Java's
    does), a float operand gives a float; division or modulo by zero gives null."""
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if right == 0:
        return None
    if isinstance(left, int) and isinstance(right, int):
        quotient = abs(left) // abs(right)
        negative = (left < 0) != (right < 0)
        if op == "/":
            return -quotient if negative else quotient
        remainder = abs(left) % abs(right)
        return -remainder if left < 0 else remainder
    if op == "/":
        return left / right
    return math.fmod(left, right)


def finite(value: int | float | None) -> int | float | None:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


# -- time -------------------------------------------------------------------------------------

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


_LAST_SECOND: tuple[str, int | None] = ("", None)


def timestamp_us(value: object) -> int | None:
    """@timestamp as microseconds since the epoch: an ISO 8601 string (UTC when it has no
    offset) or epoch milliseconds, as Elasticsearch's `date` type accepts; else None."""
    global _LAST_SECOND  # noqa: PLW0603 - a one-entry cache: events come in time order
    if value.__class__ is str:
        text: str = value
        # The form Elastic Defend and doorhunt write (2025-05-01T12:00:00.123Z), without
        # datetime for the events of a second already seen: this runs once per event.
        if len(text) == 24 and text[23] == "Z" and text[19] == ".":
            head, millis = text[:19], text[20:23]
            last = _LAST_SECOND
            base = last[1] if last[0] == head else _second_us(head)
            if base is not None and millis.isascii() and millis.isdigit():
                _LAST_SECOND = (head, base)
                return base + int(millis) * 1000
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        delta = moment - _EPOCH
        return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            return None
        return round(value * 1000)
    return None


@functools.lru_cache(maxsize=4096)
def _second_us(head: str) -> int | None:
    if head[10] != "T" or not head.isascii():
        return None
    try:
        moment = datetime.fromisoformat(head).replace(tzinfo=UTC)
    except ValueError:
        return None
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000


__all__ = [
    "INTEGER_PATTERN",
    "NUMBER_PATTERN",
    "NUMBER_RE",
    "Network",
    "PatternError",
    "Value",
    "arithmetic",
    "between",
    "expand_dotted",
    "field_values",
    "finite",
    "fold",
    "has_dotted_keys",
    "index_of",
    "ip_in",
    "ip_value",
    "keyword",
    "lucene_regex",
    "network_ranges",
    "number_of",
    "numeric",
    "parse_ip",
    "parse_network",
    "regex_prefix",
    "resolve",
    "scalars",
    "timestamp_us",
    "to_number",
    "to_text",
    "wildcard_like",
    "wildcard_matcher",
    "wildcard_regex",
    "wildcard_tokens",
]
