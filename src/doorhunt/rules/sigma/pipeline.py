"""doorhunt's Linux→ECS processing pipeline for pySigma (the tables are in mapping.py).

    pipeline = linux_ecs_pipeline()
    backend = DoorhuntEqlBackend(pipeline)          # or any other pySigma backend

The pipeline fails a rule (SigmaTransformationError, one line naming the field or log source)
rather than let an unmapped field through, and leaves in its state what the backend needs to
write the event query (`doorhunt.category`, `doorhunt.event_filter`) and the warnings about
approximations (`doorhunt.warnings`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sigma.conditions import ConditionAND
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaTransformationError
from sigma.processing.conditions import LogsourceCondition
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    FieldMappingTransformation,
    PreprocessingTransformation,
    SetStateTransformation,
)
from sigma.rule import SigmaDetection, SigmaDetectionItem, SigmaRule
from sigma.types import (
    SigmaBool,
    SigmaExpansion,
    SigmaNumber,
    SigmaString,
    SigmaType,
    SpecialChars,
)

from doorhunt.ingest.auditd.ecs import MAPPERS as AUDIT_SYSCALLS
from doorhunt.rules.sigma import mapping as m
from doorhunt.rules.sigma import report as r

STATE_CATEGORY: Final = "doorhunt.category"
STATE_EVENT_FILTER: Final = "doorhunt.event_filter"
STATE_WARNINGS: Final = "doorhunt.warnings"
PIPELINE_NAME: Final = "doorhunt Linux to ECS"


def warnings_of(pipeline: ProcessingPipeline) -> list[str]:
    """The warnings the last applied rule collected (approximations, coverage)."""
    found = pipeline.state.get(STATE_WARNINGS, [])
    return list(found) if isinstance(found, list) else []


@dataclass
class _DoorhuntTransformation(PreprocessingTransformation):
    """Base of the pipeline's own transformations: walks detections and records warnings."""

    def warn(self, text: str) -> None:
        if self._pipeline is not None:
            found = self._pipeline.state.setdefault(STATE_WARNINGS, [])
            if isinstance(found, list) and text not in found:
                found.append(text)

    def apply(self, rule: SigmaRule | SigmaCorrelationRule) -> None:
        super().apply(rule)
        if isinstance(rule, SigmaRule):
            for detection in rule.detection.detections.values():
                self.walk(rule, detection, ())

    def walk(
        self, rule: SigmaRule, detection: SigmaDetection, outer: tuple[SigmaDetectionItem, ...]
    ) -> None:
        siblings = tuple(i for i in detection.detection_items if isinstance(i, SigmaDetectionItem))
        # Fields AND-ed together describe one record (or one event); an OR list does not.
        context = siblings + outer if _is_and(detection) else outer
        for item in detection.detection_items:
            if isinstance(item, SigmaDetection):
                self.walk(rule, item, context)
            else:
                self.item(rule, item, context)

    def item(
        self, rule: SigmaRule, item: SigmaDetectionItem, context: tuple[SigmaDetectionItem, ...]
    ) -> None:
        """Transform or check one detection item; `context` holds the items AND-ed with it."""


def _is_and(detection: SigmaDetection) -> bool:
    return detection.item_linking is ConditionAND or len(detection.detection_items) <= 1


class NotMapped(SigmaTransformationError):
    """A rule the pipeline cannot map; `kind` is one of report.KIND_*."""

    def __init__(self, message: str, *, kind: str, source: Any = None) -> None:
        super().__init__(message, source=source)
        self.kind = kind


def _fail(item: SigmaDetectionItem | None, message: str, kind: str = r.KIND_FIELD) -> NotMapped:
    return NotMapped(message, kind=kind, source=item.source if item is not None else None)


def _log_source_text(rule: SigmaRule | SigmaCorrelationRule) -> tuple[str | None, ...]:
    if isinstance(rule, SigmaCorrelationRule):
        return None, None, None
    source = rule.logsource
    return source.product, source.category, source.service


@dataclass
class UnsupportedLogSource(PreprocessingTransformation):
    """Fails a rule whose log source has no mapping, saying why."""

    def apply(self, rule: SigmaRule | SigmaCorrelationRule) -> None:
        if isinstance(rule, SigmaCorrelationRule):
            raise NotMapped(
                "correlation rules are not converted (only single-event rules are)",
                kind=r.KIND_CORRELATION,
                source=rule.source,
            )
        product, category, service = _log_source_text(rule)
        raise NotMapped(
            m.unsupported_reason(product, category, service),
            kind=r.KIND_LOG_SOURCE,
            source=rule.source,
        )


@dataclass
class KeywordsNotConvertible(_DoorhuntTransformation):
    """Fails a keyword search (values without a field) outside auditd: no raw lines are kept."""

    def item(
        self, rule: SigmaRule, item: SigmaDetectionItem, context: tuple[SigmaDetectionItem, ...]
    ) -> None:
        if item.field is None:
            raise _fail(
                item,
                "keyword search (values without a field) needs the raw log message, which "
                "doorhunt's ECS events do not have",
                r.KIND_KEYWORDS,
            )


@dataclass
class AuditdFields(_DoorhuntTransformation):
    """The auditd fields whose meaning depends on the record they come from, and the values
    that change form on the way to ECS (see mapping.py and docs/ingest.md)."""

    def item(
        self, rule: SigmaRule, item: SigmaDetectionItem, context: tuple[SigmaDetectionItem, ...]
    ) -> None:
        name = item.field
        if name is None:
            self.keywords(item)
            return
        records = _record_types(context) or _record_types(_all_items(rule))
        if m.AUDIT_ARGUMENT.fullmatch(name):
            self.argument(item, name, records)
        elif name == "name":
            if records and "PATH" not in records:
                raise _fail(item, f"field name of a {'/'.join(sorted(records))} record has "
                            "no ECS home (doorhunt keeps PATH names as file.path)")  # fmt: skip
            self.warn(m.COVERAGE_NOTES["file.path/auditd"])
        elif name == "type":
            self.record_types(item)
        elif name in ("SYSCALL", "syscall"):
            self.syscalls(item)
        elif name == "nametype":
            item.value = _mapped_values(item, m.AUDIT_NAMETYPES, "nametype")
        elif name == "success":
            item.value = _mapped_values(item, m.AUDIT_SUCCESS, "success")

    def keywords(self, item: SigmaDetectionItem) -> None:
        item.field = m.AUDIT_KEYWORD_FIELD
        item.value = [_contains(value, item) for value in item.value]
        self.warn(
            "keywords (values without a field) are matched against process.command_line, "
            "the arguments of the audited execve, not against the raw audit record"
        )

    def argument(self, item: SigmaDetectionItem, name: str, records: set[str]) -> None:
        if "SYSCALL" in records and "EXECVE" not in records:
            raise _fail(
                item,
                f"field {name} of a SYSCALL record is a raw syscall argument, which doorhunt's "
                "audit ingest does not keep",
                r.KIND_AUDIT,
            )
        item.field = m.AUDIT_ARGUMENTS_FIELD
        self.warn(
            "positional EXECVE arguments (a0, a1, ...) are matched against any element of "
            "process.args: EQL cannot index into an array"
        )

    def record_types(self, item: SigmaDetectionItem) -> None:
        for value in _plain_strings(item, "type"):
            if value.upper() not in m.AUDIT_KERNEL_RECORDS:
                raise _fail(
                    item,
                    f"auditd record type {value} is not part of a syscall event, which is all "
                    "doorhunt's audit ingest maps (docs/ingest.md)",
                    r.KIND_AUDIT,
                )

    def syscalls(self, item: SigmaDetectionItem) -> None:
        for value in _plain_strings(item, "SYSCALL"):
            if value.isdigit():
                raise _fail(
                    item,
                    f"syscall number {value} differs between architectures; doorhunt keeps "
                    "syscall names",
                    r.KIND_AUDIT,
                )
            if value.lower() not in AUDIT_SYSCALLS:
                raise _fail(
                    item,
                    f"syscall {value} is not mapped by doorhunt's audit ingest, so no event "
                    "carries it (docs/ingest.md)",
                    r.KIND_AUDIT,
                )


def _all_items(rule: SigmaRule) -> tuple[SigmaDetectionItem, ...]:
    def items(detection: SigmaDetection) -> Iterator[SigmaDetectionItem]:
        for item in detection.detection_items:
            if isinstance(item, SigmaDetection):
                yield from items(item)
            else:
                yield item

    return tuple(i for d in rule.detection.detections.values() for i in items(d))


def _record_types(items: Iterable[SigmaDetectionItem]) -> set[str]:
    found: set[str] = set()
    for item in items:
        if item.field == "type":
            found.update(
                str(v).upper() for v in item.value if isinstance(v, SigmaString | SigmaNumber)
            )
    return found


def _plain_strings(item: SigmaDetectionItem, name: str) -> list[str]:
    values: list[str] = []
    for value in item.value:
        if (isinstance(value, SigmaString) and not value.contains_special()) or isinstance(
            value, SigmaNumber
        ):
            values.append(str(value))
        else:
            raise _fail(item, f"field {name} takes plain values here, not {value!s}", r.KIND_VALUE)
    return values


def _mapped_values(
    item: SigmaDetectionItem, table: Mapping[str, str], name: str
) -> list[SigmaType]:
    mapped: list[SigmaType] = []
    for value in _plain_strings(item, name):
        target = table.get(value.upper()) or table.get(value.lower())
        if target is None:
            raise _fail(item, f"{name} value {value} has no ECS equivalent", r.KIND_VALUE)
        mapped.append(SigmaString(target))
    return mapped


def _contains(value: SigmaType, item: SigmaDetectionItem) -> SigmaType:
    """A keyword as a substring match, as Sigma backends search raw text."""
    if isinstance(value, SigmaNumber):
        value = SigmaString(str(value))
    if isinstance(value, SigmaExpansion):
        return SigmaExpansion([_contains(v, item) for v in value.values])
    if not isinstance(value, SigmaString):
        raise _fail(item, f"keyword {value!s} cannot be matched as text", r.KIND_VALUE)
    if not value.startswith(SpecialChars.WILDCARD_MULTI):
        value = SpecialChars.WILDCARD_MULTI + value
    if not value.endswith(SpecialChars.WILDCARD_MULTI):
        value = value + SpecialChars.WILDCARD_MULTI
    return value


@dataclass
class InitiatedDirection(_DoorhuntTransformation):
    """Sysmon's `Initiated: true/false` as ECS network.direction egress/ingress."""

    def item(
        self, rule: SigmaRule, item: SigmaDetectionItem, context: tuple[SigmaDetectionItem, ...]
    ) -> None:
        if item.field != "Initiated":
            return
        values: list[SigmaType] = []
        for value in item.value:
            text = str(value.boolean if isinstance(value, SigmaBool) else value).lower()
            if text not in ("true", "false"):
                raise _fail(item, f"Initiated takes true or false, not {value!s}", r.KIND_VALUE)
            values.append(SigmaString("egress" if text == "true" else "ingress"))
        item.value = values


@dataclass
class UnmappedFields(_DoorhuntTransformation):
    """Fails a rule with a field left without an ECS target, and notes partial coverage."""

    targets: frozenset[str] = field(default_factory=m.target_fields)
    log_source: m.LogSource | None = None

    def item(
        self, rule: SigmaRule, item: SigmaDetectionItem, context: tuple[SigmaDetectionItem, ...]
    ) -> None:
        name = item.field
        if name is None:
            return
        if name in self.targets:
            if name in m.COVERAGE_NOTES:
                self.warn(m.COVERAGE_NOTES[name])
            return
        source = self.log_source
        where = source.key if source is not None else "this log source"
        reason = source.unmapped.get(name) if source is not None else None
        if reason is None:
            reason = "no ECS field that doorhunt's sources write has this meaning"
        raise _fail(item, f"field {name} ({where}): {reason}")


def _field_mapping(source: m.LogSource) -> dict[str | None, str | list[str]]:
    mapping: dict[str | None, str | list[str]] = {}
    mapping.update(source.fields)
    return mapping


def _condition(source: m.LogSource) -> LogsourceCondition:
    return LogsourceCondition(product="linux", category=source.category, service=source.service)


def _for_source(
    source: m.LogSource, transformation: PreprocessingTransformation, name: str
) -> ProcessingItem:
    return ProcessingItem(
        transformation=transformation,
        rule_conditions=[_condition(source)],
        identifier=f"doorhunt_{source.key}_{name}",
    )


def linux_ecs_pipeline() -> ProcessingPipeline:
    """doorhunt's Linux→ECS pipeline (process_creation, file_*, network_connection, auditd)."""
    items: list[ProcessingItem] = [
        ProcessingItem(
            transformation=UnsupportedLogSource(),
            rule_conditions=[_condition(source) for source in m.LOG_SOURCES],
            rule_condition_linking=any,
            rule_condition_negation=True,
            identifier="doorhunt_unsupported_log_source",
        )
    ]
    for source in m.LOG_SOURCES:
        items.append(
            _for_source(
                source, SetStateTransformation(STATE_CATEGORY, source.eql_category), "category"
            )
        )
        items.append(
            _for_source(
                source, SetStateTransformation(STATE_EVENT_FILTER, source.event_filter), "filter"
            )
        )
        if source is m.AUDITD:
            items.append(_for_source(source, AuditdFields(), "auditd_fields"))
        else:
            items.append(_for_source(source, KeywordsNotConvertible(), "keywords"))
        if source is m.NETWORK_CONNECTION:
            items.append(_for_source(source, InitiatedDirection(), "initiated"))
        items.append(
            _for_source(source, FieldMappingTransformation(_field_mapping(source)), "fields")
        )
        items.append(_for_source(source, UnmappedFields(log_source=source), "unmapped"))
    return ProcessingPipeline(
        name=PIPELINE_NAME,
        priority=20,
        items=items,
    )


__all__ = [
    "PIPELINE_NAME",
    "STATE_CATEGORY",
    "STATE_EVENT_FILTER",
    "STATE_WARNINGS",
    "AuditdFields",
    "InitiatedDirection",
    "KeywordsNotConvertible",
    "NotMapped",
    "UnmappedFields",
    "UnsupportedLogSource",
    "linux_ecs_pipeline",
    "warnings_of",
]
