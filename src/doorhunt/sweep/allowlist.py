"""Legitimate holders of filtered packet sockets (BPFDOOR.md §5).

A holder is allowed only when all of these hold: its real executable (not what argv claims)
is one of the expected paths, an installed package owns that file, the filter's class is one
the tool uses, and, where the tool always binds to one interface, the socket is bound. A copy
of dhclient in /tmp matches none of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from doorhunt.bpf.classify import FilterClass
from doorhunt.host.packages import PackageIndex
from doorhunt.host.procfs import Process

# Capture tools run the filter a person typed: any class, a BPFDoor magic included (an
# analyst hunting for it), so the sweep reports it at low weight instead of dropping it.
_ANY = frozenset(FilterClass)
_BENIGN = frozenset(
    {
        FilterClass.CAPTURE_ALL,
        FilterClass.REJECT_ALL,
        FilterClass.HEADER_FILTER,
        FilterClass.DHCP,
        FilterClass.ARP,
        FilterClass.EAPOL,
        FilterClass.LLDP,
        FilterClass.OTHER,
    }
)


@dataclass(frozen=True, slots=True)
class ExpectedHolder:
    tool: str
    executables: tuple[str, ...]
    classes: frozenset[FilterClass]
    bound: bool  # always bound to one interface


EXPECTED_HOLDERS: tuple[ExpectedHolder, ...] = (
    ExpectedHolder(
        "ISC dhclient",
        ("/usr/sbin/dhclient", "/sbin/dhclient"),
        frozenset({FilterClass.DHCP}),
        True,
    ),
    ExpectedHolder(
        "dhcpcd",
        ("/usr/sbin/dhcpcd", "/sbin/dhcpcd"),
        frozenset({FilterClass.DHCP, FilterClass.ARP}),
        True,
    ),
    ExpectedHolder("ISC dhcpd", ("/usr/sbin/dhcpd",), frozenset({FilterClass.DHCP}), False),
    ExpectedHolder(
        "busybox udhcpc", ("/usr/bin/busybox", "/bin/busybox"), frozenset({FilterClass.DHCP}), True
    ),
    ExpectedHolder(
        "systemd-networkd",
        ("/usr/lib/systemd/systemd-networkd", "/lib/systemd/systemd-networkd"),
        frozenset({FilterClass.DHCP, FilterClass.LLDP, FilterClass.ARP}),
        True,
    ),
    ExpectedHolder(
        "NetworkManager",
        ("/usr/sbin/NetworkManager",),
        frozenset({FilterClass.DHCP, FilterClass.ARP}),
        True,
    ),
    ExpectedHolder(
        "wpa_supplicant",
        ("/usr/sbin/wpa_supplicant", "/sbin/wpa_supplicant"),
        frozenset({FilterClass.EAPOL, FilterClass.HEADER_FILTER}),
        True,
    ),
    ExpectedHolder(
        "hostapd",
        ("/usr/sbin/hostapd",),
        frozenset({FilterClass.EAPOL, FilterClass.HEADER_FILTER}),
        True,
    ),
    ExpectedHolder(
        "lldpd",
        ("/usr/sbin/lldpd",),
        frozenset({FilterClass.LLDP, FilterClass.HEADER_FILTER, FilterClass.OTHER}),
        False,
    ),
    ExpectedHolder("tcpdump", ("/usr/bin/tcpdump", "/usr/sbin/tcpdump"), _ANY, False),
    ExpectedHolder("dumpcap", ("/usr/bin/dumpcap",), _ANY, False),
    ExpectedHolder("arpwatch", ("/usr/sbin/arpwatch",), _BENIGN, False),
    ExpectedHolder("packetbeat", ("/usr/share/packetbeat/bin/packetbeat",), _ANY, False),
    ExpectedHolder("suricata", ("/usr/bin/suricata", "/usr/sbin/suricata"), _ANY, False),
    ExpectedHolder("zeek", ("/opt/zeek/bin/zeek", "/usr/bin/zeek"), _ANY, False),
    ExpectedHolder("keepalived", ("/usr/sbin/keepalived",), _BENIGN, False),
    ExpectedHolder("dockerd", ("/usr/bin/dockerd", "/usr/sbin/dockerd"), _BENIGN, False),
    # tailscaled compares a UDP payload magic of its own (disco), so payload-magic is expected.
    ExpectedHolder(
        "tailscaled",
        ("/usr/sbin/tailscaled",),
        frozenset({FilterClass.PAYLOAD_MAGIC, *_BENIGN}),
        False,
    ),
)


@dataclass(frozen=True, slots=True)
class Allowance:
    holder: ExpectedHolder
    package: str


def allowed_holder(
    process: Process, filter_class: FilterClass, bound: bool, packages: PackageIndex
) -> Allowance | None:
    """The expected tool this process is, with the package that owns it, or None."""
    if process.exe_deleted or process.executable is None:
        return None
    path = process.executable
    for holder in EXPECTED_HOLDERS:
        if path not in holder.executables or filter_class not in holder.classes:
            continue
        if holder.bound and not bound:
            continue
        package = packages.owner(path)
        if package is None:
            return None
        return Allowance(holder, package)
    return None


__all__ = ["EXPECTED_HOLDERS", "Allowance", "ExpectedHolder", "allowed_holder"]
