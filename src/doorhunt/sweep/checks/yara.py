"""YARA hits on process executables and memory (doorhunt's rules: doorhunt.sample.yara)."""

from __future__ import annotations

from collections.abc import Iterator

from doorhunt.host.snapshot import HostSnapshot
from doorhunt.i18n import Catalog
from doorhunt.sweep.findings import HIDE_ARTIFACTS, SOCKET_FILTER, Finding

MESSAGES = Catalog(
    {
        "hit": {
            "en": "YARA rule {rule} matches the process's {where}: {description}",
            "ko": "YARA 규칙 {rule}이(가) 프로세스의 {where}에서 일치함: {description}",
        },
        "exe": {"en": "executable", "ko": "실행 파일"},
        "memory": {"en": "memory", "ko": "메모리"},
    }
)


def check_yara(snapshot: HostSnapshot) -> Iterator[Finding]:
    for pid, report in snapshot.yara.items():
        process = snapshot.processes.get(pid)
        if process is None:
            continue
        for hit in report.hits:
            where = MESSAGES("memory" if hit.source == "memory" else "exe")
            techniques = (SOCKET_FILTER,) if "filter" in hit.rule else (HIDE_ARTIFACTS,)
            yield Finding(
                "yara",
                hit.severity or 70,
                MESSAGES("hit", rule=hit.rule, where=where, description=hit.description),
                None,
                process,
                {"yara": hit.to_json()},
                techniques,
            )


__all__ = ["check_yara"]
