"""Terminal views of `doorhunt bpf` results (the JSON views are the results' `to_json`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from doorhunt.bpf.classify import FilterClass
from doorhunt.bpf.disasm import disassemble
from doorhunt.bpf.explain import Explanation
from doorhunt.bpf.meaning import display_name
from doorhunt.bpf.probe import Probe, ProbeFailure
from doorhunt.i18n import Catalog
from doorhunt.report.terminal import safe_text

MAX_PATHS_SHOWN = 12

LABELS = Catalog(
    {
        "program": {"en": "Program", "ko": "프로그램"},
        "instructions": {"en": "{count} instructions", "ko": "명령어 {count}개"},
        "link": {"en": "link {link}", "ko": "링크 {link}"},
        "socket": {"en": "socket", "ko": "소켓"},
        "verdict": {"en": "Verdict", "ko": "판정"},
        "suspicious": {"en": "SUSPICIOUS", "ko": "의심"},
        "not_suspicious": {"en": "not suspicious", "ko": "의심 아님"},
        "score": {"en": "score {score}/100", "ko": "점수 {score}/100"},
        "protocols": {"en": "Protocols", "ko": "프로토콜"},
        "any": {"en": "any", "ko": "전체"},
        "magic": {"en": "Magic compares", "ko": "매직 값 비교"},
        "summary": {"en": "Summary", "ko": "요약"},
        "reasons": {"en": "Why", "ko": "근거"},
        "paths": {"en": "Accepting paths", "ko": "받아들이는 경로"},
        "paths_more": {
            "en": "... {count} more paths (use --json for all)",
            "ko": "... 경로 {count}개 더 있음 (전체는 --json)",
        },
        "accept": {"en": "accept {size} bytes", "ko": "{size} 바이트 수락"},
        "always": {"en": "(no condition)", "ko": "(조건 없음)"},
        "disassembly": {"en": "Disassembly", "ko": "역어셈블"},
        "probes": {"en": "Probe packets", "ko": "프로브 패킷"},
        "probe_failed": {"en": "no packet", "ko": "패킷 없음"},
        "payload": {"en": "payload", "ko": "페이로드"},
    }
)

_CLASS_STYLE = {FilterClass.BPFDOOR: "bold red", FilterClass.PAYLOAD_MAGIC: "bold yellow"}


def _header(
    console: Console, explanation: Explanation, title: str, label: Callable[..., str]
) -> None:
    header = Text(f"{label('program')} {safe_text(title)} · ", style="bold")
    header.append(label("instructions", count=len(explanation.program)))
    header.append(" · " + label("link", link=explanation.link.value))
    header.append(f" · {explanation.classification.filter_class.value}")
    console.print(header)


def render_explanation(
    console: Console,
    explanation: Explanation,
    language: str,
    *,
    title: str,
    context: str | None = None,
    show_disassembly: bool = True,
) -> None:
    def label(code: str, **params: object) -> str:
        return LABELS.text(code, language, **params)

    verdict = explanation.classification
    _header(console, explanation, title, label)
    if context:
        console.print(Text(f"{label('socket'):<12}{safe_text(context)}"))

    line = Text(f"{label('verdict'):<12}")
    line.append(verdict.filter_class.value, style=_CLASS_STYLE.get(verdict.filter_class, "bold"))
    line.append("  ")
    line.append(
        label("suspicious") if verdict.suspicious else label("not_suspicious"),
        style="bold red" if verdict.suspicious else "green",
    )
    line.append("  " + label("score", score=verdict.score))
    console.print(line)
    protocols = ", ".join(display_name(p) for p in verdict.protocols) or label("any")
    console.print(Text(f"{label('protocols'):<12}{protocols}"))
    if verdict.magic:
        console.print(Text(label("magic"), style="bold"))
        for compare in verdict.magic:
            text = Text(
                f"  {display_name(compare.protocol):<6} {label('payload')}"
                f"[{compare.offset}..{compare.offset + compare.size - 1}] = {compare.hex}"
            )
            if compare.mask is not None:
                text.append(f" & {compare.mask:#x}")
            for match in compare.known:
                text.append(f"   {match.magic.note}", style="red")
            console.print(text)
    console.print(Text(label("summary"), style="bold"))
    _indented(console, explanation.summary(language))
    console.print(Text(label("reasons"), style="bold"))
    for reason in verdict.reasons:
        _indented(console, "• " + reason.render(language))
    _render_paths(console, explanation, label)
    if show_disassembly:
        console.print(Text(label("disassembly"), style="bold"))
        for row in disassemble(explanation.program):
            console.print(Text("  " + row))


def _render_paths(console: Console, explanation: Explanation, label: Callable[..., str]) -> None:
    meanings = explanation.meanings
    if not meanings:
        return
    console.print(Text(f"{label('paths')} ({len(meanings)})", style="bold"))
    for number, meaning in enumerate(meanings[:MAX_PATHS_SHOWN], 1):
        tests = " ∧ ".join(test.text for test in meaning.tests) or label("always")
        result = meaning.path.result
        size = getattr(result, "value", str(result))
        _indented(console, f"{number}. {tests} → {label('accept', size=size)}")
    if len(meanings) > MAX_PATHS_SHOWN:
        console.print(Text("  " + label("paths_more", count=len(meanings) - MAX_PATHS_SHOWN)))


def _indented(console: Console, text: str) -> None:
    """Indented text whose wrapped lines keep the indent."""
    console.print(Padding(Text(text), (0, 0, 0, 2), expand=False))


def render_probes(
    console: Console,
    explanation: Explanation,
    probes: Sequence[Probe | ProbeFailure],
    language: str,
    *,
    title: str,
) -> None:
    def label(code: str, **params: object) -> str:
        return LABELS.text(code, language, **params)

    _header(console, explanation, title, label)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("#", justify="right")
    table.add_column(label("protocols"))
    table.add_column(label("probes"), overflow="fold")
    for probe in probes:
        if isinstance(probe, ProbeFailure):
            table.add_row(
                str(probe.path + 1),
                "-",
                Text(f"{label('probe_failed')}: {probe.reason.render(language)}", style="yellow"),
            )
            continue
        protocols = " ".join(display_name(p) for p in (probe.network, probe.transport) if p)
        cell = Text(probe.packet.hex())
        for note in probe.notes:
            cell.append("\n" + note.render(language), style="yellow")
        table.add_row(str(probe.path + 1), protocols, cell)
    console.print(table)


__all__ = ["render_explanation", "render_probes"]
