"""YARA scanning with yara-x: doorhunt's own rules (and any the user adds) over files, byte
strings and live processes (their executable, even deleted, and their memory).

The API other parts of doorhunt call (the host sweep scans process executables and memory):

    scanner = YaraScanner()                 # doorhunt's rules; compile once, reuse
    report = scanner.scan_path("/dev/shm/x")
    report = scanner.scan_process(4437)     # /proc/4437/exe, then memory worth scanning
    report.hits                             # tuple[YaraHit, ...]; report.gaps: what was not read

`scan_path(path)` and `scan_process(pid)` do the same with a shared default scanner. A
scanner is not thread-safe (yara-x's is not): use one per thread. Without the `yara` extra
(`pip install doorhunt[yara]`), constructing a scanner raises YaraUnavailable.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from doorhunt.errors import DoorhuntError, InputError
from doorhunt.sample.memory import (
    MAX_PROCESS_BYTES,
    MAX_REGION_BYTES,
    group_mappings,
    read_mapping,
    read_mappings,
    worth_scanning,
)

yara_x: Any
try:  # the optional `yara` extra
    import yara_x
except ImportError:  # pragma: no cover - exercised only where yara-x is missing
    yara_x = None

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_RULE_FILES = 1000
MAX_RULE_FILE_BYTES = 4 * 1024 * 1024
MAX_MATCHES_PER_STRING = 16
MAX_MATCH_BYTES = 64
DEFAULT_TIMEOUT_SECONDS = 60
RULE_SUFFIXES = (".yar", ".yara")


class YaraUnavailable(DoorhuntError):
    """yara-x is not installed."""

    def __init__(self) -> None:
        super().__init__("YARA scanning needs yara-x: pip install 'doorhunt[yara]'")


class YaraRuleError(InputError):
    """A rule file that does not compile; the location is file:line:column."""


@dataclass(frozen=True, slots=True)
class RuleFile:
    """YARA source and where it came from (a path, or `doorhunt:NAME` for a built-in)."""

    origin: str
    text: str


@dataclass(frozen=True, slots=True)
class StringMatch:
    identifier: str
    offset: int
    length: int
    data: bytes  # the first MAX_MATCH_BYTES matched bytes: the evidence

    def to_json(self) -> dict[str, object]:
        return {
            "identifier": self.identifier,
            "offset": self.offset,
            "length": self.length,
            "data": self.data.hex(),
        }


@dataclass(frozen=True, slots=True)
class YaraHit:
    """One rule matching one piece of data (a file, or one memory mapping)."""

    rule: str
    namespace: str
    tags: tuple[str, ...]
    meta: tuple[tuple[str, object], ...]
    source: str  # "file", "exe" or "memory"
    region: str | None  # the memory mapping, as /proc/PID/maps describes it
    base_address: int | None  # address of offset 0 in memory
    strings: tuple[StringMatch, ...]

    @property
    def description(self) -> str:
        return str(dict(self.meta).get("description", ""))

    @property
    def severity(self) -> int:
        value = dict(self.meta).get("severity", 0)
        return value if isinstance(value, int) else 0

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {
            "rule": self.rule,
            "namespace": self.namespace,
            "tags": list(self.tags),
            "meta": dict(self.meta),
            "source": self.source,
            "strings": [match.to_json() for match in self.strings],
        }
        if self.region is not None:
            document["region"] = self.region
        if self.base_address is not None:
            document["base_address"] = f"{self.base_address:#x}"
        return document


@dataclass(frozen=True, slots=True)
class ScanReport:
    """What one target gave: hits, bytes read, and what could not be read (gaps)."""

    target: str
    kind: str  # "file", "process" or "bytes"
    hits: tuple[YaraHit, ...]
    scanned_bytes: int
    gaps: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "target": self.target,
            "kind": self.kind,
            "hits": [hit.to_json() for hit in self.hits],
            "scanned_bytes": self.scanned_bytes,
            "gaps": list(self.gaps),
        }


def builtin_rule_files() -> list[RuleFile]:
    """doorhunt's own rules (src/doorhunt/sample/rules/*.yar)."""
    folder = resources.files("doorhunt.sample").joinpath("rules")
    return [
        RuleFile(f"doorhunt:{entry.name}", entry.read_text(encoding="utf-8"))
        for entry in sorted(folder.iterdir(), key=lambda item: item.name)
        if entry.name.endswith(RULE_SUFFIXES)
    ]


def read_rule_files(paths: Sequence[str | Path]) -> list[RuleFile]:
    """Rule files named by the user: files, or folders searched for *.yar and *.yara."""
    found: list[RuleFile] = []
    for path in map(Path, paths):
        files = (
            sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in RULE_SUFFIXES)
            if path.is_dir()
            else [path]
        )
        for file in files:
            if len(found) >= MAX_RULE_FILES:
                raise InputError(f"more than {MAX_RULE_FILES} rule files", location=str(path))
            found.append(RuleFile(str(file), _read_rule_text(file)))
    return found


def _read_rule_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RULE_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError("no such file", location=str(path)) from None
    except OSError as error:
        raise InputError(error.strerror or str(error), location=str(path)) from None
    if len(data) > MAX_RULE_FILE_BYTES:
        raise InputError("rule file larger than 4 MiB", location=str(path))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError("not UTF-8 text", location=f"{path}:byte {error.start}") from None


class YaraScanner:
    """Compiled rules and a yara-x scanner, reused across targets."""

    def __init__(
        self,
        rule_files: Sequence[RuleFile] = (),
        *,
        builtin: bool = True,
        timeout: int = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        if yara_x is None:
            raise YaraUnavailable()
        sources = [*(builtin_rule_files() if builtin else []), *rule_files]
        if not sources:
            raise DoorhuntError("no YARA rules to scan with")
        self.rules = compile_rules(sources)
        self.rule_names = tuple(rule.identifier for rule in self.rules)
        self._scanner = yara_x.Scanner(self.rules)
        self._scanner.set_timeout(timeout)
        self._scanner.max_matches_per_pattern(MAX_MATCHES_PER_STRING)

    def scan_bytes(
        self,
        data: bytes,
        *,
        source: str = "file",
        region: str | None = None,
        base_address: int | None = None,
    ) -> list[YaraHit]:
        """Hits of every rule on `data`; raises YaraScanError on a timeout or scan error."""
        try:
            results = self._scanner.scan(data)
        except yara_x.TimeoutError:
            raise YaraScanError("YARA scan timed out") from None
        except yara_x.ScanError as error:
            raise YaraScanError(f"YARA scan failed: {error}") from None
        return [_hit(rule, data, source, region, base_address) for rule in results.matching_rules]

    def scan_path(self, path: str | Path, *, max_bytes: int = MAX_FILE_BYTES) -> ScanReport:
        """Scan one file (read whole, at most `max_bytes`); unreadable files are gaps."""
        target = str(path)
        try:
            with Path(path).open("rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as error:
            return ScanReport(target, "file", (), 0, (f"{target}: {_reason(error)}",))
        gaps: list[str] = []
        if len(data) > max_bytes:
            data = data[:max_bytes]
            gaps.append(f"{target}: only the first {max_bytes // (1024 * 1024)} MiB scanned")
        try:
            hits = self.scan_bytes(data)
        except YaraScanError as error:
            return ScanReport(target, "file", (), len(data), (f"{target}: {error}",))
        return ScanReport(target, "file", tuple(hits), len(data), tuple(gaps))

    def scan_process(
        self,
        pid: int,
        *,
        memory: bool = True,
        proc: Path = Path("/proc"),
        max_bytes: int = MAX_PROCESS_BYTES,
    ) -> ScanReport:
        """Scan a process's executable (`/proc/PID/exe`, which still opens after the file is
        deleted) and, with `memory`, its anonymous, heap, stack, memfd, deleted-file and
        own-executable mappings. What cannot be read is a gap."""
        target = f"pid {pid}"
        hits: list[YaraHit] = []
        gaps: list[str] = []
        scanned = 0
        executable: str | None = None
        try:
            executable = str((proc / str(pid) / "exe").readlink())
        except OSError as error:
            gaps.append(f"{target}: executable unreadable: {_reason(error)}")
        else:
            report = self.scan_path(proc / str(pid) / "exe")
            scanned += report.scanned_bytes
            hits += [_with_source(hit, "exe") for hit in report.hits]
            gaps += report.gaps
        if memory:
            scanned += self._scan_memory(pid, executable, proc, max_bytes, hits, gaps)
        return ScanReport(target, "process", tuple(hits), scanned, tuple(gaps))

    def _scan_memory(
        self,
        pid: int,
        executable: str | None,
        proc: Path,
        max_bytes: int,
        hits: list[YaraHit],
        gaps: list[str],
    ) -> int:
        target = f"pid {pid}"
        try:
            mappings = read_mappings(pid, proc)
        except OSError as error:
            gaps.append(f"{target}: memory map unreadable: {_reason(error)}")
            return 0
        scanned = 0
        refused = 0
        for mapping in group_mappings(m for m in mappings if worth_scanning(m, executable)):
            if scanned >= max_bytes:
                gaps.append(f"{target}: memory scan stopped at {max_bytes // (1024 * 1024)} MiB")
                break
            limit = min(MAX_REGION_BYTES, max_bytes - scanned)
            try:
                data = read_mapping(pid, mapping, limit, proc)
            except OSError as error:
                refused += 1
                if refused == 1:
                    gaps.append(f"{target}: memory unreadable: {_reason(error)}")
                continue
            if mapping.size > limit:
                gaps.append(f"{target}: only {limit} bytes of {mapping.describe()} scanned")
            scanned += len(data)
            try:
                found = self.scan_bytes(
                    data, source="memory", region=mapping.describe(), base_address=mapping.start
                )
            except YaraScanError as error:
                gaps.append(f"{target}: {mapping.describe()}: {error}")
                continue
            hits += found
        return scanned


class YaraScanError(DoorhuntError):
    """A scan that yara-x could not finish (a timeout)."""


def compile_rules(sources: Sequence[RuleFile]) -> Any:
    """yara-x rules from sources, each in its own namespace; raises YaraRuleError with the
    first error's file:line:column."""
    if yara_x is None:
        raise YaraUnavailable()
    compiler = yara_x.Compiler()
    for source in sources:
        compiler.new_namespace(namespace_of(source))
        try:
            compiler.add_source(source.text, origin=source.origin)
        except yara_x.CompileError:
            raise _rule_error(compiler.errors(), source.origin) from None
    return compiler.build()


def namespace_of(source: RuleFile) -> str:
    """`doorhunt` for the built-in rules, else the file's stem as an identifier."""
    if source.origin.startswith("doorhunt:"):
        return "doorhunt"
    stem = re.sub(r"\W", "_", Path(source.origin).stem) or "rules"
    return stem if not stem[0].isdigit() else f"_{stem}"


def check_rules(sources: Sequence[RuleFile]) -> list[YaraRuleError]:
    """Every compile error of every source (a linter's collect-all mode)."""
    if yara_x is None:
        raise YaraUnavailable()
    problems: list[YaraRuleError] = []
    for source in sources:
        compiler = yara_x.Compiler()
        try:
            compiler.add_source(source.text, origin=source.origin)
        except yara_x.CompileError:
            problems += [_rule_error([error], source.origin) for error in compiler.errors()]
    return problems


def _rule_error(errors: Any, origin: str) -> YaraRuleError:
    first = errors[0] if errors else {}
    title = str(first.get("title", "does not compile"))
    line, column = first.get("line"), first.get("column")
    location = f"{origin}:{line}:{column}" if line is not None else origin
    return YaraRuleError(title, location=location)


@cache
def default_scanner() -> YaraScanner:
    """A scanner with doorhunt's own rules, compiled once per process."""
    return YaraScanner()


def scan_path(path: str | Path) -> ScanReport:
    return default_scanner().scan_path(path)


def scan_process(pid: int, *, memory: bool = True) -> ScanReport:
    return default_scanner().scan_process(pid, memory=memory)


def yara_available() -> bool:
    return yara_x is not None


def _hit(
    rule: Any, data: bytes, source: str, region: str | None, base_address: int | None
) -> YaraHit:
    return YaraHit(
        rule=rule.identifier,
        namespace=rule.namespace,
        tags=tuple(rule.tags),
        meta=tuple((key, value) for key, value in rule.metadata),
        source=source,
        region=region,
        base_address=base_address,
        strings=tuple(_string_matches(rule, data)),
    )


def _string_matches(rule: Any, data: bytes) -> Iterator[StringMatch]:
    for pattern in rule.patterns:
        for match in pattern.matches[:MAX_MATCHES_PER_STRING]:
            evidence = data[match.offset : match.offset + min(match.length, MAX_MATCH_BYTES)]
            yield StringMatch(pattern.identifier, match.offset, match.length, evidence)


def _with_source(hit: YaraHit, source: str) -> YaraHit:
    return YaraHit(
        hit.rule,
        hit.namespace,
        hit.tags,
        hit.meta,
        source,
        hit.region,
        hit.base_address,
        hit.strings,
    )


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


__all__ = [
    "RuleFile",
    "ScanReport",
    "StringMatch",
    "YaraHit",
    "YaraRuleError",
    "YaraScanError",
    "YaraScanner",
    "YaraUnavailable",
    "builtin_rule_files",
    "check_rules",
    "compile_rules",
    "default_scanner",
    "read_rule_files",
    "scan_path",
    "scan_process",
    "yara_available",
]
