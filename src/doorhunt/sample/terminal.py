"""Terminal views of `doorhunt sample` and `doorhunt yara` results, in English or Korean.

Everything that comes from the sample (strings, names, rule metadata of user rules, paths)
passes through `safe_text`: a hostile sample chooses those bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.console import Console
from rich.text import Text

from doorhunt.bpf.meaning import display_name
from doorhunt.bpf.probe import Probe
from doorhunt.i18n import Catalog
from doorhunt.report.terminal import safe_text
from doorhunt.sample.analysis import FoundFilter, SampleAnalysis, SampleClass
from doorhunt.sample.artefacts import ArtefactKind
from doorhunt.sample.yara import ScanReport, YaraHit

MAX_VALUES_SHOWN = 12
MAX_HITS_SHOWN = 50
LABEL_WIDTH = 18

LABELS = Catalog(
    {
        "file": {"en": "File", "ko": "파일"},
        "bytes": {"en": "{size} bytes", "ko": "{size} 바이트"},
        "raw": {"en": "raw bytes (not read as ELF)", "ko": "원시 바이트 (ELF로 읽지 않음)"},
        "elf": {
            "en": "ELF {bits}-bit {order}-endian {machine}, {kind}",
            "ko": "ELF {bits}비트 {order} 엔디언 {machine}, {kind}",
        },
        "static": {"en": "statically linked", "ko": "정적 링크"},
        "pie": {"en": "PIE executable", "ko": "PIE 실행 파일"},
        "dynamic": {"en": "dynamically linked", "ko": "동적 링크"},
        "stripped": {"en": "stripped", "ko": "심볼 제거됨"},
        "verdict": {"en": "Verdict", "ko": "판정"},
        "score": {"en": "score {score}/100", "ko": "점수 {score}/100"},
        "class_bpfdoor": {"en": "BPFDOOR", "ko": "BPFDOOR"},
        "class_suspicious": {"en": "SUSPICIOUS", "ko": "의심"},
        "class_clean": {
            "en": "nothing found at or above the threshold",
            "ko": "기준 이상으로 발견된 것 없음",
        },
        "why": {"en": "Why", "ko": "근거"},
        "filters": {"en": "Socket filters ({count})", "ko": "소켓 필터 ({count}개)"},
        "filter_line": {
            "en": "#{index} {where} · {count} instructions · {kind} · score {score}",
            "ko": "#{index} {where} · 명령어 {count}개 · {kind} · 점수 {score}",
        },
        "where_file": {"en": "file offset {offset}", "ko": "파일 오프셋 {offset}"},
        "where_section": {
            "en": "file offset {offset} ({section})",
            "ko": "파일 오프셋 {offset} ({section})",
        },
        "where_stack": {"en": "stack, built at {address}", "ko": "스택, {address}에서 생성"},
        "where_expression": {
            "en": "libpcap text at file offset {offset}, compiled by tcpdump",
            "ko": "파일 오프셋 {offset}의 libpcap 문자열, tcpdump로 컴파일",
        },
        "expressions": {"en": "libpcap filters", "ko": "libpcap 필터"},
        "expression_compiled": {
            "en": "compiled: filter #{index}",
            "ko": "컴파일됨: 필터 #{index}",
        },
        "expression_not_compiled": {"en": "not compiled: {error}", "ko": "컴파일 안 됨: {error}"},
        "network": {"en": "Addresses", "ko": "주소"},
        "crypto": {"en": "Crypto", "ko": "암호"},
        "layout": {"en": "Magic packet", "ko": "매직 패킷"},
        "layout_value": {
            "en": "{fields} ({size} bytes; read at {address}; evidence: {evidence})",
            "ko": "{fields} ({size}바이트; {address}에서 읽음; 근거: {evidence})",
        },
        "confidence": {"en": "{level} confidence", "ko": "신뢰도 {level}"},
        "level_high": {"en": "high", "ko": "높음"},
        "level_medium": {"en": "medium", "ko": "중간"},
        "level_low": {"en": "low", "ko": "낮음"},
        "magic": {"en": "magic", "ko": "매직"},
        "trigger": {"en": "trigger", "ko": "트리거"},
        "config": {"en": "Configuration", "ko": "설정"},
        "passwords": {"en": "Passwords", "ko": "비밀번호"},
        "verified": {
            "en": "verified: {algorithm}({order}){salt}",
            "ko": "검증됨: {algorithm}({order}){salt}",
        },
        "salt": {"en": ", salt {salt}", "ko": ", 솔트 {salt}"},
        "candidate": {"en": "candidate", "ko": "후보"},
        "digests": {"en": "Digests", "ko": "해시값"},
        "decoy_names": {"en": "Decoy names", "ko": "위장 이름"},
        "pid_files": {"en": "PID files", "ko": "PID 파일"},
        "firewall": {"en": "iptables", "ko": "iptables"},
        "environment": {"en": "Shell environment", "ko": "셸 환경"},
        "install": {"en": "Install path", "ko": "설치 경로"},
        "disguise": {"en": "Shell disguise", "ko": "셸 위장"},
        "ports": {"en": "Bind ports", "ko": "바인드 포트"},
        "backdated": {"en": "Back-dated to", "ko": "위조 시각"},
        "code_magic": {"en": "Code magic", "ko": "코드 매직"},
        "more": {"en": "... {count} more (use --json)", "ko": "... {count}개 더 (--json)"},
        "yara": {"en": "YARA ({count} rules matched)", "ko": "YARA (규칙 {count}개 일치)"},
        "yara_off": {"en": "YARA not run", "ko": "YARA 실행 안 함"},
        "gaps": {"en": "Not seen", "ko": "확인하지 못한 것"},
        "target": {"en": "Target", "ko": "대상"},
        "scanned": {"en": "{size} bytes scanned", "ko": "{size} 바이트 검사"},
        "no_hits": {"en": "no rule matched", "ko": "일치한 규칙 없음"},
        "hits": {"en": "{count} hits", "ko": "{count}건 일치"},
    }
)

_CLASS_STYLE = {
    SampleClass.BPFDOOR: "bold red",
    SampleClass.SUSPICIOUS: "bold yellow",
    SampleClass.CLEAN: "green",
}
_CONFIG_ROWS = (
    ("decoy_names", ArtefactKind.DECOY_NAME),
    ("pid_files", ArtefactKind.PID_FILE),
    ("firewall", ArtefactKind.FIREWALL_TEMPLATE),
    ("environment", ArtefactKind.SHELL_ENVIRONMENT),
    ("install", ArtefactKind.INSTALL_PATH),
    ("disguise", ArtefactKind.SHELL_DISGUISE),
    ("code_magic", ArtefactKind.CODE_MAGIC),
)


def render_analysis(console: Console, analysis: SampleAnalysis, language: str) -> None:
    def label(code: str, **params: object) -> str:
        return LABELS.text(code, language, **params)

    _render_header(console, analysis, label)
    _render_verdict(console, analysis, label, language)
    _render_filters(console, analysis.filters, label, language)
    _render_config(console, analysis, label)
    _render_yara(console, analysis.yara_hits, label)
    if analysis.gaps:
        console.print(Text(label("gaps"), style="bold"))
        for gap in analysis.gaps:
            console.print(Text("  • " + safe_text(gap.render(language))))


def _render_header(console: Console, analysis: SampleAnalysis, label: Callable[..., str]) -> None:
    facts = analysis.file
    header = Text(f"{label('file')} {safe_text(facts.name)}", style="bold")
    header.append(" · " + label("bytes", size=facts.size))
    console.print(header)
    image = analysis.image
    if image is None:
        console.print(Text("  " + label("raw")))
    else:
        details = [
            label(
                "elf",
                bits=image.header.elf_class,
                order=image.header.byte_order,
                machine=image.header.machine_name,
                kind=_kind(analysis, label),
            ),
            label("static") if image.static else label("dynamic"),
        ]
        if image.stripped:
            details.append(label("stripped"))
        console.print(Text("  " + ", ".join(details)))
    console.print(Text(f"  sha256 {facts.sha256}"))


def _kind(analysis: SampleAnalysis, label: Callable[..., str]) -> str:
    image = analysis.image
    assert image is not None
    # ET_DYN with a program interpreter is a position-independent executable (gABI, ld.so).
    if image.header.type_name == "shared" and image.interpreter:
        return label("pie")
    return image.header.type_name


def _render_verdict(
    console: Console, analysis: SampleAnalysis, label: Callable[..., str], language: str
) -> None:
    verdict = analysis.verdict
    line = Text(f"{label('verdict'):<{LABEL_WIDTH}}")
    line.append(
        label(f"class_{verdict.sample_class.value}"), style=_CLASS_STYLE[verdict.sample_class]
    )
    line.append("  " + label("score", score=verdict.score))
    console.print(line)
    console.print(Text(label("why"), style="bold"))
    for reason in verdict.reasons:
        console.print(Text("  • " + safe_text(reason.render(language))))


def _render_filters(
    console: Console, filters: Sequence[FoundFilter], label: Callable[..., str], language: str
) -> None:
    if not filters:
        return
    console.print(Text(label("filters", count=len(filters)), style="bold"))
    for index, found in enumerate(filters):
        verdict = found.explanation.classification
        if found.expression is not None:
            where = label("where_expression", offset=found.place.offset)
        elif found.place.origin == "stack":
            where = label("where_stack", address=f"{found.place.address or 0:#x}")
        elif found.section:
            where = label("where_section", offset=found.place.offset, section=found.section)
        else:
            where = label("where_file", offset=found.place.offset)
        line = Text(
            "  "
            + label(
                "filter_line",
                index=index,
                where=safe_text(where),
                count=len(found.array.program),
                kind=verdict.filter_class.value,
                score=verdict.score,
            ),
            style="bold red" if verdict.suspicious else "",
        )
        console.print(line)
        console.print(Text("     " + found.explanation.summary(language)))
        for compare in verdict.magic if verdict.suspicious else ():
            notes = "; ".join(match.magic.note for match in compare.known)
            text = (
                f"     {label('magic')}: {display_name(compare.protocol)} "
                f"[{compare.offset}..{compare.offset + compare.size - 1}] = {compare.hex}"
            )
            console.print(Text(text + (f"  ({notes})" if notes else "")))
        for probe in found.probes:
            if isinstance(probe, Probe):
                packet = probe.packet.hex()
                shown = packet if len(packet) <= 96 else packet[:96] + "..."
                console.print(Text(f"     {label('trigger')} {probe.transport or ''}: {shown}"))


def _render_config(console: Console, analysis: SampleAnalysis, label: Callable[..., str]) -> None:
    rows: list[tuple[str, list[str]]] = []
    secrets = analysis.secrets
    if secrets.passwords:
        values = []
        for candidate in secrets.passwords:
            if candidate.verified:
                check = candidate.verified
                salt = label("salt", salt=safe_text(check.salt)) if check.salt else ""
                note = label("verified", algorithm=check.algorithm, order=check.order, salt=salt)
            else:
                note = label("candidate")
            values.append(f"{safe_text(candidate.value)}  ({note})")
        rows.append((label("passwords"), values))
    if secrets.digests:
        rows.append((label("digests"), [f"{d.algorithm} {d.value}" for d in secrets.digests]))
    for code, kind in _CONFIG_ROWS:
        values = [safe_text(value) for value in analysis.values(kind)]
        if values:
            rows.append((label(code), values))
    config = analysis.config()
    ports = config["bind_ports"]
    if isinstance(ports, dict):
        rows.append((label("ports"), [f"{ports['first']}-{ports['last']}"]))
    backdated = config["backdated_time"]
    if isinstance(backdated, dict):
        rows.append((label("backdated"), [f"{backdated['utc']} ({backdated['epoch']})"]))
    rows += _extraction_rows(analysis, label)
    if not rows:
        return
    console.print(Text(label("config"), style="bold"))
    for name, values in rows:
        for number, value in enumerate(values[:MAX_VALUES_SHOWN]):
            console.print(Text(f"  {name if number == 0 else '':<{LABEL_WIDTH}}{value}"))
        if len(values) > MAX_VALUES_SHOWN:
            more = label("more", count=len(values) - MAX_VALUES_SHOWN)
            console.print(Text(f"  {'':<{LABEL_WIDTH}}{more}"))


def _extraction_rows(
    analysis: SampleAnalysis, label: Callable[..., str]
) -> list[tuple[str, list[str]]]:
    """The libpcap expressions, addresses, crypto markers and packet layout, each with how
    sure doorhunt is of it."""

    def sure(level: str) -> str:
        return label("confidence", level=label(f"level_{level}"))

    rows: list[tuple[str, list[str]]] = []
    config = analysis.config()
    expressions = []
    for entry in analysis.expressions:
        index = next(
            (
                number
                for number, found in enumerate(analysis.filters)
                if found.expression == entry.text and found.place == entry.place
            ),
            None,
        )
        status = (
            label("expression_compiled", index=index)
            if index is not None
            else label("expression_not_compiled", error=safe_text(entry.error or ""))
        )
        expressions.append(f"{safe_text(entry.text)}  ({status})")
    if expressions:
        rows.append((label("expressions"), expressions))
    network = [
        f"{safe_text(i.value)}  ({i.kind}, {i.scope}; {sure(i.confidence.value)})"
        for i in analysis.network
    ]
    if network:
        rows.append((label("network"), network))
    crypto = []
    for marker in analysis.crypto:
        name = " ".join(
            part for part in (marker.library or marker.algorithm, marker.version) if part
        )
        crypto.append(
            f"{safe_text(name)}  ({marker.evidence}: {safe_text(marker.value)}; "
            f"{sure(marker.confidence.value)})"
        )
    if crypto:
        rows.append((label("crypto"), crypto))
    layout = config["magic_layout"]
    if analysis.layout is not None and isinstance(layout, dict):
        fields = " | ".join(
            f"{name}@{offset}:{size}" for name, offset, size in analysis.layout.fields
        )
        value = label(
            "layout_value",
            fields=fields,
            size=analysis.layout.size,
            address=f"{analysis.layout.place.address or 0:#x}",
            evidence=", ".join(analysis.layout.evidence),
        )
        rows.append((label("layout"), [f"{value}; {sure(analysis.layout.confidence.value)}"]))
    return rows


def _render_yara(
    console: Console, hits: Sequence[YaraHit] | None, label: Callable[..., str]
) -> None:
    if hits is None:
        console.print(Text(label("yara_off"), style="bold"))
        return
    console.print(Text(label("yara", count=len({hit.rule for hit in hits})), style="bold"))
    render_hits(console, hits)


def render_hits(console: Console, hits: Sequence[YaraHit]) -> None:
    for hit in hits[:MAX_HITS_SHOWN]:
        line = Text(f"  {safe_text(hit.namespace)}.{safe_text(hit.rule)}", style="bold red")
        if hit.region:
            line.append(f"  [{safe_text(hit.region)}]")
        elif hit.source != "file":
            line.append(f"  [{hit.source}]")
        console.print(line)
        if hit.description:
            console.print(Text("      " + safe_text(hit.description)))
        for match in hit.strings[:4]:
            evidence = match.data[:24].hex(" ")
            console.print(Text(f"      {safe_text(match.identifier)} @{match.offset}: {evidence}"))


def render_scan_report(console: Console, report: ScanReport, language: str) -> None:
    def label(code: str, **params: object) -> str:
        return LABELS.text(code, language, **params)

    line = Text(f"{label('target')} {safe_text(report.target)}", style="bold")
    line.append(" · " + label("scanned", size=report.scanned_bytes))
    line.append(
        " · " + (label("hits", count=len(report.hits)) if report.hits else label("no_hits")),
        style="bold red" if report.hits else "green",
    )
    console.print(line)
    render_hits(console, report.hits)
    for gap in report.gaps:
        console.print(Text("  • " + safe_text(gap)))


__all__ = ["render_analysis", "render_hits", "render_scan_report"]
