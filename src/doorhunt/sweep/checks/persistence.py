"""Autostart lines that start implants (BPFDOOR.md §3: the 2025 incident's sysconfig lines)."""

from __future__ import annotations

from collections.abc import Iterator

from doorhunt.host.persistence import suspicious_reference
from doorhunt.host.snapshot import HostSnapshot
from doorhunt.i18n import Catalog
from doorhunt.sweep.findings import CRON, LD_PRELOAD, RC_SCRIPTS, SYSTEMD_SERVICE, Finding

TECHNIQUES = {
    "sysconfig": RC_SCRIPTS,
    "rc.local": RC_SCRIPTS,
    "systemd": SYSTEMD_SERVICE,
    "cron": CRON,
    "ld.so.preload": LD_PRELOAD,
}

MESSAGES = Catalog(
    {
        "starts": {
            "en": "{kind} starts {target} ({why}) — {path}:{line}",
            "ko": "{kind}이(가) {target}을(를) 실행함 ({why}) — {path}:{line}",
        },
        "guarded": {
            "en": "{kind} line of the `[ -f X ] && X` shape seen in the 2025 incident — {path}:{line}",
            "ko": "2025년 사고에서 본 `[ -f X ] && X` 형태의 {kind} 줄 — {path}:{line}",
        },
        "preload": {
            "en": "/etc/ld.so.preload loads {target} into every program",
            "ko": "/etc/ld.so.preload가 모든 프로그램에 {target}을(를) 적재함",
        },
    }
)


def check_persistence(snapshot: HostSnapshot) -> Iterator[Finding]:
    for entry in snapshot.autostart:
        evidence = {
            "file": entry.path,
            "line": entry.line,
            "text": entry.text,
            "references": list(entry.references),
        }
        technique = (TECHNIQUES[entry.kind],)
        reasons = [(r, why) for r in entry.references if (why := suspicious_reference(r))]
        if entry.kind == "ld.so.preload":
            for target in entry.references or ("?",):
                yield Finding(
                    "persistence",
                    85 if suspicious_reference(target) else 50,
                    MESSAGES("preload", target=target),
                    None,
                    None,
                    evidence,
                    technique,
                    "configuration",
                )
        elif reasons:
            target, why = reasons[0]
            score = 85 if "BPFDoor" in why else 75
            yield Finding(
                "persistence",
                score,
                MESSAGES(
                    "starts",
                    kind=entry.kind,
                    target=target,
                    why=why,
                    path=entry.path,
                    line=entry.line,
                ),
                None,
                None,
                evidence,
                technique,
                "configuration",
            )
        elif entry.guarded_start:
            yield Finding(
                "persistence",
                60,
                MESSAGES("guarded", kind=entry.kind, path=entry.path, line=entry.line),
                None,
                None,
                evidence,
                technique,
                "configuration",
            )


__all__ = ["check_persistence"]
