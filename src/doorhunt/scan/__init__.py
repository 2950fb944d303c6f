"""The network magic-packet scanner: probes every BPFDoor trigger shape at a fleet and matches
each ping-back to the one probe it answers (docs/scan.md)."""

from __future__ import annotations

from doorhunt.scan.engine import Progress, ScanConfig, Scanner
from doorhunt.scan.nonce import ListenSpec, parse_listen
from doorhunt.scan.probes import ProbeKind, ProbeOptions, builtin_kinds, filter_kinds
from doorhunt.scan.results import HostResult, Reply, ScanSummary, Status
from doorhunt.scan.run import ScanPlan, ScanSession, run_scan
from doorhunt.scan.targets import TargetError, TargetSet, parse_list, parse_spec

__all__ = [
    "HostResult",
    "ListenSpec",
    "ProbeKind",
    "ProbeOptions",
    "Progress",
    "Reply",
    "ScanConfig",
    "ScanPlan",
    "ScanSession",
    "ScanSummary",
    "Scanner",
    "Status",
    "TargetError",
    "TargetSet",
    "builtin_kinds",
    "filter_kinds",
    "parse_list",
    "parse_listen",
    "parse_spec",
    "run_scan",
]
