"""Every string the UI shows, in English and Korean (the front end asks for them once).

A Catalog refuses an entry without both languages at import, and tests/test_i18n.py checks
that both use the same parameters; tests/web check that every key the JavaScript uses is
here. Korean is written for a Korean SOC analyst: KISA's words where they exist (점검, 침해).
"""

from __future__ import annotations

from typing import Final

from doorhunt.i18n import LANGUAGES, Catalog

MESSAGES: Final = Catalog(
    {
        # -- shell and navigation
        "page_overview": {"en": "Overview", "ko": "개요"},
        "page_alerts": {"en": "Alerts", "ko": "경보"},
        "page_hosts": {"en": "Hosts", "ko": "호스트"},
        "page_network": {"en": "Network", "ko": "네트워크"},
        "page_users": {"en": "Users", "ko": "사용자"},
        "page_timeline": {"en": "Timeline", "ko": "타임라인"},
        "page_analyzer": {"en": "Analyzer", "ko": "프로세스 분석"},
        "language": {"en": "Language", "ko": "언어"},
        "skip_to_content": {"en": "Skip to content", "ko": "본문으로 건너뛰기"},
        "shortcuts": {"en": "Keyboard shortcuts", "ko": "단축키"},
        "help_focus_query": {"en": "Focus the query bar", "ko": "검색창으로 이동"},
        "help_rows": {"en": "Move between table rows", "ko": "표의 행 사이 이동"},
        "help_open": {"en": "Open the row (event details)", "ko": "행 열기 (이벤트 상세)"},
        "help_pin": {
            "en": "Pin or unpin the event (timeline)",
            "ko": "이벤트 고정/해제 (타임라인)",
        },
        "help_correlate": {
            "en": "Correlate: events around this one (timeline)",
            "ko": "연관 분석: 이 이벤트 전후의 이벤트 (타임라인)",
        },
        "help_tree": {
            "en": "Analyzer: parent, child, siblings; Enter folds; m shows more children",
            "ko": "프로세스 분석: 부모, 자식, 형제 이동; Enter 접기/펼치기; m 자식 더 보기",
        },
        "help_close": {"en": "Close the details panel", "ko": "상세 패널 닫기"},
        "loading": {"en": "Loading…", "ko": "불러오는 중…"},
        "nothing": {"en": "Nothing to show.", "ko": "표시할 항목이 없습니다."},
        "none": {"en": "(none)", "ko": "(없음)"},
        "close": {"en": "Close", "ko": "닫기"},
        "cancel": {"en": "Cancel", "ko": "취소"},
        "apply": {"en": "Apply", "ko": "적용"},
        "search": {"en": "Search", "ko": "검색"},
        "previous": {"en": "Previous", "ko": "이전"},
        "next": {"en": "Next", "ko": "다음"},
        "copy": {"en": "Copy", "ko": "복사"},
        "copied": {"en": "Copied", "ko": "복사됨"},
        "copy_json": {"en": "Copy the whole document (JSON)", "ko": "문서 전체 복사 (JSON)"},
        # -- common words
        "host": {"en": "Host", "ko": "호스트"},
        "hosts": {"en": "Hosts", "ko": "호스트"},
        "all_hosts": {"en": "All hosts", "ko": "전체 호스트"},
        "user": {"en": "User", "ko": "사용자"},
        "users": {"en": "Users", "ko": "사용자"},
        "time": {"en": "Time (UTC)", "ko": "시각 (UTC)"},
        "action": {"en": "Action", "ko": "동작"},
        "actions": {"en": "Actions", "ko": "조치"},
        "process": {"en": "Process", "ko": "프로세스"},
        "processes": {"en": "Processes", "ko": "프로세스"},
        "executable": {"en": "Executable", "ko": "실행 파일"},
        "command_line": {"en": "Command line", "ko": "명령줄"},
        "args": {"en": "Arguments", "ko": "인자"},
        "detail": {"en": "Detail", "ko": "내용"},
        "event": {"en": "Event", "ko": "이벤트"},
        "events": {"en": "Events", "ko": "이벤트"},
        "fields": {"en": "Fields", "ko": "필드"},
        "score": {"en": "Score", "ko": "점수"},
        "source": {"en": "Source", "ko": "출처"},
        "sources": {"en": "Sources", "ko": "출발지 수"},
        "rule": {"en": "Rule", "ko": "룰"},
        "rules": {"en": "Rules", "ko": "룰"},
        "all_rules": {"en": "All rules", "ko": "전체 룰"},
        "alerts": {"en": "Alerts", "ko": "경보"},
        "alerts_count": {"en": "{count} alerts", "ko": "경보 {count}건"},
        "severity": {"en": "Severity", "ko": "위험도"},
        "status": {"en": "Status", "ko": "상태"},
        "verdict": {"en": "Verdict", "ko": "판정"},
        "findings": {"en": "Findings", "ko": "탐지 항목"},
        "finding": {"en": "Finding", "ko": "탐지 항목"},
        "newest": {"en": "Newest", "ko": "최근 발생"},
        "first_seen": {"en": "First seen", "ko": "최초 확인"},
        "last_seen": {"en": "Last seen", "ko": "최근 확인"},
        "seen": {"en": "Seen", "ko": "확인 시각"},
        "starts": {"en": "Starts", "ko": "실행 횟수"},
        "started": {"en": "Started", "ko": "시작"},
        "ended": {"en": "Ended", "ko": "종료"},
        "still_running": {
            "en": "(running, or its end was not seen)",
            "ko": "(실행 중이거나 종료가 기록되지 않음)",
        },
        "port": {"en": "Port", "ko": "포트"},
        "connections": {"en": "Connections", "ko": "연결 수"},
        "destination": {"en": "Destination", "ko": "목적지"},
        "category": {"en": "Category", "ko": "분류"},
        "categories": {"en": "event.category", "ko": "event.category (분류)"},
        "offset": {"en": "Offset", "ko": "시간차"},
        "seconds": {"en": "seconds", "ko": "초"},
        "note": {"en": "Note", "ko": "메모"},
        "notes": {"en": "Notes", "ko": "메모"},
        "add_note": {"en": "Add note", "ko": "메모 추가"},
        "investigation_note": {
            "en": "A note on the investigation",
            "ko": "조사 전체에 대한 메모",
        },
        "timeline": {"en": "Timeline", "ko": "타임라인"},
        "analyzer": {"en": "Analyzer", "ko": "프로세스 분석"},
        "open_timeline": {"en": "Open in the timeline", "ko": "타임라인에서 보기"},
        "open_analyzer": {"en": "Open the process tree", "ko": "프로세스 트리 보기"},
        "histogram": {"en": "Events over time", "ko": "시간대별 이벤트"},
        "no_events": {"en": "No events.", "ko": "이벤트가 없습니다."},
        # -- time
        "since": {"en": "From", "ko": "시작"},
        "until": {"en": "To", "ko": "끝"},
        "since_placeholder": {"en": "2025-05-01T10:00Z or 24h", "ko": "2025-05-01T10:00Z 또는 24h"},
        "until_placeholder": {"en": "(now)", "ko": "(현재)"},
        "last_1h": {"en": "Last hour", "ko": "최근 1시간"},
        "last_24h": {"en": "Last 24 h", "ko": "최근 24시간"},
        "last_7d": {"en": "Last 7 days", "ko": "최근 7일"},
        "all_time": {"en": "All time", "ko": "전체 기간"},
        # -- severities, statuses, verdicts, categories
        "severity_low": {"en": "low", "ko": "낮음"},
        "severity_medium": {"en": "medium", "ko": "보통"},
        "severity_high": {"en": "high", "ko": "높음"},
        "severity_critical": {"en": "critical", "ko": "심각"},
        "status_open": {"en": "open", "ko": "미처리"},
        "status_acknowledged": {"en": "acknowledged", "ko": "확인"},
        "status_closed": {"en": "closed", "ko": "종결"},
        "action_acknowledged": {"en": "Acknowledge", "ko": "확인 처리"},
        "action_closed": {"en": "Close", "ko": "종결 처리"},
        "action_open": {"en": "Reopen", "ko": "다시 열기"},
        "change_status": {"en": "Mark the alert {status}", "ko": "경보를 '{status}' 상태로 변경"},
        "note_required": {
            "en": "Note (required: why is it closed?)",
            "ko": "메모 (필수: 종결 사유를 적어 주십시오)",
        },
        "note_optional": {"en": "Note (optional)", "ko": "메모 (선택)"},
        "verdict_clean": {"en": "clean", "ko": "정상"},
        "verdict_suspicious": {"en": "suspicious", "ko": "의심"},
        "verdict_compromised": {"en": "compromised", "ko": "침해"},
        "verdict_degraded": {"en": "clean, with gaps", "ko": "정상 (점검 제한)"},
        "verdict_unknown": {"en": "unknown", "ko": "알 수 없음"},
        "verdict_none": {"en": "not swept", "ko": "점검 기록 없음"},
        "category_process": {"en": "process", "ko": "프로세스"},
        "category_file": {"en": "file", "ko": "파일"},
        "category_network": {"en": "network", "ko": "네트워크"},
        "category_host": {"en": "host", "ko": "호스트"},
        "category_authentication": {"en": "authentication", "ko": "인증"},
        "category_iam": {"en": "iam", "ko": "계정 관리"},
        "category_session": {"en": "session", "ko": "세션"},
        "category_driver": {"en": "driver", "ko": "드라이버"},
        "category_configuration": {"en": "configuration", "ko": "설정"},
        "category_intrusion_detection": {"en": "intrusion detection", "ko": "침입 탐지"},
        "category_malware": {"en": "malware", "ko": "악성코드"},
        "category_package": {"en": "package", "ko": "패키지"},
        "category_other": {"en": "other", "ko": "기타"},
        # -- overview
        "compromised_hosts": {"en": "Compromised hosts", "ko": "침해 호스트"},
        "suspicious_count": {"en": "{count} suspicious", "ko": "의심 {count}대"},
        "open_alerts": {"en": "Open alerts", "ko": "미처리 경보"},
        "events_stored": {"en": "Events stored", "ko": "저장된 이벤트"},
        "latest_sweeps": {"en": "Latest sweep of each host", "ko": "호스트별 최근 점검 결과"},
        "swept_at": {"en": "Swept at (UTC)", "ko": "점검 시각 (UTC)"},
        "no_sweeps": {
            "en": "No sweeps stored yet: run `doorhunt sweep` on the hosts.",
            "ko": "저장된 점검 결과가 없습니다. 각 호스트에서 `doorhunt sweep`을 실행하십시오.",
        },
        "unswept": {"en": "Never swept: {hosts}", "ko": "점검한 적 없는 호스트: {hosts}"},
        "open_alerts_by_severity": {"en": "Open alerts by severity", "ko": "위험도별 미처리 경보"},
        "open_alerts_by_rule": {"en": "Open alerts by rule", "ko": "룰별 미처리 경보"},
        "no_open_alerts": {"en": "No open alerts.", "ko": "미처리 경보가 없습니다."},
        "event_volume": {"en": "Event volume", "ko": "이벤트 발생량"},
        # -- alerts
        "group_by": {"en": "Group by", "ko": "묶어 보기"},
        "group_none": {"en": "nothing", "ko": "묶지 않음"},
        "group_rule": {"en": "rule", "ko": "룰"},
        "group_host": {"en": "host", "ko": "호스트"},
        "groups": {"en": "Groups", "ko": "그룹"},
        "alerts_shown": {"en": "{shown} of {total} alerts", "ko": "경보 {total}건 중 {shown}건"},
        # -- hosts
        "no_hosts": {
            "en": "The store knows no hosts yet.",
            "ko": "저장소에 호스트가 아직 없습니다.",
        },
        "sweep_report": {"en": "Latest sweep", "ko": "최근 점검 결과"},
        "visibility_gaps": {
            "en": "What the sweep could not see",
            "ko": "점검 시 확인하지 못한 부분",
        },
        "judged_processes": {"en": "Processes the sweep judged", "ko": "점검에서 판정한 프로세스"},
        "packet_sockets": {
            "en": "Packet and raw sockets, with their filters explained",
            "ko": "패킷/RAW 소켓과 필터 해설",
        },
        "socket": {"en": "Socket", "ko": "소켓"},
        "holder": {"en": "Held by", "ko": "보유 프로세스"},
        "filter": {"en": "Filter (doorhunt bpf)", "ko": "필터 (doorhunt bpf)"},
        "filter_class": {"en": "Filter class", "ko": "필터 유형"},
        "instructions": {"en": "Instructions", "ko": "명령어 수"},
        "suspicious_filter": {"en": "suspicious filter", "ko": "의심스러운 필터"},
        "no_filter": {"en": "no filter known", "ko": "확인된 필터 없음"},
        "disassembly": {"en": "Disassembly", "ko": "디스어셈블"},
        "probes": {
            "en": "Packets this filter accepts (probes)",
            "ko": "이 필터가 통과시키는 패킷 (탐침)",
        },
        "no_sockets": {
            "en": "No packet or raw sockets recorded.",
            "ko": "기록된 패킷/RAW 소켓이 없습니다.",
        },
        "socket_source_sweep_result": {"en": "sweep result", "ko": "점검 결과"},
        "socket_source_sweep_finding": {"en": "sweep finding", "ko": "점검 탐지 항목"},
        "socket_source_sensor": {"en": "sensor", "ko": "센서"},
        "sweep_findings": {"en": "Sweep findings", "ko": "점검 탐지 항목"},
        "no_findings": {"en": "No findings.", "ko": "탐지 항목이 없습니다."},
        "uncommon_processes": {"en": "Uncommon processes", "ko": "드문 프로세스"},
        "uncommon_note": {
            "en": "Executables that at most one other host runs: an implant that borrows a "
            "daemon's name still runs from its own path.",
            "ko": "다른 호스트에서는 거의 실행되지 않는 실행 파일입니다. 데몬 이름을 흉내 낸 "
            "악성코드도 실행 경로는 다릅니다.",
        },
        "recent_events": {"en": "Recent events", "ko": "최근 이벤트"},
        # -- network and users
        "destinations": {"en": "Connections by destination", "ko": "목적지별 연결"},
        "listeners": {"en": "Listeners (accepted connections)", "ko": "수신 대기 (수락된 연결)"},
        "bind_shell_note": {
            "en": "Ports 42391-43390 are BPFDoor's bind-shell range: listed first and in red.",
            "ko": "42391-43390 포트는 BPFDoor 바인드 셸이 쓰는 범위로, "
            "맨 위에 빨간색으로 표시합니다.",
        },
        "raw_packet_sockets": {"en": "Raw and packet sockets", "ko": "RAW/패킷 소켓"},
        "firewall_changes": {"en": "Firewall changes", "ko": "방화벽 변경"},
        "no_firewall_changes": {
            "en": "No firewall changes recorded.",
            "ko": "기록된 방화벽 변경이 없습니다.",
        },
        "sessions": {"en": "Sessions and logins", "ko": "세션 및 로그인"},
        "privilege_changes": {"en": "Privilege changes", "ko": "권한 변경"},
        # -- timeline
        "query": {"en": "Query", "ko": "검색어"},
        "query_placeholder": {
            "en": 'process.name:bash -user.name:root   or EQL: process where process.name == "bash"',
            "ko": 'process.name:bash -user.name:root   또는 EQL: process where process.name == "bash"',
        },
        "query_help": {
            "en": "field:value matches exactly (* is a wildcard), -field:value excludes, a word "
            "searches names, command lines, paths and rules; a query that starts with "
            "`<category> where` or `sequence` is EQL. Press / to type a query.",
            "ko": "field:value는 값이 정확히 같은 것(*는 와일드카드), -field:value는 제외, 단어만 "
            "쓰면 프로세스 이름·명령줄·경로·룰에서 찾습니다. `<분류> where` 나 `sequence`로 "
            "시작하면 EQL입니다. / 키로 검색창에 바로 입력할 수 있습니다.",
        },
        "query_all": {"en": "all events", "ko": "전체 이벤트"},
        "query_terms": {"en": "field:value", "ko": "field:value"},
        "query_eql": {"en": "EQL", "ko": "EQL"},
        "events_found": {"en": "{count} events", "ko": "이벤트 {count}건"},
        "rows_shown": {"en": "{from}–{to}", "ko": "{from}–{to}"},
        "columns": {"en": "Columns", "ko": "열 선택"},
        "other_field": {"en": "Other field", "ko": "다른 필드"},
        "other_fields": {"en": "Other fields (comma-separated)", "ko": "다른 필드 (쉼표로 구분)"},
        "other_fields_note": {
            "en": "Fields outside the list are read from each row's document: slower.",
            "ko": "목록에 없는 필드는 각 행의 원본 문서에서 읽으므로 느립니다.",
        },
        "tab_events": {"en": "Events", "ko": "이벤트"},
        "tab_pinned": {"en": "Pinned", "ko": "고정됨"},
        "tab_notes": {"en": "Notes", "ko": "메모"},
        "pin": {"en": "Pin", "ko": "고정"},
        "unpin": {"en": "Unpin", "ko": "고정 해제"},
        "pinned": {"en": "Pinned events", "ko": "고정한 이벤트"},
        "no_pins": {"en": "No pinned events.", "ko": "고정한 이벤트가 없습니다."},
        "no_notes": {"en": "No notes yet.", "ko": "아직 메모가 없습니다."},
        "note_on_event": {"en": "on an event", "ko": "이벤트 메모"},
        "event_gone": {
            "en": "(no longer in the store)",
            "ko": "(저장소에 더 이상 없음)",
        },
        "correlate": {"en": "Correlate", "ko": "연관 분석"},
        "correlation": {
            "en": "Correlation: events around the selected one",
            "ko": "연관 분석: 선택한 이벤트 전후의 이벤트",
        },
        "anchor": {"en": "Selected event", "ko": "기준 이벤트"},
        "filter_in": {"en": "Filter for this value", "ko": "이 값으로 필터"},
        "filter_out": {"en": "Filter out this value", "ko": "이 값 제외"},
        # -- analyzer
        "process_tree": {"en": "Process tree", "ko": "프로세스 트리"},
        "show_tree": {"en": "Show the tree", "ko": "트리 보기"},
        "analyzer_help": {
            "en": "Open a process from an alert, an event or a host page, or give its "
            "process.entity_id.",
            "ko": "경보, 이벤트, 호스트 화면에서 프로세스를 열거나 process.entity_id를 "
            "입력하십시오.",
        },
        "analyzer_keys": {
            "en": "Click or use the arrow keys to move; double-click or Enter folds a subtree; "
            "m or the dotted node shows more children; + - 0 zoom.",
            "ko": "클릭하거나 화살표 키로 이동합니다. 더블클릭 또는 Enter로 하위 트리를 "
            "접고 펼치며, m 키나 점선 노드로 자식을 더 봅니다. + - 0 키로 확대/축소합니다.",
        },
        "tree_at": {"en": "Tree at", "ko": "기준 시각"},
        "whole_tree": {"en": "Whole tree", "ko": "전체 트리"},
        "tree_summary": {
            "en": "{nodes} processes as of {at}",
            "ko": "{at} 기준 프로세스 {nodes}개",
        },
        "tree_summary_whole": {
            "en": "{nodes} processes over the tree's whole life",
            "ko": "트리 전체 기간의 프로세스 {nodes}개",
        },
        "tree_truncated": {
            "en": "Only the nearest {count} processes are shown: open a descendant to see its "
            "part of the tree.",
            "ko": "가까운 프로세스 {count}개만 표시했습니다. 하위 프로세스를 열어 해당 부분을 "
            "보십시오.",
        },
        "more_children": {"en": "+{count} more", "ko": "+{count}개 더"},
        "select_node": {"en": "Select a process.", "ko": "프로세스를 선택하십시오."},
        "events_by_category": {"en": "Events by category", "ko": "분류별 이벤트"},
        "focus_here": {"en": "Make this the focus", "ko": "이 프로세스 기준으로 보기"},
    }
)


def catalog_json(catalog: Catalog) -> dict[str, dict[str, str]]:
    """{language: {key: text}}: what the front end's t() reads."""
    return {
        language: {code: templates[language] for code, templates in catalog.entries.items()}
        for language in LANGUAGES
    }


__all__ = ["MESSAGES", "catalog_json"]
