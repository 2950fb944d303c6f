"""Bind-shell traces: listeners in BPFDoor's port range and the iptables pair that redirects to
them (BPFDOOR.md §1 step 7)."""

from __future__ import annotations

from collections.abc import Iterator

from doorhunt.host.firewall import redirects_into
from doorhunt.host.snapshot import HostSnapshot
from doorhunt.i18n import Catalog
from doorhunt.sweep.findings import FIREWALL, NON_STANDARD_PORT, Finding

BIND_SHELL_PORTS = (42391, 43390)  # the first free port of 42391..43390 is taken (§1)

MESSAGES = Catalog(
    {
        "listener": {
            "en": "TCP listener on {address}:{port}, inside BPFDoor's bind-shell range 42391-43390",
            "ko": "BPFDoor 바인드 셸 포트 범위(42391-43390) 안의 TCP 대기 포트 {address}:{port}",
        },
        "redirect": {
            "en": "firewall redirects{source} port {port} into {target}, BPFDoor's bind-shell range",
            "ko": "방화벽이{source} 포트 {port}을(를) BPFDoor 바인드 셸 범위 {target}(으)로 돌림",
        },
        "paired_accept": {
            "en": "paired with an ACCEPT for the same source {source}, as the implant inserts them",
            "ko": "임플란트가 넣는 것처럼 같은 출발지 {source}에 대한 ACCEPT 규칙과 짝을 이룸",
        },
        "from": {"en": " traffic from {source}", "ko": " {source}에서 오는 트래픽의"},
    }
)


def check_bind_shell(snapshot: HostSnapshot) -> Iterator[Finding]:
    low, high = BIND_SHELL_PORTS
    for group in snapshot.sockets:
        for listener in group.listeners:
            if not low <= listener.port <= high:
                continue
            holders = [
                snapshot.processes[h.pid]
                for h in snapshot.holders(listener.inode)
                if h.pid in snapshot.processes
            ]
            evidence = {
                "netns": listener.netns,
                "inode": listener.inode,
                "address": listener.address,
                "port": listener.port,
                "holders": [p.pid for p in holders],
            }
            for process in holders or [None]:  # type: ignore[list-item]
                yield Finding(
                    "bind_shell",
                    65,
                    MESSAGES("listener", address=listener.address, port=listener.port),
                    None,
                    process,
                    evidence,
                    (NON_STANDARD_PORT,),
                    "network",
                )
    for rule in redirects_into(snapshot.firewall, low, high):
        accepts = [
            r
            for r in snapshot.firewall
            if r.netns == rule.netns
            and r.target == "ACCEPT"
            and rule.source
            and r.source == rule.source
            and r.chain == "INPUT"
        ]
        assert rule.redirect_ports is not None
        target = "-".join(str(p) for p in dict.fromkeys(rule.redirect_ports))
        source = MESSAGES("from", source=rule.source) if rule.source else ""
        evidence = {
            "netns": rule.netns,
            "table": rule.table,
            "chain": rule.chain,
            "rule": rule.text,
            "paired": [r.text for r in accepts],
        }
        yield Finding(
            "bind_shell",
            95 if accepts else 85,
            MESSAGES("redirect", source=source, port=rule.destination_port or "*", target=target),
            MESSAGES("paired_accept", source=rule.source) if accepts else None,
            None,
            evidence,
            (FIREWALL,),
            "network",
        )


__all__ = ["BIND_SHELL_PORTS", "check_bind_shell"]
