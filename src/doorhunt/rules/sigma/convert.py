"""Sigma files in, doorhunt rule files out: read each file defensively, convert each rule with
pySigma through doorhunt's pipeline and backend, check the query compiles with doorhunt's
engine, and say for every rule that does not convert why not.

Bad input is normal input (DESIGN.md, principle 6): a file that is not UTF-8, not YAML, not a
Sigma rule, too large or too deeply nested gives one failure line, and an exception inside
pySigma on a malformed rule is reported as that rule's failure, never raised.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import yaml

from doorhunt.errors import DoorhuntError
from doorhunt.rules.engine import EqlError, compile_rule
from doorhunt.rules.sigma import mapping as m
from doorhunt.rules.sigma import report as r
from doorhunt.rules.sigma.report import ConversionFailure, ConversionReport, ConvertedRule
from doorhunt.rules.sigma.rulefile import SigmaMetadata, rule_file, rule_uuid

if TYPE_CHECKING:
    from sigma.rule import SigmaRule

    from doorhunt.rules.sigma.backend import DoorhuntEqlBackend

# The largest SigmaHQ rule is about 50 KB; a megabyte is far past any real rule.
MAX_FILE_BYTES: Final = 1 << 20
# Sigma rules use no YAML aliases; a few are tolerated, a "billion laughs" is not.
MAX_ALIASES: Final = 64
RULE_SUFFIXES: Final = (".yml", ".yaml")
INSTALL_HINT: Final = "pip install 'doorhunt[sigma]'"

Outcome = ConvertedRule | ConversionFailure


class SigmaUnavailable(DoorhuntError):
    """pySigma is not installed."""

    def __init__(self) -> None:
        super().__init__(f"converting Sigma rules needs pySigma: {INSTALL_HINT}")


def require_pysigma() -> None:
    """Raise SigmaUnavailable unless pySigma (2.x) can be imported."""
    try:
        import sigma.conversion.base  # noqa: F401, PLC0415 - optional dependency, imported late
    except ImportError:
        raise SigmaUnavailable() from None


class Converter:
    """Converts Sigma rules with one pipeline and backend (build once, convert many)."""

    def __init__(self, *, strict: bool = False) -> None:
        require_pysigma()
        from doorhunt.rules.sigma.backend import DoorhuntEqlBackend  # noqa: PLC0415
        from doorhunt.rules.sigma.pipeline import linux_ecs_pipeline  # noqa: PLC0415

        self.strict = strict
        self.backend: DoorhuntEqlBackend = DoorhuntEqlBackend(linux_ecs_pipeline())

    # -- inputs ---------------------------------------------------------------------------------

    def convert_paths(self, paths: Sequence[str | os.PathLike[str]]) -> ConversionReport:
        """Every Sigma file named or found (recursively, *.yml and *.yaml) under `paths`."""
        started = time.perf_counter()
        result = ConversionReport()
        for entry in iter_rule_files(paths):
            if isinstance(entry, ConversionFailure):
                result.failures.append(entry)
                continue
            result.files += 1
            result.extend(self.convert_file(entry))
        result.seconds = time.perf_counter() - started
        return result

    def convert_file(self, path: str) -> list[Outcome]:
        try:
            with open(path, "rb") as handle:
                data = handle.read(MAX_FILE_BYTES + 1)
        except OSError as error:
            return [ConversionFailure(path, None, r.KIND_READ, error.strerror or str(error))]
        return self.convert_bytes(data, path)

    def convert_bytes(self, data: bytes, source: str) -> list[Outcome]:
        """The rules of one Sigma file's content; `source` names it in the results."""
        documents = load_documents(data, source)
        if isinstance(documents, ConversionFailure):
            return [documents]
        return self.convert_documents(documents, source)

    def convert_documents(self, documents: list[object], source: str) -> list[Outcome]:
        from sigma.collection import SigmaCollection  # noqa: PLC0415
        from sigma.exceptions import SigmaError  # noqa: PLC0415

        outcomes: list[Outcome] = []
        kept: list[dict[str, Any]] = []
        for index, document in enumerate(documents, 1):
            if document is None:
                continue
            problem = not_sigma(document)
            if problem is not None:
                where = f"{source} (document {index})" if len(documents) > 1 else source
                outcomes.append(ConversionFailure(where, _title_of(document), r.KIND_NOT_SIGMA,
                                                  problem))  # fmt: skip
            else:
                assert isinstance(document, dict)
                kept.append(document)
        if not kept:
            return outcomes
        try:
            collection = SigmaCollection.from_dicts(kept, collect_errors=True)
        except (SigmaError, RecursionError) as error:
            return [*outcomes, ConversionFailure(source, _title_of(kept[0]), r.KIND_INVALID,
                                                 _message(error))]  # fmt: skip
        except Exception as error:
            return [*outcomes, _pysigma_failure(source, _title_of(kept[0]), error)]
        for rule in collection.rules:
            outcomes.append(self.convert_rule(rule, source))
        return outcomes

    # -- one rule ----------------------------------------------------------------------------

    def convert_rule(self, rule: object, source: str) -> Outcome:
        from sigma.exceptions import SigmaError  # noqa: PLC0415
        from sigma.rule import SigmaRule  # noqa: PLC0415

        from doorhunt.rules.sigma.pipeline import warnings_of  # noqa: PLC0415

        title = str(getattr(rule, "title", "") or "") or None
        if not isinstance(rule, SigmaRule):
            return ConversionFailure(
                source, title, r.KIND_CORRELATION,
                "correlation and filter rules are not converted (only single-event rules are)",
            )  # fmt: skip
        if rule.errors:
            return ConversionFailure(source, title, r.KIND_INVALID, _message(rule.errors[0]))
        try:
            queries = self.backend.convert_rule(rule)
        except SigmaError as error:
            kind = getattr(error, "kind", None)
            return ConversionFailure(source, title, kind or r.KIND_VALUE, _message(error))
        except Exception as error:
            return _pysigma_failure(source, title, error)
        if len(queries) != 1 or not isinstance(queries[0], str):
            return ConversionFailure(source, title, r.KIND_CONDITIONS,
                                     f"{len(queries)} conditions; doorhunt rules have one query")  # fmt: skip
        query = queries[0]
        warnings = tuple(warnings_of(self.backend.last_processing_pipeline))
        if self.strict and warnings:
            return ConversionFailure(source, title, r.KIND_STRICT, warnings[0])
        try:
            compile_rule(query, name=title, location=source)
        except EqlError as error:
            first = str(error).splitlines()[0]
            return ConversionFailure(source, title, r.KIND_COMPILE, first)
        metadata = metadata_of(rule, source)
        name, text = rule_file(metadata, query, warnings)
        return ConvertedRule(
            source=source,
            title=metadata.title,
            sigma_id=metadata.sigma_id,
            rule_id=rule_uuid(metadata.sigma_id, metadata.title),
            file_name=name,
            query=query,
            toml=text,
            warnings=warnings,
        )


def convert_paths(
    paths: Sequence[str | os.PathLike[str]], *, strict: bool = False
) -> ConversionReport:
    """Convert every Sigma rule under `paths` (files or directories). Raises SigmaUnavailable."""
    return Converter(strict=strict).convert_paths(paths)


def convert_text(data: bytes | str, *, source: str = "<text>", strict: bool = False) -> Outcome:
    """Convert the single Sigma rule in `data` (the first outcome when there are several)."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    outcomes = Converter(strict=strict).convert_bytes(raw, source)
    if not outcomes:
        return ConversionFailure(source, None, r.KIND_NOT_SIGMA, "no YAML document")
    return outcomes[0]


# -- reading ----------------------------------------------------------------------------------


def iter_rule_files(
    paths: Iterable[str | os.PathLike[str]],
) -> Iterator[str | ConversionFailure]:
    """The files to read, in a stable order; a path that does not exist is a failure."""
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix.lower() in RULE_SUFFIXES and p.is_file()
            )
            yield from (str(p) for p in found)
        elif path.exists():
            yield str(path)
        else:
            yield ConversionFailure(str(path), None, r.KIND_READ, "no such file or directory")


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing alias bombs before they are expanded."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise yaml.YAMLError(f"more than {MAX_ALIASES} YAML aliases")
        return super().compose_node(parent, index)


def load_documents(data: bytes, source: str) -> list[object] | ConversionFailure:
    """The YAML documents of a file, or the one-line reason they cannot be read."""
    if len(data) > MAX_FILE_BYTES:
        return ConversionFailure(source, None, r.KIND_SIZE,
                                 f"larger than {MAX_FILE_BYTES // 1024} KiB")  # fmt: skip
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return ConversionFailure(source, None, r.KIND_ENCODING,
                                 f"byte {error.start}: not valid UTF-8")  # fmt: skip
    try:
        loader = _Loader(text)
        try:
            documents: list[object] = []
            while loader.check_data():  # type: ignore[no-untyped-call]
                documents.append(loader.get_data())
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return ConversionFailure(source, None, r.KIND_YAML, where + str(error.problem))
    except RecursionError:
        return ConversionFailure(source, None, r.KIND_YAML, "nested too deeply")
    except Exception as error:
        return ConversionFailure(source, None, r.KIND_YAML, _message(error))
    return documents


def not_sigma(document: object) -> str | None:
    """Why a YAML document is not a Sigma rule, or None when it looks like one."""
    if not isinstance(document, dict):
        return f"a YAML {type(document).__name__}, not a mapping"
    if not all(isinstance(key, str) for key in document):
        return "keys that are not strings"
    if "action" in document:
        return None  # a collection action (global, reset, repeat): pySigma merges it
    if not any(key in document for key in ("detection", "correlation", "filter")):
        return "no detection, correlation or filter section"
    return None


def _title_of(document: object) -> str | None:
    if isinstance(document, dict):
        title = document.get("title")
        if isinstance(title, str) and title.strip():
            return _one_line(title.strip())
    return None


def _one_line(text: str, limit: int = 300) -> str:
    single = " ".join(text.split())
    return single if len(single) <= limit else single[: limit - 3] + "..."


def _message(error: BaseException) -> str:
    """The message without pySigma's " in <location>" suffix, on one line."""
    text = str(error.args[0]) if error.args else type(error).__name__
    return _one_line(text or type(error).__name__)


def _pysigma_failure(source: str, title: str | None, error: Exception) -> ConversionFailure:
    return ConversionFailure(
        source, title, r.KIND_PYSIGMA, f"{type(error).__name__}: {_message(error)}"
    )


def metadata_of(rule: SigmaRule, source: str) -> SigmaMetadata:
    logsource = rule.logsource
    mapped = m.log_source_for(logsource.product, logsource.category, logsource.service)
    level = rule.level.name.lower() if rule.level is not None else None
    status = rule.status.name.lower() if rule.status is not None else None
    return SigmaMetadata(
        title=_one_line(str(rule.title)),
        sigma_id=str(rule.id) if rule.id is not None else None,
        description=str(rule.description or ""),
        level=level,
        author=_one_line(str(rule.author)) if rule.author else None,
        license=_one_line(str(rule.license)) if rule.license else None,
        status=status,
        references=tuple(str(x) for x in rule.references or ()),
        tags=tuple(f"{tag.namespace}.{tag.name}" for tag in rule.tags or ()),
        false_positives=tuple(_one_line(str(x)) for x in rule.falsepositives or ()),
        source=os.path.basename(source),
        log_source=mapped.key if mapped is not None else "unknown",
        meaning=mapped.meaning if mapped is not None else "an event",
    )


def write_rules(rules: Iterable[ConvertedRule], directory: str | os.PathLike[str]) -> list[str]:
    """Write each rule into `directory`; a name taken by another rule gets the id's start."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    written: list[str] = []
    used: set[str] = set()
    for rule in rules:
        name = rule.file_name
        target = out / name
        if name in used or (target.exists() and rule.rule_id not in _read_text(target)):
            name = f"{name.removesuffix('.toml')}_{rule.rule_id[:8]}.toml"
            target = out / name
        used.add(name)
        target.write_text(rule.toml, encoding="utf-8")
        written.append(str(target))
    return written


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


__all__ = [
    "INSTALL_HINT",
    "MAX_FILE_BYTES",
    "Converter",
    "SigmaUnavailable",
    "convert_paths",
    "convert_text",
    "iter_rule_files",
    "load_documents",
    "metadata_of",
    "not_sigma",
    "require_pysigma",
    "write_rules",
]
