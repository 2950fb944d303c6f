"""Reading rule files (docs/rule-format.md): TOML in, typed and compiled `Rule`s out.

Every defect is a RuleError that names the file and, where the text shows it, the line:
TOML syntax (tomllib's own line and column), a missing or mistyped field, an unknown key, a
query the engine cannot compile (its line in the file), an id used twice. `collect_rules`
gathers every defect instead of stopping at the first, for the linter.
"""

from __future__ import annotations

import re
import tomllib
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Final, cast, overload

from doorhunt.ecs import get_field, set_field
from doorhunt.rules.engine import CompiledRule, EqlError, compile_rule
from doorhunt.rules.pack.model import (
    DEFAULT_SUPPRESSION_SECONDS,
    PACK_RULESET,
    RESPONSE_ACTIONS,
    SEVERITIES,
    Example,
    Expectation,
    Rule,
    RuleError,
)

PACK_DIRECTORY: Final = Path(__file__).resolve().parent
MAX_RULE_BYTES: Final = 1024 * 1024
PACK_AUTHOR: Final = ("doorhunt maintainers",)
PACK_LICENSE: Final = "AGPL-3.0-or-later"

_RULE_KEYS: Final = frozenset(
    {
        "id", "name", "description", "severity", "risk_score", "version", "language", "query",
        "references", "tags", "suppression_seconds", "false_positives", "triage", "threat",
        "response", "author", "license", "name_ko",
    }
)  # fmt: skip
_TOP_KEYS: Final = frozenset({"rule", "example"})
_EXAMPLE_KEYS: Final = frozenset({"expect", "description", "events"})
_THREAT_KEYS: Final = frozenset({"framework", "tactic", "technique"})
_ENTRY_KEYS: Final = frozenset({"id", "name", "reference"})
_TECHNIQUE_KEYS: Final = _ENTRY_KEYS | {"subtechnique"}
_TRIAGE_LANGUAGES: Final = ("en", "ko")
_TOML_POSITION: Final = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_QUERY_START: Final = re.compile(r"""^\s*query\s*=\s*('''|\"\"\"|'|")(.*)$""")


class _Lines:
    """Finds where things are in a rule file's text, for messages (tomllib gives no positions
    for values). Approximate by design: the first `key =` after the table's header."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def header(self, name: str, occurrence: int = 0) -> int | None:
        pattern = re.compile(rf"^\s*\[\[?\s*{re.escape(name)}\s*\]\]?\s*(#.*)?$")
        seen = 0
        for number, line in enumerate(self.lines, 1):
            if pattern.match(line):
                if seen == occurrence:
                    return number
                seen += 1
        return None

    def key(self, key: str, table: str = "rule", occurrence: int = 0) -> int | None:
        start = self.header(table, occurrence) or 1
        pattern = re.compile(rf"""^\s*["']?{re.escape(key)}["']?\s*=""")
        for number in range(start, len(self.lines) + 1):
            line = self.lines[number - 1]
            if number > start and line.lstrip().startswith("["):
                break
            if pattern.match(line):
                return number
        return start if self.header(table, occurrence) else None

    def query_start(self) -> int:
        """The line the query text begins on (a multi-line string's first newline is
        dropped by TOML, so then the line after `query = '''`)."""
        for number, line in enumerate(self.lines, 1):
            found = _QUERY_START.match(line)
            if found:
                delimiter, rest = found.groups()
                if len(delimiter) == 3 and not rest.strip():
                    return number + 1
                return number
        return 1


class _Reader:
    """Typed reads from one parsed rule file, each failure a RuleError at the value's line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = _Lines(text)

    def error(self, message: str, line: int | None = None) -> RuleError:
        location = f"{self.path}:{line}" if line else str(self.path)
        return RuleError(message, location=location)

    def unknown(
        self, table: Mapping[str, object], allowed: Iterable[str], where: str, line: int | None
    ) -> None:
        extra = sorted(set(table) - set(allowed))
        if extra:
            known = ", ".join(sorted(allowed))
            raise self.error(f"unknown key {extra[0]!r} in {where} (known keys: {known})", line)

    def string(self, table: Mapping[str, object], key: str, *, required: bool = True) -> str:
        value = table.get(key)
        line = self.lines.key(key)
        if value is None:
            if required:
                raise self.error(f"[rule] has no {key!r}", self.lines.header("rule"))
            return ""
        if not isinstance(value, str):
            raise self.error(f"{key!r} must be a string, got {_kind(value)}", line)
        if required and not value.strip():
            raise self.error(f"{key!r} is empty", line)
        return value

    def integer(
        self, table: Mapping[str, object], key: str, default: int | None, low: int, high: int
    ) -> int:
        value = table.get(key, default)
        line = self.lines.key(key)
        if value is None:
            raise self.error(f"[rule] has no {key!r}", self.lines.header("rule"))
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(f"{key!r} must be an integer, got {_kind(value)}", line)
        if not low <= value <= high:
            raise self.error(f"{key!r} must be between {low} and {high}, got {value}", line)
        return value

    def strings(self, table: Mapping[str, object], key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        line = self.lines.key(key)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(f"{key!r} must be a list of strings, got {_kind(value)}", line)
        return tuple(cast(list[str], value))


def parse_rule(text: str, *, path: Path, ruleset: str = PACK_RULESET) -> Rule:
    """The rule in `text` (the contents of `path`). Raises RuleError, never anything else
    for bad input."""
    reader = _Reader(path, text)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        position = _TOML_POSITION.search(message)
        if position:
            message = message[: position.start()]
            where = f"{path}:{position.group(1)}:{position.group(2)}"
            raise RuleError(f"not valid TOML: {message}", location=where) from None
        raise reader.error(f"not valid TOML: {message}") from None
    except RecursionError:
        raise reader.error("not valid TOML: nested too deeply") from None
    reader.unknown(document, _TOP_KEYS, "the file", None)
    table = document.get("rule")
    if not isinstance(table, dict):
        raise reader.error("no [rule] table" if table is None else "'rule' must be a table")
    reader.unknown(table, _RULE_KEYS, "[rule]", reader.lines.header("rule"))

    rule_id = reader.string(table, "id")
    try:
        canonical = str(uuid.UUID(rule_id))
    except ValueError:
        raise reader.error(
            f"'id' must be a UUID, got {rule_id!r}", reader.lines.key("id")
        ) from None
    if canonical != rule_id:
        raise reader.error(
            f"'id' must be a UUID in canonical form ({canonical}), got {rule_id!r}",
            reader.lines.key("id"),
        )
    severity = reader.string(table, "severity")
    if severity not in SEVERITIES:
        raise reader.error(
            f"'severity' must be one of {', '.join(SEVERITIES)}, got {severity!r}",
            reader.lines.key("severity"),
        )
    language = reader.string(table, "language", required=False) or "eql"
    if language != "eql":
        raise reader.error(
            f"'language' must be \"eql\", got {language!r}", reader.lines.key("language")
        )
    name = reader.string(table, "name")
    query = reader.string(table, "query")
    query_line = reader.lines.query_start()
    compiled = _compile(query, name=name, path=path, line=query_line)
    return Rule(
        id=rule_id,
        name=name,
        description=reader.string(table, "description"),
        severity=severity,
        risk_score=reader.integer(table, "risk_score", None, 0, 100),
        version=reader.integer(table, "version", 1, 1, 2**31 - 1),
        query=query,
        references=reader.strings(table, "references"),
        tags=reader.strings(table, "tags"),
        false_positives=reader.strings(table, "false_positives"),
        triage=_triage(reader, table.get("triage")),
        threat=_threat(reader, table.get("threat")),
        response_actions=_response(reader, table.get("response")),
        examples=_examples(reader, document.get("example")),
        path=path,
        ruleset=ruleset,
        compiled=compiled,
        suppression_seconds=reader.integer(
            table, "suppression_seconds", DEFAULT_SUPPRESSION_SECONDS, 0, 7 * 24 * 3600
        ),
        author=reader.strings(table, "author") or (PACK_AUTHOR if ruleset == PACK_RULESET else ()),
        license=reader.string(table, "license", required=False)
        or (PACK_LICENSE if ruleset == PACK_RULESET else ""),
        query_line=query_line,
        name_ko=reader.string(table, "name_ko", required=False).strip(),
    )


def _compile(query: str, *, name: str, path: Path, line: int) -> CompiledRule:
    try:
        return compile_rule(query, name=name, location=str(path), first_line=line)
    except EqlError as error:
        located = error.at(str(path)) if error.line is None else error
        raise RuleError(
            f"query: {located.message}", location=located.location or f"{path}:{line}"
        ) from error
    except RecursionError:
        raise RuleError("query: nested too deeply", location=f"{path}:{line}") from None


def _triage(reader: _Reader, value: object) -> dict[str, str]:
    line = reader.lines.header("rule.triage") or reader.lines.key("triage")
    if value is None:
        raise reader.error("[rule] has no [rule.triage] (en and ko)", reader.lines.header("rule"))
    if not isinstance(value, dict):
        raise reader.error(f"'triage' must be a table of en and ko, got {_kind(value)}", line)
    reader.unknown(value, _TRIAGE_LANGUAGES, "[rule.triage]", line)
    notes: dict[str, str] = {}
    for language, text in value.items():
        if not isinstance(text, str):
            raise reader.error(f"triage {language!r} must be a string, got {_kind(text)}", line)
        notes[language] = text.strip()
    if not notes.get("en"):
        raise reader.error("[rule.triage] has no 'en' note", line)
    return notes


def _entry(
    reader: _Reader, value: object, where: str, keys: frozenset[str], line: int | None
) -> dict[str, object]:
    if not isinstance(value, dict):
        raise reader.error(f"{where} must be a table, got {_kind(value)}", line)
    reader.unknown(value, keys, where, line)
    entry: dict[str, object] = {}
    for key in ("id", "name", "reference"):
        item = value.get(key)
        if not isinstance(item, str) or not item:
            raise reader.error(f"{where} needs a string {key!r}", line)
        entry[key] = item
    return entry


def _threat(reader: _Reader, value: object) -> tuple[dict[str, object], ...]:
    if value is None:
        raise reader.error(
            "[rule] has no [[rule.threat]] (an ATT&CK mapping)", reader.lines.header("rule")
        )
    if not isinstance(value, list):
        raise reader.error(f"'threat' must be an array of tables, got {_kind(value)}")
    mapping: list[dict[str, object]] = []
    for index, item in enumerate(value):
        line = reader.lines.header("rule.threat", index)
        where = f"[[rule.threat]] #{index + 1}"
        if not isinstance(item, dict):
            raise reader.error(f"{where} must be a table, got {_kind(item)}", line)
        reader.unknown(item, _THREAT_KEYS, where, line)
        framework = item.get("framework")
        if not isinstance(framework, str) or not framework:
            raise reader.error(f"{where} needs a string 'framework'", line)
        entry: dict[str, object] = {
            "framework": framework,
            "tactic": _entry(reader, item.get("tactic"), f"{where} tactic", _ENTRY_KEYS, line),
        }
        techniques = item.get("technique", [])
        if not isinstance(techniques, list):
            raise reader.error(f"{where} 'technique' must be an array of tables", line)
        parsed: list[dict[str, object]] = []
        for technique in techniques:
            found = _entry(reader, technique, f"{where} technique", _TECHNIQUE_KEYS, line)
            subs = cast(dict[str, object], technique).get("subtechnique", [])
            if not isinstance(subs, list):
                raise reader.error(f"{where} 'subtechnique' must be an array of tables", line)
            if subs:
                found["subtechnique"] = [
                    _entry(reader, sub, f"{where} subtechnique", _ENTRY_KEYS, line) for sub in subs
                ]
            parsed.append(found)
        if parsed:
            entry["technique"] = parsed
        mapping.append(entry)
    if not mapping:
        raise reader.error("'threat' is empty: map the rule to ATT&CK")
    return tuple(mapping)


def _response(reader: _Reader, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    line = reader.lines.header("rule.response")
    if not isinstance(value, dict):
        raise reader.error(f"'response' must be a table, got {_kind(value)}", line)
    reader.unknown(value, ("actions",), "[rule.response]", line)
    actions = value.get("actions", [])
    if not isinstance(actions, list) or not all(isinstance(a, str) for a in actions):
        raise reader.error("'actions' must be a list of strings", line)
    for action in actions:
        if action not in RESPONSE_ACTIONS:
            raise reader.error(
                f"unknown response action {action!r} (known: {', '.join(RESPONSE_ACTIONS)})", line
            )
    return tuple(dict.fromkeys(cast(list[str], actions)))


def _examples(reader: _Reader, value: object) -> tuple[Example, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise reader.error(
            f"'example' must be an array of tables ([[example]]), got {_kind(value)}"
        )
    examples: list[Example] = []
    for index, item in enumerate(value):
        line = reader.lines.header("example", index)
        where = f"[[example]] #{index + 1}"
        if not isinstance(item, dict):
            raise reader.error(f"{where} must be a table, got {_kind(item)}", line)
        reader.unknown(item, _EXAMPLE_KEYS, where, line)
        expect = item.get("expect")
        if expect not in ("match", "no_match"):
            raise reader.error(f'{where}: \'expect\' must be "match" or "no_match"', line)
        description = item.get("description", "")
        if not isinstance(description, str):
            raise reader.error(f"{where}: 'description' must be a string", line)
        events = item.get("events")
        if not isinstance(events, list) or not events:
            raise reader.error(f"{where} has no events ([[example.events]] tables)", line)
        documents = []
        for number, event in enumerate(events, 1):
            if not isinstance(event, dict):
                raise reader.error(f"{where} event {number} must be a table", line)
            try:
                documents.append(nest_fields(event))
            except ValueError as error:
                raise reader.error(f"{where} event {number}: {error}", line) from None
        examples.append(Example(cast(Expectation, expect), description, tuple(documents), line))
    return tuple(examples)


def nest_fields(fields: Mapping[str, object]) -> dict[str, object]:
    """An example event as Elasticsearch stores it: dotted keys (`"process.pid" = 1`) and TOML
    tables both become nested objects; TOML dates become RFC 3339 strings. Raises ValueError
    for a field given twice."""
    document: dict[str, object] = {}
    _nest_into(document, fields, "")
    return document


def _nest_into(document: dict[str, object], fields: Mapping[str, object], prefix: str) -> None:
    for key, value in fields.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            _nest_into(document, value, name)
            continue
        if get_field(document, name, _ABSENT) is not _ABSENT:
            raise ValueError(f"field {name} is given twice")
        set_field(document, name, _plain(value))


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        text = value.isoformat()
        return text.replace("+00:00", "Z")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


_ABSENT: Final = object()


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


# -- files and directories ------------------------------------------------------------------


def load_rule_file(path: Path, *, ruleset: str) -> Rule:
    """The rule in one file. Raises RuleError."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RULE_BYTES + 1)
    except FileNotFoundError:
        raise RuleError("no such file", location=str(path)) from None
    except OSError as error:
        raise RuleError(error.strerror or str(error), location=str(path)) from None
    if len(data) > MAX_RULE_BYTES:
        raise RuleError(f"larger than {MAX_RULE_BYTES // 1024} KiB", location=str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RuleError("not UTF-8 text", location=f"{path}:{line}") from None
    return parse_rule(text, path=path, ruleset=ruleset)


def rule_files(directory: Path) -> list[Path]:
    """The `*.toml` files directly in `directory`, sorted; a file is itself. Raises RuleError."""
    if directory.is_file():
        return [directory]
    if not directory.is_dir():
        raise RuleError("no such directory", location=str(directory))
    try:
        return sorted(path for path in directory.glob("*.toml") if path.is_file())
    except OSError as error:
        raise RuleError(error.strerror or str(error), location=str(directory)) from None


def _sources(directories: Sequence[Path], pack: bool) -> Iterator[tuple[Path, str]]:
    if pack:
        for path in rule_files(PACK_DIRECTORY):
            yield path, PACK_RULESET
    for directory in directories:
        ruleset = (directory.parent if directory.is_file() else directory).resolve().name
        for path in rule_files(directory):
            yield path, ruleset or "rules"


class RuleSet(Sequence[Rule]):
    """Loaded rules in load order (the pack first, then each directory's files by name)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self._rules = tuple(rules)
        self._by_compiled = {id(rule.compiled): rule for rule in self._rules}

    @overload
    def __getitem__(self, index: int) -> Rule: ...
    @overload
    def __getitem__(self, index: slice) -> RuleSet: ...
    def __getitem__(self, index: int | slice) -> Rule | RuleSet:
        if isinstance(index, slice):
            return RuleSet(self._rules[index])
        return self._rules[index]

    def __len__(self) -> int:
        return len(self._rules)

    def __repr__(self) -> str:
        return f"RuleSet({len(self._rules)} rules)"

    def compiled(self) -> tuple[CompiledRule, ...]:
        """The compiled queries, for `StreamingEngine(rules.compiled())`."""
        return tuple(rule.compiled for rule in self._rules)

    def rule_of(self, compiled: CompiledRule) -> Rule:
        """The rule a match's `match.rule` belongs to."""
        return self._by_compiled[id(compiled)]

    def find(self, query: str) -> Rule:
        return find_rule(self._rules, query)


def collect_rules(
    directories: Sequence[Path] = (), *, pack: bool = True
) -> tuple[RuleSet, tuple[RuleError, ...]]:
    """Every rule that loads, and every error (broken files, duplicate ids) instead of
    stopping at the first: the linter's mode."""
    rules: list[Rule] = []
    errors: list[RuleError] = []
    seen: dict[str, Rule] = {}
    try:
        sources = list(_sources(directories, pack))
    except RuleError as error:
        return RuleSet(()), (error,)
    for path, ruleset in sources:
        try:
            rule = load_rule_file(path, ruleset=ruleset)
        except RuleError as error:
            errors.append(error)
            continue
        first = seen.get(rule.id)
        if first is not None:
            errors.append(
                RuleError(
                    f"id {rule.id} is already used by {first.path}",
                    location=f"{path}:{_Lines(_text(path)).key('id') or 1}",
                )
            )
            continue
        seen[rule.id] = rule
        rules.append(rule)
    return RuleSet(rules), tuple(errors)


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def load_rules(directories: Sequence[Path] = (), *, pack: bool = True) -> RuleSet:
    """The shipped pack (unless `pack=False`) and the rules in `directories` (each a
    directory of `*.toml` files, or one file). Raises the first RuleError."""
    rules, errors = collect_rules(directories, pack=pack)
    if errors:
        raise errors[0]
    return rules


def find_rule(rules: Iterable[Rule], query: str) -> Rule:
    """The one rule `query` names: its id, file name (without .toml) or name, whole or a
    prefix (names ignore case). Raises RuleError when none or several do."""
    candidates = list(rules)
    wanted = query.strip()
    folded = wanted.casefold()
    if not wanted:
        raise RuleError("give a rule id, file name or name")
    for exact in (
        [r for r in candidates if r.id == wanted.lower()],
        [r for r in candidates if r.path.stem == wanted],
        [r for r in candidates if r.name.casefold() == folded],
    ):
        if len(exact) == 1:
            return exact[0]
    found = [
        rule
        for rule in candidates
        if rule.id.startswith(folded)
        or rule.path.stem.startswith(wanted)
        or rule.name.casefold().startswith(folded)
    ]
    if len(found) == 1:
        return found[0]
    if not found:
        raise RuleError(
            f"no rule has the id, file name or name {wanted!r} (see `doorhunt rules list`)"
        )
    names = ", ".join(f"{rule.id[:8]} {rule.path.stem}" for rule in found[:5])
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    raise RuleError(f"{wanted!r} names {len(found)} rules: {names}{more}; give more of it")


__all__ = [
    "PACK_DIRECTORY",
    "RuleSet",
    "collect_rules",
    "find_rule",
    "load_rule_file",
    "load_rules",
    "nest_fields",
    "parse_rule",
    "rule_files",
]
