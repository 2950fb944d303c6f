"""What a scan finds, per target and overall, and its JSON and ECS forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from doorhunt.ecs import new_event
from doorhunt.i18n import Catalog, Message
from doorhunt.scan.targets import format_address

MESSAGES = Catalog(
    {
        "responded": {"en": "responded", "ko": "응답함"},
        "other-address": {"en": "reply from another address", "ko": "다른 주소에서 응답"},
        "no-response": {"en": "no response", "ko": "응답 없음"},
        "error": {"en": "error", "ko": "오류"},
        "no_route": {
            "en": "no route to the target: {reason}",
            "ko": "대상으로 가는 경로 없음: {reason}",
        },
        "refused_route": {
            "en": "not scanned: the kernel routes it as a {kind} address",
            "ko": "스캔하지 않음: 커널이 {kind} 주소로 라우팅함",
        },
        "no_source": {
            "en": "no source address towards the target",
            "ko": "대상으로 보낼 출발지 주소가 없음",
        },
        "send_failed": {"en": "sending failed: {reason}", "ko": "전송 실패: {reason}"},
        "no_probe": {
            "en": "no probe applies to this address (the filter tests addresses)",
            "ko": "이 주소에 맞는 탐지 패킷이 없음 (필터가 주소를 검사함)",
        },
        "message_responded": {
            "en": "{address} answered a BPFDoor magic packet ({what}): an implant is listening",
            "ko": "{address}이(가) BPFDoor 매직 패킷에 응답함 ({what}): 임플란트가 대기 중",
        },
        "message_other": {
            "en": "a ping-back for {address} came from another address ({sources})",
            "ko": "{address}에 보낸 탐지에 대한 응답이 다른 주소({sources})에서 옴",
        },
        "message_silent": {
            "en": "{address} did not answer any magic packet",
            "ko": "{address}은(는) 어떤 매직 패킷에도 응답하지 않음",
        },
        "message_error": {"en": "{address}: {error}", "ko": "{address}: {error}"},
        "message_summary": {
            "en": "scanned {scanned} of {targets} addresses with {probes} probes: "
            "{responded} responded, {other} answered from another address, "
            "{silent} silent, {errors} errors",
            "ko": "주소 {targets}개 중 {scanned}개를 탐지 패킷 {probes}개로 스캔: "
            "응답 {responded}, 다른 주소에서 응답 {other}, 무응답 {silent}, 오류 {errors}",
        },
    }
)


class Status(StrEnum):
    RESPONDED = "responded"  # a ping-back from the target itself
    OTHER_ADDRESS = "other-address"  # a ping-back carrying its nonce, from another address
    NO_RESPONSE = "no-response"
    ERROR = "error"  # nothing could be sent


@dataclass(frozen=True, slots=True)
class Reply:
    """A ping-back matched by its nonce to one try of one probe."""

    protocol: str
    magic: str  # hex
    source: int  # where the datagram came from
    port: int  # the reply port: the nonce
    latency: float  # seconds from the try it answers
    attempt: int  # 1 for the first try
    late: bool = False  # arrived after the try's wait had ended

    def to_json(self) -> dict[str, object]:
        return {
            "protocol": self.protocol,
            "magic": self.magic,
            "source": format_address(self.source),
            "port": self.port,
            "latency_ms": round(self.latency * 1000, 3),
            "attempt": self.attempt,
            "late": self.late,
        }


@dataclass(frozen=True, slots=True)
class HostResult:
    """One target's outcome."""

    address: int
    status: Status
    replies: tuple[Reply, ...] = ()  # from the target itself
    others: tuple[Reply, ...] = ()  # carrying one of its nonces, from another address
    probes: int = 0  # packets sent to it (every try, every kind)
    error: Message | None = None
    error_code: str | None = None
    send_errors: tuple[tuple[str, int], ...] = ()  # (reason, count) of sends that failed

    @property
    def text_address(self) -> str:
        return format_address(self.address)

    def message(self, language: str = "en") -> str:
        address = self.text_address
        if self.status is Status.RESPONDED:
            what = ", ".join(f"{r.protocol} {r.magic}" for r in self.replies)
            return MESSAGES.text("message_responded", language, address=address, what=what)
        if self.status is Status.OTHER_ADDRESS:
            sources = ", ".join(dict.fromkeys(format_address(r.source) for r in self.others))
            return MESSAGES.text("message_other", language, address=address, sources=sources)
        if self.status is Status.ERROR and self.error is not None:
            return MESSAGES.text(
                "message_error", language, address=address, error=self.error.render(language)
            )
        return MESSAGES.text("message_silent", language, address=address)

    def to_json(self, language: str = "en") -> dict[str, object]:
        document: dict[str, object] = {
            "address": self.text_address,
            "status": self.status.value,
            "probes": self.probes,
            "replies": [reply.to_json() for reply in self.replies],
            "other_replies": [reply.to_json() for reply in self.others],
        }
        if self.error is not None:
            document["error"] = {"code": self.error_code, "message": self.error.render(language)}
        if self.send_errors:
            document["send_errors"] = [
                {"reason": reason, "count": count} for reason, count in self.send_errors
            ]
        return document

    def ecs(self, host: dict[str, object], language: str = "en") -> dict[str, object]:
        """The result as an ECS document: an alert when the target itself answered."""
        address = self.text_address
        replies = [*self.replies, *self.others]
        fields: dict[str, object] = {
            "message": self.message(language),
            "host": host,
            "destination": {"ip": address, "address": address},
            "network": {"type": "ipv4"},
            "related": {
                "ip": list(dict.fromkeys([address, *(format_address(r.source) for r in replies)]))
            },
            "doorhunt": {
                "scan": {
                    "status": self.status.value,
                    "probes": self.probes,
                    "replies": [
                        {**reply.to_json(), "from_target": reply in self.replies}
                        for reply in replies
                    ],
                }
            },
        }
        transports = sorted({_transport(r.protocol) for r in replies})
        if transports:
            fields["network"] = {"type": "ipv4", "transport": transports}
        event = {"module": "doorhunt", "dataset": "doorhunt.scan"}
        if self.status is Status.RESPONDED:
            document = new_event(
                kind="alert",
                category=["intrusion_detection", "network"],
                type=["info"],
                action="magic_packet_reply",
                event={**event, "outcome": "success", "severity": 90, "risk_score": 90.0},
            )
            document.update(fields)
            return document
        if self.status is Status.ERROR:
            fields["error"] = {
                "code": self.error_code or "error",
                "message": self.error.render(language) if self.error else "error",
            }
        action = {
            Status.OTHER_ADDRESS: "magic_packet_reply_other_address",
            Status.ERROR: "scan_error",
            Status.NO_RESPONSE: "scan_no_response",
        }[self.status]
        outcome = "failure" if self.status is Status.ERROR else "unknown"
        document = new_event(
            kind="event",
            category=["network"],
            type=["info"],
            action=action,
            event={**event, "outcome": outcome},
        )
        document.update(fields)
        return document


def _transport(protocol: str) -> str:
    return "tcp" if protocol == "tcp-connect" else protocol


@dataclass(frozen=True, slots=True)
class ScanSummary:
    """Counts over the whole scan."""

    targets: int  # addresses in the target set
    scanned: int  # addresses with a final result
    probes_sent: int
    responded: int
    other_address: int
    silent: int
    errors: int
    junk: int  # datagrams at the listener that are not a ping-back
    unmatched: int  # ping-backs whose nonce names no probe (wrong, stale or forged)
    duplicates: int  # second and later ping-backs for the same probe
    late: int  # ping-backs that came after their try's wait
    elapsed: float
    interrupted: bool
    nonces: int  # reply ports in use
    rate: float  # asked for, probes per second
    nonce_rate: float  # the most the nonces allow: nonces / timeout

    @property
    def send_rate(self) -> float:
        return self.probes_sent / self.elapsed if self.elapsed > 0 else 0.0

    def message(self, language: str = "en") -> str:
        return MESSAGES.text(
            "message_summary",
            language,
            scanned=f"{self.scanned:,}",
            targets=f"{self.targets:,}",
            probes=f"{self.probes_sent:,}",
            responded=self.responded,
            other=self.other_address,
            silent=f"{self.silent:,}",
            errors=f"{self.errors:,}",
        )

    def to_json(self) -> dict[str, object]:
        return {
            "targets": self.targets,
            "scanned": self.scanned,
            "probes_sent": self.probes_sent,
            "responded": self.responded,
            "other_address": self.other_address,
            "silent": self.silent,
            "errors": self.errors,
            "junk": self.junk,
            "unmatched": self.unmatched,
            "duplicates": self.duplicates,
            "late": self.late,
            "elapsed_s": round(self.elapsed, 3),
            "probes_per_second": round(self.send_rate, 1),
            "rate": self.rate,
            "nonces": self.nonces,
            "nonce_rate": round(self.nonce_rate, 1),
            "interrupted": self.interrupted,
        }

    def ecs(
        self, host: dict[str, object], language: str = "en", *, started: datetime | None = None
    ) -> dict[str, object]:
        return new_event(
            kind="event",
            category=["network"],
            type=["info"],
            action="scan_summary",
            timestamp=started,
            event={"module": "doorhunt", "dataset": "doorhunt.scan", "outcome": "success"},
            message=self.message(language),
            host=host,
            doorhunt={"scan": {"summary": self.to_json()}},
        )


__all__ = ["MESSAGES", "HostResult", "Reply", "ScanSummary", "Status"]
