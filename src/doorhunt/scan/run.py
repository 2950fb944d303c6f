"""A scan as a plan (what to send to whom) and running it on the kernel's network."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from doorhunt.scan.engine import Progress, ScanConfig, Scanner
from doorhunt.scan.nonce import ListenSpec, NonceSpace, bound_udp_ports
from doorhunt.scan.probes import ProbeKind
from doorhunt.scan.results import HostResult, ScanSummary
from doorhunt.scan.sockets import KernelNetwork
from doorhunt.scan.targets import TargetSet, format_address

MAX_RATE = 1_000_000.0
MAX_RETRIES = 10
MIN_TIMEOUT, MAX_TIMEOUT = 0.05, 120.0


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """Everything a scan will do, decided before a packet leaves."""

    targets: TargetSet
    kinds: tuple[ProbeKind, ...]
    listen: ListenSpec
    rate: float = 1000.0
    retries: int = 1
    timeout: float = 2.0
    jitter: float = 0.1
    seed: int | None = None

    @property
    def first_tries(self) -> int:
        return len(self.targets) * len(self.kinds)

    def to_json(self) -> dict[str, object]:
        return {
            "targets": len(self.targets),
            "ranges": [
                f"{format_address(span.first)}-{format_address(span.last)}"
                for span in self.targets.spans()[:100]
            ],
            "probes": [kind.to_json() for kind in self.kinds],
            "first_tries": self.first_tries,
            "most_packets": self.first_tries * (1 + self.retries),
            "listen": {
                "address": "route source"
                if self.listen.address is None
                else format_address(self.listen.address),
                "answer_to_source": self.listen.answer_to_source,
                "ports": f"{self.listen.first_port}-{self.listen.last_port}",
            },
            "rate": self.rate,
            "retries": self.retries,
            "timeout": self.timeout,
        }


class ScanSession:
    """A plan with its sockets open, in the calling thread's network namespace (needs
    CAP_NET_RAW): opening checks everything that can fail before a packet is sent."""

    def __init__(self, plan: ScanPlan) -> None:
        self.plan = plan
        nonces = NonceSpace(plan.listen, bound_udp_ports())
        self.ports = nonces.ports
        address = plan.listen.address
        self.network = KernelNetwork(
            plan.listen.first_port,
            plan.listen.last_port,
            listen_address=None if plan.listen.answer_to_source else address,
        )

    def __enter__(self) -> ScanSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.network.close()

    def run(
        self,
        on_result: Callable[[HostResult], None],
        on_progress: Callable[[Progress], None] | None = None,
    ) -> ScanSummary:
        plan = self.plan
        config = ScanConfig(
            kinds=plan.kinds,
            ports=self.ports,
            rate=plan.rate,
            retries=plan.retries,
            timeout=plan.timeout,
            jitter=plan.jitter,
            reply_address=plan.listen.address,
            seed=plan.seed,
        )
        scanner = Scanner(config, self.network)
        return scanner.run(plan.targets, len(plan.targets), on_result, on_progress)


def run_scan(
    plan: ScanPlan,
    on_result: Callable[[HostResult], None],
    on_progress: Callable[[Progress], None] | None = None,
) -> ScanSummary:
    """Open, scan, close."""
    with ScanSession(plan) as session:
        return session.run(on_result, on_progress)


__all__ = [
    "MAX_RATE",
    "MAX_RETRIES",
    "MAX_TIMEOUT",
    "MIN_TIMEOUT",
    "ScanPlan",
    "ScanSession",
    "run_scan",
]
