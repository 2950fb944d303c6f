"""The incident report as one self-contained HTML file: printable, English or Korean.

Rendered by Jinja2 with autoescaping on, and a `finalize` hook that passes every value a
template prints through `display_text` first, so no host-derived string (a process name, an
argument, a path) reaches the page with markup or invisible characters in it, whichever
template line prints it. The page has no script and no external resource, and says so to the
browser: a Content-Security-Policy meta tag refuses scripts, so even a mistake here could not
run one. Print CSS gives A4 pages, repeated table headers and a page break per chapter.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import TYPE_CHECKING, Final

from doorhunt.errors import DoorhuntError
from doorhunt.i18n import Catalog
from doorhunt.report.display import display_text
from doorhunt.report.incident_model import IncidentReport, ProcessTreeView
from doorhunt.report.incident_template import STYLE, TEMPLATE
from doorhunt.report.process_svg import render_svg

if TYPE_CHECKING:
    import jinja2

MAX_CELL: Final = 600  # characters of one host-derived value in a table cell
MAX_EVIDENCE_VALUE: Final = 400
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)

LABELS: Final = Catalog(
    {
        "title": {"en": "Incident report", "ko": "침해사고 분석 보고서"},
        "subtitle": {
            "en": "Investigation of BPFDoor-style passive backdoors",
            "ko": "BPFDoor 유형 수동형 백도어 조사",
        },
        "generated": {"en": "Generated", "ko": "작성 일시"},
        "hosts_in_scope": {"en": "Hosts", "ko": "분석 대상 호스트"},
        "host_filter": {"en": "{host} (--host)", "ko": "{host} (--host 지정)"},
        "all_hosts": {"en": "all hosts in the store", "ko": "저장소의 모든 호스트"},
        "window": {"en": "Period", "ko": "분석 기간"},
        "window_all": {"en": "everything stored", "ko": "저장된 전체 기간"},
        "window_since": {"en": "from {since}", "ko": "{since} 부터"},
        "window_until": {"en": "until {until}", "ko": "{until} 까지"},
        "window_between": {"en": "{since} to {until}", "ko": "{since} ~ {until}"},
        "data_directory": {"en": "Data directory", "ko": "데이터 디렉터리"},
        "tool": {"en": "Tool", "ko": "분석 도구"},
        "time_zone": {"en": "Times are shown in {zone}.", "ko": "시각은 {zone} 기준입니다."},
        "contents": {"en": "Contents", "ko": "목차"},
        "s_summary": {"en": "Summary", "ko": "요약"},
        "s_sweeps": {"en": "Host sweep verdicts", "ko": "호스트 점검 결과"},
        "s_alerts": {"en": "Alerts by rule", "ko": "탐지 규칙별 경보"},
        "s_trees": {"en": "Process trees", "ko": "프로세스 트리"},
        "s_timeline": {"en": "Timeline", "ko": "타임라인"},
        "s_evidence": {"en": "Evidence", "ko": "증거 자료"},
        "s_filters": {"en": "Socket filters", "ko": "소켓 필터"},
        "s_files": {"en": "Files", "ko": "파일"},
        "s_notes": {"en": "Limits of this report", "ko": "보고서의 한계"},
        "verdict_headline": {"en": "Verdict: {verdict}", "ko": "판정: {verdict}"},
        "no_sweep": {"en": "No sweep in this period", "ko": "이 기간의 점검 결과 없음"},
        "no_sweep_hint": {
            "en": "Run `doorhunt sweep` on each host for a verdict.",
            "ko": "판정을 받으려면 각 호스트에서 `doorhunt sweep` 을 실행하십시오.",
        },
        "empty": {
            "en": "The data directory holds no events, sweeps or quarantined files for this "
            "scope: there is nothing to report.",
            "ko": "이 범위에 해당하는 이벤트, 점검 결과, 격리 파일이 없습니다. 보고할 내용이 "
            "없습니다.",
        },
        "counts": {
            "en": "{hosts} hosts, {events} events, {alerts} detection alerts.",
            "ko": "호스트 {hosts}대, 이벤트 {events}건, 탐지 경보 {alerts}건.",
        },
        "alerts_by_severity": {"en": "Alerts by severity", "ko": "위험도별 경보"},
        "top_rules": {"en": "Rules that raised alerts", "ko": "경보를 발생시킨 규칙"},
        "column_host": {"en": "Host", "ko": "호스트"},
        "column_verdict": {"en": "Sweep verdict", "ko": "점검 판정"},
        "column_score": {"en": "Score", "ko": "점수"},
        "column_events": {"en": "Events", "ko": "이벤트"},
        "column_alerts": {"en": "Alerts", "ko": "경보"},
        "column_first": {"en": "First event", "ko": "최초 이벤트"},
        "column_last": {"en": "Last event", "ko": "마지막 이벤트"},
        "column_severity": {"en": "Severity", "ko": "위험도"},
        "column_check": {"en": "Check", "ko": "점검 항목"},
        "column_finding": {"en": "Finding", "ko": "발견 사항"},
        "column_process": {"en": "Process", "ko": "프로세스"},
        "column_time": {"en": "Time", "ko": "시각"},
        "column_kind": {"en": "Type", "ko": "유형"},
        "column_action": {"en": "Action", "ko": "동작"},
        "column_detail": {"en": "Detail", "ko": "내용"},
        "column_status": {"en": "Status", "ko": "상태"},
        "column_target": {"en": "File or destination", "ko": "파일 또는 목적지"},
        "column_response": {"en": "Response", "ko": "대응 조치"},
        "column_path": {"en": "Path", "ko": "경로"},
        "column_size": {"en": "Size", "ko": "크기"},
        "column_mode": {"en": "Mode", "ko": "권한"},
        "column_owner": {"en": "Owner", "ko": "소유자"},
        "column_modified": {"en": "Modified", "ko": "수정 시각"},
        "column_source": {"en": "Source", "ko": "출처"},
        "column_note": {"en": "Note", "ko": "비고"},
        "column_name": {"en": "Name", "ko": "이름"},
        "column_executable": {"en": "Executable", "ko": "실행 파일"},
        "column_command": {"en": "Command line", "ko": "명령줄"},
        "column_user": {"en": "User", "ko": "사용자"},
        "column_start": {"en": "Started", "ko": "시작"},
        "column_end": {"en": "Ended", "ko": "종료"},
        "column_rule": {"en": "Rule", "ko": "규칙"},
        "column_count": {"en": "Count", "ko": "건수"},
        "taken_at": {"en": "Swept at {time}", "ko": "점검 시각 {time}"},
        "sweep_source_store": {
            "en": "Source: the event store",
            "ko": "출처: 이벤트 저장소",
        },
        "sweep_source_file": {"en": "Source: {path}", "ko": "출처: {path}"},
        "visibility_complete": {"en": "Visibility: complete.", "ko": "가시성: 완전."},
        "visibility_gaps": {
            "en": "Visibility gaps (what this sweep could not see):",
            "ko": "가시성 공백 (이 점검에서 확인하지 못한 영역):",
        },
        "sweep_counts": {
            "en": "Processes examined: {processes}; packet and raw sockets: {sockets}.",
            "ko": "점검한 프로세스 {processes}개, 패킷/raw 소켓 {sockets}개.",
        },
        "sweep_notes": {"en": "Notes:", "ko": "참고:"},
        "no_findings": {"en": "No findings.", "ko": "발견 사항 없음."},
        "findings_language": {
            "en": "Finding titles and details are shown in English, as the sweep stored them.",
            "ko": "발견 사항의 제목과 설명은 점검 당시 저장된 영어 원문입니다.",
        },
        "evidence": {"en": "Evidence", "ko": "증거"},
        "filter_link": {"en": "Socket filter explained:", "ko": "소켓 필터 해석:"},
        "no_alerts": {
            "en": "No detection alerts in this scope.",
            "ko": "이 범위에서 탐지된 경보가 없습니다.",
        },
        "alert_count": {
            "en": "{count} on {hosts}",
            "ko": "{hosts} 에서 {count}건",
        },
        "seen": {"en": "First {first}, last {last}", "ko": "최초 {first}, 최근 {last}"},
        "tactics": {"en": "ATT&CK tactics", "ko": "ATT&CK 전술"},
        "techniques": {"en": "ATT&CK techniques", "ko": "ATT&CK 기법"},
        "description": {"en": "What the rule detects", "ko": "탐지 내용"},
        "triage": {"en": "Triage", "ko": "대응 가이드"},
        "no_triage": {
            "en": "This rule is not in the loaded rule pack, so there is no triage note.",
            "ko": "불러온 규칙 팩에 없는 규칙이라 대응 가이드가 없습니다.",
        },
        "references": {"en": "References", "ko": "참고 자료"},
        "alerts_shown": {
            "en": "The first {shown} of {count} alerts:",
            "ko": "경보 {count}건 중 처음 {shown}건:",
        },
        "no_trees": {
            "en": "No alerted process has events in the store: there is no tree to draw.",
            "ko": "저장소에 이벤트가 남아 있는 경보 프로세스가 없어 그릴 트리가 없습니다.",
        },
        "trees_intro": {
            "en": "Ancestors and descendants of each alerted process. Filled boxes carry "
            "alerts (the colour is the severity); the thick border marks the alerted process.",
            "ko": "경보가 발생한 프로세스의 조상과 자손입니다. 색이 칠해진 상자는 경보가 있는 "
            "프로세스(색은 위험도)이며, 굵은 테두리는 경보 대상 프로세스입니다.",
        },
        "tree_counts": {
            "en": "{drawn} of {total} processes drawn.",
            "ko": "프로세스 {total}개 중 {drawn}개를 표시함.",
        },
        "tree_truncated": {
            "en": "The tree is larger than doorhunt read.",
            "ko": "실제 트리는 읽어 들인 것보다 큽니다.",
        },
        "timeline_intro": {
            "en": "Alerts, sweeps, the events that raised the alerts, and the events of the "
            "processes drawn above, oldest first.",
            "ko": "경보, 점검, 경보를 일으킨 이벤트, 위 트리에 그린 프로세스의 이벤트를 "
            "시간순으로 나열합니다.",
        },
        "timeline_omitted": {
            "en": "{count} more events are not listed (see `doorhunt events`).",
            "ko": "이벤트 {count}건은 생략했습니다 (`doorhunt events` 로 조회).",
        },
        "no_timeline": {"en": "No relevant events.", "ko": "관련 이벤트가 없습니다."},
        "kind_alert": {"en": "alert", "ko": "경보"},
        "kind_sweep": {"en": "sweep", "ko": "점검"},
        "kind_source": {"en": "cause", "ko": "원인 이벤트"},
        "kind_event": {"en": "event", "ko": "이벤트"},
        "no_filters": {
            "en": "No socket filter was seen.",
            "ko": "확인된 소켓 필터가 없습니다.",
        },
        "filter_heading": {
            "en": "{filter_class} filter, {instructions} instructions, {link} link",
            "ko": "{filter_class} 필터, 명령어 {instructions}개, {link} 링크",
        },
        "filter_unreadable": {
            "en": "A filter that could not be explained",
            "ko": "해석할 수 없는 필터",
        },
        "filter_score": {"en": "score {score}/100", "ko": "점수 {score}/100"},
        "suspicious": {"en": "suspicious", "ko": "의심"},
        "not_suspicious": {"en": "not suspicious", "ko": "의심 아님"},
        "accepts": {"en": "What it accepts", "ko": "받아들이는 패킷"},
        "reasons": {"en": "Why", "ko": "근거"},
        "magic": {"en": "Magic values", "ko": "매직 값"},
        "magic_row": {
            "en": "{protocol} payload bytes {start}..{end} = {value}",
            "ko": "{protocol} 페이로드 {start}..{end} 바이트 = {value}",
        },
        "seen_in": {"en": "Seen in", "ko": "발견 위치"},
        "disassembly": {"en": "Disassembly", "ko": "디스어셈블"},
        "bytecode": {
            "en": "Bytecode (hex, struct sock_filter, little-endian)",
            "ko": "바이트코드 (16진수, struct sock_filter, 리틀 엔디언)",
        },
        "no_files": {"en": "No files.", "ko": "파일 없음."},
        "files_intro": {
            "en": "Files named by sweep findings and alerts, and the files the sensor "
            "quarantined (with their SHA-256).",
            "ko": "점검 결과와 경보에 나온 파일, 그리고 센서가 격리한 파일(SHA-256 포함)입니다.",
        },
        "source_quarantine": {"en": "quarantine", "ko": "격리"},
        "source_sweep": {"en": "sweep", "ko": "점검"},
        "source_alert": {"en": "alert", "ko": "경보"},
        "no_notes": {
            "en": "Everything in scope was read.",
            "ko": "범위 안의 자료를 모두 읽었습니다.",
        },
        "method": {
            "en": "doorhunt {version} read the event store, the sweep results and the "
            "quarantine records in {path}. Text taken from the hosts (process names, arguments, "
            "paths) is shown with control and invisible characters escaped, as \\x1b or "
            "\\u202e; JSON output (`doorhunt report --json`) keeps the exact values.",
            "ko": "doorhunt {version} 이(가) {path} 의 이벤트 저장소, 점검 결과, 격리 기록을 "
            "읽어 작성했습니다. 호스트에서 가져온 문자열(프로세스 이름, 인자, 경로)의 제어 "
            "문자와 보이지 않는 문자는 \\x1b, \\u202e 처럼 이스케이프하여 표시합니다. 원래 "
            "값은 JSON 출력(`doorhunt report --json`)에 그대로 남아 있습니다.",
        },
        "footer": {
            "en": "doorhunt {version} · generated {generated}",
            "ko": "doorhunt {version} · {generated} 작성",
        },
        "critical": {"en": "CRITICAL", "ko": "심각"},
        "high": {"en": "HIGH", "ko": "높음"},
        "medium": {"en": "MEDIUM", "ko": "중간"},
        "low": {"en": "LOW", "ko": "낮음"},
        "unknown": {"en": "unknown", "ko": "알 수 없음"},
        "yes": {"en": "yes", "ko": "예"},
        "pid": {"en": "pid {pid}", "ko": "PID {pid}"},
    }
)


class TemplateEngineMissing(DoorhuntError):
    """Jinja2 is not installed."""


def _finalize(value: object) -> object:
    """Every printed value: markup already made safe passes, None prints nothing, and text is
    shown with its invisible characters escaped (autoescaping then escapes the markup)."""
    from markupsafe import Markup  # noqa: PLC0415 (Jinja2 is imported when a report is made)

    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return display_text(value, limit=MAX_CELL * 8)
    return value


def _environment() -> jinja2.Environment:
    try:
        import jinja2  # noqa: PLC0415 (an optional dependency, for reports only)
    except ImportError:
        raise TemplateEngineMissing(
            "the HTML report needs Jinja2: pip install 'doorhunt[report]' (or jinja2>=3.1)"
        ) from None
    return jinja2.Environment(
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _formatter(zone: tzinfo) -> Callable[[object], str]:
    def when(value: object) -> str:
        if not isinstance(value, datetime):
            return ""
        local = value.astimezone(zone)
        return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname() or ''}".strip()

    return when


def _evidence_items(evidence: Mapping[str, object]) -> list[tuple[str, str]]:
    """A finding's evidence as (key, text) rows; the filter bytecode has its own section."""
    rows = []
    for key, value in evidence.items():
        if key in ("filter", "summary", "reasons", "magic"):
            continue
        if isinstance(value, str | int | float | bool) or value is None:
            text = "" if value is None else str(value)
        else:
            text = json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": "))
        rows.append((str(key), display_text(text, limit=MAX_EVIDENCE_VALUE)))
    return rows


def render_html(report: IncidentReport, *, zone: tzinfo = UTC) -> str:
    """The report as one HTML document (UTF-8 text)."""
    from markupsafe import Markup, escape  # noqa: PLC0415

    environment = _environment()
    language = report.language
    when = _formatter(zone)

    def label(code: str, **params: object) -> str:
        return LABELS.text(code, language, **params)

    def multiline(value: object) -> Markup:
        return escape(display_text(value, multiline=True, limit=MAX_CELL * 8))

    def clip(value: object, limit: int = MAX_CELL) -> str:
        return "" if value is None else display_text(value, limit=limit)

    def tree_svg(tree: ProcessTreeView) -> Markup:
        # render_svg escapes every string it writes (process_svg.py).
        return Markup(render_svg(tree.graph, language, title=tree.title))  # noqa: S704

    def kind_label(kind: object) -> str:
        return (
            label(f"kind_{kind}") if kind in ("alert", "sweep", "source", "event") else clip(kind)
        )

    def source_label(source: object) -> str:
        return (
            label(f"source_{source}")
            if source in ("quarantine", "sweep", "alert")
            else clip(source)
        )

    def severity_label(severity: object) -> str:
        if isinstance(severity, str) and severity in ("critical", "high", "medium", "low"):
            return label(severity)
        return label("unknown")

    environment.globals.update(
        {
            "report": report,
            "t": label,
            "when": when,
            "multiline": multiline,
            "clip": clip,
            "tree_svg": tree_svg,
            "severity_label": severity_label,
            "kind_label": kind_label,
            "source_label": source_label,
            "evidence_items": _evidence_items,
            "style": Markup(STYLE),  # noqa: S704 (a constant of this package)
            "csp": CONTENT_SECURITY_POLICY,
            "zone": when(report.generated_at).rsplit(" ", 1)[-1],
            "safe_class": _css_token,
        }
    )
    return environment.from_string(TEMPLATE).render()


def _css_token(value: object) -> str:
    """A class-name suffix from a fixed vocabulary (severities, verdicts), else `unknown`."""
    allowed = {
        "critical",
        "high",
        "medium",
        "low",
        "compromised",
        "suspicious",
        "clean",
        "degraded",
        "alert",
        "sweep",
        "source",
        "event",
    }
    return value if isinstance(value, str) and value in allowed else "unknown"


__all__ = ["CONTENT_SECURITY_POLICY", "LABELS", "TemplateEngineMissing", "render_html"]
