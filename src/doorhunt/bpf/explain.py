"""One call from a program to everything doorhunt knows about it, and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass

from doorhunt.bpf.classify import Classification, classify
from doorhunt.bpf.codec import to_bytes
from doorhunt.bpf.disasm import disassemble
from doorhunt.bpf.expr import Const
from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.meaning import Layer, PathMeaning, Test, display_name, lift
from doorhunt.bpf.paths import PathAnalysis, Relation, explore
from doorhunt.bpf.probe import Probe, ProbeFailure, synthesize
from doorhunt.bpf.program import Program
from doorhunt.i18n import Catalog

MAX_SUMMARY_CLAUSES = 8

MESSAGES = Catalog(
    {
        "accepts_nothing": {"en": "Accepts no packet.", "ko": "어떤 패킷도 받아들이지 않음."},
        "accepts_everything": {"en": "Accepts every packet.", "ko": "모든 패킷을 받아들임."},
        "accepts": {"en": "Accepts {clauses}.", "ko": "받아들이는 패킷: {clauses}."},
        "more": {"en": "and {count} more kinds", "ko": "외 {count}종"},
        "packets": {"en": "{protocols} packets", "ko": "{protocols} 패킷"},
        "any_packets": {"en": "packets", "ko": "패킷"},
        "with": {"en": "{what} {details}", "ko": "{what} 중 {details}"},
        "where": {"en": "where {tests}", "ko": "조건 {tests}"},
        "payload": {
            "en": "whose {protocol} payload bytes {start}..{end} are {value}",
            "ko": "{protocol} 페이로드 {start}..{end} 바이트가 {value}인 것",
        },
        "first_fragments": {"en": "(first fragments only)", "ko": "(첫 조각만)"},
        "or": {"en": "; or ", "ko": "; 또는 "},
    }
)

# Tests that only say which protocol a path is about; the protocol phrase already says it.
_PROTOCOL_FIELDS = frozenset(
    {
        "eth.type",
        "vlan.type",
        "ip.proto",
        "ip6.nxt",
        "frag6.nxt",
        "ip.flags_frag",
        "meta.proto",
        "ip.version_ihl & 0xf0",
        "ip6.ver_tc_flow & 0xf0000000",
    }
)


@dataclass(frozen=True, slots=True)
class Explanation:
    program: Program
    link: Link
    analysis: PathAnalysis
    meanings: tuple[PathMeaning, ...]
    classification: Classification

    def summary(self, language: str = "en") -> str:
        kind = self.classification.filter_class.value
        if kind == "reject-all":
            return MESSAGES.text("accepts_nothing", language)
        if kind == "capture-all":
            return MESSAGES.text("accepts_everything", language)
        clauses = list(dict.fromkeys(_clause(m, language) for m in self.meanings))
        shown = clauses[:MAX_SUMMARY_CLAUSES]
        if len(clauses) > len(shown):
            shown.append(MESSAGES.text("more", language, count=len(clauses) - len(shown)))
        return MESSAGES.text("accepts", language, clauses=MESSAGES.text("or", language).join(shown))

    def probes(self) -> list[Probe | ProbeFailure]:
        return [
            synthesize(self.program, self.link, meaning, index)
            for index, meaning in enumerate(self.meanings)
        ]

    def ecs_fields(self) -> dict[str, object]:
        """The `doorhunt.bpf.*` fields (docs/ecs.md) that carry this verdict in ECS documents."""
        return {"doorhunt": {"bpf": self.ecs_bpf_fields()}}

    def ecs_bpf_fields(self) -> dict[str, object]:
        verdict = self.classification
        return {
            "bytecode": to_bytes(self.program, byteorder="little").hex(),
            "instructions": len(self.program),
            "class": verdict.filter_class.value,
            "suspicious": verdict.suspicious,
            "score": verdict.score,
            "magic": [
                {
                    "protocol": compare.protocol,
                    "offset": compare.offset,
                    "size": compare.size,
                    "value": compare.value,
                }
                for compare in verdict.magic
            ],
            "protocols": list(verdict.protocols),
            "link": self.link.value,
        }

    def to_json(self, language: str = "en") -> dict[str, object]:
        verdict = self.classification
        return {
            "instructions": len(self.program),
            "link": self.link.value,
            "class": verdict.filter_class.value,
            "suspicious": verdict.suspicious,
            "score": verdict.score,
            "protocols": list(verdict.protocols),
            "magic": [compare.to_json() for compare in verdict.magic],
            "reasons": [reason.render(language) for reason in verdict.reasons],
            "summary": self.summary(language),
            "disassembly": disassemble(self.program),
            "bytecode": to_bytes(self.program, byteorder="little").hex(),
            "paths": [_path_json(meaning) for meaning in self.meanings],
            "analysis": {
                "exhaustive": self.analysis.exhaustive,
                "complete": self.analysis.complete,
                "steps": self.analysis.steps,
            },
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """An explanation's summary, rendered in the reader's language when shown (Localized)."""

    explanation: Explanation
    limit: int = 200

    def render(self, language: str = "en") -> str:
        text = self.explanation.summary(language)
        return text if len(text) <= self.limit else text[: self.limit - 1] + "…"


def explain(
    program: Program,
    link: Link = Link.ETHERNET,
    *,
    max_paths: int = 256,
    max_steps: int = 200_000,
) -> Explanation:
    analysis = explore(program, link, max_paths=max_paths, max_steps=max_steps)
    meanings = tuple(lift(path, link) for path in analysis.paths)
    return Explanation(program, link, analysis, meanings, classify(analysis, meanings))


def probe_json(probe: Probe | ProbeFailure, language: str = "en") -> dict[str, object]:
    if isinstance(probe, ProbeFailure):
        return {"path": probe.path, "ok": False, "error": probe.reason.render(language)}
    return {
        "path": probe.path,
        "ok": True,
        "network": probe.network,
        "transport": probe.transport,
        "packet": probe.packet.hex(),
        "frame": probe.frame.hex(),
        "length": len(probe.packet),
        "accepted": probe.accepted,
        "notes": [note.render(language) for note in probe.notes],
    }


def _path_json(meaning: PathMeaning) -> dict[str, object]:
    result = meaning.path.result
    return {
        "instructions": list(meaning.path.instructions),
        "network": meaning.network,
        "network_assumed": meaning.network_assumed,
        "transport": meaning.transport,
        "conditions": [test.text for test in meaning.tests],
        "payload": [
            {
                "protocol": run.protocol,
                "offset": run.offset,
                "value": run.value.hex(),
                "mask": run.mask.hex(),
            }
            for run in meaning.payload
        ],
        "first_fragments_only": meaning.first_fragments_only,
        "accepts": result.value if isinstance(result, Const) else str(result),
    }


def _clause(meaning: PathMeaning, language: str) -> str:
    names = " ".join(display_name(name) for name in meaning.protocols)
    text = (
        MESSAGES.text("packets", language, protocols=names)
        if names
        else MESSAGES.text("any_packets", language)
    )
    details = []
    tests = _interesting_tests(meaning)
    if tests:
        details.append(MESSAGES.text("where", language, tests=", ".join(t.text for t in tests)))
    for run in meaning.payload:
        value = " ".join(
            f"{byte:02x}" if mask == 0xFF else f"{byte:02x}/{mask:02x}"
            for byte, mask in zip(run.value, run.mask, strict=True)
        )
        details.append(
            MESSAGES.text(
                "payload",
                language,
                protocol=run.protocol.upper(),
                start=run.offset,
                end=run.offset + run.size - 1,
                value=value,
            )
        )
    if not details:
        return text
    text = MESSAGES.text("with", language, what=text, details=", ".join(details))
    if meaning.first_fragments_only:
        text += " " + MESSAGES.text("first_fragments", language)
    return text


def _interesting_tests(meaning: PathMeaning) -> list[Test]:
    """Tests worth a reader's attention: not protocol selection, not payload bytes (said
    separately), not an inequality made redundant by an equality on the same field."""
    equal_fields = {
        t.field.name
        for t in meaning.tests
        if t.field is not None and t.relation is Relation.EQ and t.mask is None
    }
    kept = []
    for test in meaning.tests:
        name = test.field.name if test.field else None
        masked = f"{name} & {test.mask:#x}" if test.mask is not None else name
        if masked in _PROTOCOL_FIELDS or (test.field and test.field.layer is Layer.PAYLOAD):
            continue
        if name in equal_fields and test.relation is not Relation.EQ:
            continue
        kept.append(test)
    return kept


__all__ = ["Explanation", "Summary", "explain", "probe_json"]
