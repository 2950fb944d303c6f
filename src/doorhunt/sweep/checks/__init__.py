"""Every sweep check, in the order they run: plain functions `(snapshot) -> Iterator[Finding]`
listed here, no discovery (capa's FILE_HANDLERS style)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from doorhunt.host.snapshot import HostSnapshot
from doorhunt.sweep.checks.files import check_pid_files, check_temp_executables
from doorhunt.sweep.checks.network import check_bind_shell
from doorhunt.sweep.checks.persistence import check_persistence
from doorhunt.sweep.checks.provenance import (
    check_environment,
    check_executable_provenance,
    check_masquerade,
    check_timestomped_executables,
)
from doorhunt.sweep.checks.sockets import (
    check_ebpf_filters,
    check_orphan_sockets,
    check_socket_filters,
    check_unfiltered_sniffers,
)
from doorhunt.sweep.checks.yara import check_yara
from doorhunt.sweep.findings import Finding

Check = Callable[[HostSnapshot], Iterator[Finding]]

CHECKS: tuple[Check, ...] = (
    check_socket_filters,
    check_ebpf_filters,
    check_unfiltered_sniffers,
    check_orphan_sockets,
    check_executable_provenance,
    check_masquerade,
    check_timestomped_executables,
    check_environment,
    check_pid_files,
    check_temp_executables,
    check_bind_shell,
    check_persistence,
    check_yara,
)

__all__ = ["CHECKS", "Check"]
