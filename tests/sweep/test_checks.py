"""Every check on in-memory hosts: what it must find, and what it must leave alone."""

from __future__ import annotations

from doorhunt.bpf.examples import EXAMPLES
from doorhunt.host.files import FileLock, PidFile, TempExecutable
from doorhunt.host.firewall import FirewallRule
from doorhunt.host.persistence import AutostartEntry
from doorhunt.host.procfs import OpenFile, WaitState
from doorhunt.host.socketfilters import FilterRead, FilterState
from doorhunt.host.sockets import Listener
from doorhunt.sweep.checks import CHECKS
from doorhunt.sweep.findings import Finding, Severity
from doorhunt.sweep.run import combined_score, run_checks
from tests.sweep.fakes import (
    BOOT,
    HOST_NS,
    classic_read,
    facts,
    packet_socket,
    process,
    raw_socket,
    snapshot,
)

CLASSIC = classic_read(EXAMPLES["bpfdoor-classic"].build())
DHCP = classic_read(EXAMPLES["dhcp-client"].build())
DHCLIENT = {"/usr/sbin/dhclient": "isc-dhcp-client", "/usr/bin/sleep": "coreutils"}


def findings(host, check: str | None = None) -> list[Finding]:  # type: ignore[no-untyped-def]
    result = run_checks(host)
    assert not result.failures, result.failures
    return [f for f in result.findings if check is None or f.check == check]


def test_every_check_is_listed_once() -> None:
    names = [check.__name__ for check in CHECKS]
    assert len(names) == len(set(names)) >= 12


def test_bpfdoor_filter_on_an_unbound_ip_socket_is_critical() -> None:
    holder = process(
        700,
        exe="/dev/shm/kdmtmpflush",
        deleted=True,
        sockets={11: 3},
        waits=(WaitState(700, "recvfrom", 3),),
    )
    found = findings(snapshot([holder], packet=[packet_socket(11, CLASSIC)]))
    (socket,) = [f for f in found if f.check == "socket_filter"]
    assert socket.severity is Severity.CRITICAL and socket.process is holder
    assert socket.filter is not None and socket.filter.classification.filter_class == "bpfdoor"
    assert socket.evidence["inode"] == 11 and socket.evidence["holders"] == [{"pid": 700, "fd": 3}]
    assert str(socket.evidence["filter"]).startswith("28000000")
    assert any(f.check == "wait_state" for f in found)
    assert [t.id for t in socket.techniques] == ["T1205.002"]


def test_dgram_packet_socket_is_analysed_from_the_ip_header() -> None:
    from doorhunt.bpf.interpreter import Link
    from tests.bpf.conftest import compile_expression

    program = compile_expression("udp[8:2] = 0x7255", Link.IP)
    holder = process(701, exe="/opt/agent/agent", sockets={12: 4})
    found = findings(
        snapshot([holder], packet=[packet_socket(12, classic_read(program), kind="dgram")]),
        "socket_filter",
    )
    assert found and found[0].filter is not None
    assert found[0].filter.classification.filter_class == "bpfdoor"


def test_raw_inet_socket_filter_is_analysed() -> None:
    holder = process(702, exe="/usr/bin/python3", sockets={13: 5})
    from doorhunt.bpf.interpreter import Link
    from tests.bpf.conftest import compile_expression

    program = compile_expression("udp[8:2] = 0x1234", Link.IP)
    found = findings(
        snapshot([holder], raw=[raw_socket(13, classic_read(program))]), "socket_filter"
    )
    assert found[0].severity.rank >= Severity.MEDIUM.rank
    assert found[0].filter is not None
    assert found[0].filter.classification.filter_class == "payload-magic"


def test_dhcp_filter_of_packaged_dhclient_is_fine_but_a_tmp_copy_is_not() -> None:
    packaged = process(710, exe="/usr/sbin/dhclient", sockets={20: 3})
    copy = process(711, exe="/tmp/dhclient", argv=("/usr/sbin/dhclient", "eth0"), sockets={21: 3})
    host = snapshot(
        [packaged, copy],
        packet=[packet_socket(20, DHCP, ifindex=2), packet_socket(21, DHCP, ifindex=2)],
        packages=DHCLIENT,
    )
    found = findings(host)
    assert not [f for f in found if f.process is packaged]
    about_copy = {f.check for f in found if f.process is copy}
    assert {"socket_filter", "masquerade", "executable_provenance"} <= about_copy


def test_benign_header_filter_is_not_a_finding_whatever_the_pid() -> None:
    from tests.bpf.conftest import compile_expression

    holder = process(4437, exe="/opt/monitor/agent", sockets={22: 3})
    host = snapshot(
        [holder],
        packet=[packet_socket(22, classic_read(compile_expression("tcp port 4437")), ifindex=2)],
    )
    assert findings(host, "socket_filter") == []


def test_packaged_tool_with_a_bpfdoor_filter_is_still_reported() -> None:
    tcpdump = process(720, exe="/usr/bin/tcpdump", sockets={23: 3})
    host = snapshot(
        [tcpdump], packet=[packet_socket(23, CLASSIC)], packages={"/usr/bin/tcpdump": "tcpdump"}
    )
    (found,) = findings(host, "socket_filter")
    assert found.severity is Severity.MEDIUM and found.detail is not None
    assert "tcpdump" in found.detail.render()


def test_ebpf_filter_and_unfiltered_sniffer_and_orphans() -> None:
    ebpf_holder = process(730, exe="/dev/shm/x", sockets={30: 3})
    sniffer = process(731, exe="/var/tmp/sniff", sockets={31: 3})
    packaged = process(732, exe="/usr/sbin/lldpd", sockets={32: 3})
    none = FilterRead(FilterState.NONE)
    host = snapshot(
        [ebpf_holder, sniffer, packaged],
        packet=[
            packet_socket(30, FilterRead(FilterState.EBPF)),
            packet_socket(31, none),
            packet_socket(32, none),
            packet_socket(33, CLASSIC),
        ],
        orphans={33},
        packages={"/usr/sbin/lldpd": "lldpd"},
    )
    assert findings(host, "ebpf_socket_filter")[0].process is ebpf_holder
    sniffers = findings(host, "unfiltered_sniffer")
    assert [f.process for f in sniffers] == [sniffer]
    (orphan,) = findings(host, "orphan_socket")
    assert orphan.evidence["inode"] == 33 and orphan.severity is Severity.HIGH


def test_masquerade_and_fake_kernel_threads() -> None:
    fake = process(
        740, exe="/dev/shm/.x", deleted=True, argv=("/usr/sbin/console-kit-daemon", "--no-daemon")
    )
    kthread = process(741, exe="/tmp/k", argv=("[watchdogd]",))
    real_kthread = process(2, exe=None, argv=(), comm="kthreadd", flags=0x00200000)
    real_daemon = process(742, exe="/usr/sbin/cron", argv=("/usr/sbin/cron", "-f", "-P"))
    found = findings(
        snapshot([fake, kthread, real_kthread, real_daemon], packages={"/usr/sbin/cron": "cron"}),
        "masquerade",
    )
    by_pid = {f.process.pid: f for f in found if f.process}
    assert set(by_pid) == {740, 741}
    assert by_pid[741].severity is Severity.CRITICAL
    assert by_pid[740].severity.rank >= Severity.HIGH.rank


def test_provenance() -> None:
    shm = process(750, exe="/dev/shm/a")
    memfd = process(751, exe="/memfd:x", deleted=True)
    runc = process(752, exe="/memfd:runc_cloned:/proc/self/exe", deleted=True)
    upgraded = process(753, exe="/usr/sbin/sshd", deleted=True)
    found = {
        f.process.pid: f
        for f in findings(
            snapshot([shm, memfd, runc, upgraded], packages={"/usr/sbin/sshd": "openssh-server"}),
            "executable_provenance",
        )
        if f.process
    }
    assert found[750].severity is Severity.HIGH
    assert found[751].severity is Severity.HIGH
    assert 752 not in found
    assert found[753].severity is Severity.LOW


def test_timestomped_executable() -> None:
    stomped = process(760, exe="/dev/shm/kdmtmpflush", deleted=True)
    before_boot = process(761, exe="/dev/shm/other")
    host = snapshot(
        [stomped, before_boot],
        exe_facts={
            760: facts("/dev/shm/kdmtmpflush", mtime=1225394236.0),
            761: facts("/dev/shm/other", mtime=BOOT - 86400),
        },
    )
    found = {f.process.pid: f for f in findings(host, "timestomp") if f.process}
    assert found[760].severity is Severity.CRITICAL and found[761].severity is Severity.HIGH


def test_environment_triple_exact_entries_only() -> None:
    shell = process(
        770, environ=("HOME=/tmp", "HISTFILE=/dev/null", "MYSQL_HISTFILE=/dev/null", "TERM=vt100")
    )
    lookalike = process(771, environ=("FOO=HOME=/tmp HISTFILE=/dev/null MYSQL_HISTFILE=/dev/null",))
    empty_root = process(772, environ=())
    empty_user = process(773, environ=(), uid=1000)
    found = {
        f.process.pid: f
        for f in findings(snapshot([shell, lookalike, empty_root, empty_user]), "environment")
        if f.process
    }
    assert found[770].severity is Severity.HIGH
    assert 771 not in found and 773 not in found
    assert found[772].severity is Severity.LOW


def _pid_file(name: str, *, size: int = 0, mode: int = 0o644, inode: int = 90) -> PidFile:
    return PidFile(
        facts(f"/run/{name}", size=size, mode=mode, inode=inode),
        (f"/var/run/{name}",),
        "empty" if size == 0 else "pid",
        None,
    )


def test_pid_files_by_size_name_and_holder_not_by_mode() -> None:
    idle = _pid_file("haldrund.pid", inode=91)
    held = _pid_file("kdevrund.pid", mode=0o600, inode=92)
    ordinary = _pid_file("sshd.pid", size=5, inode=93)
    holder = process(780, exe="/tmp/x", files=(OpenFile(4, "/run/kdevrund.pid"),))
    locker = process(781, exe="/dev/shm/y")
    other = _pid_file("app.lock", inode=94)
    host = snapshot(
        [holder, locker],
        pid_files=[idle, held, ordinary, other],
        locks=[FileLock(781, "FLOCK", "WRITE", 1, 94)],
    )
    found = {str(f.evidence["path"]): f for f in findings(host, "pid_file")}
    assert found["/run/haldrund.pid"].severity is Severity.MEDIUM
    assert found["/run/kdevrund.pid"].severity is Severity.CRITICAL
    assert found["/run/kdevrund.pid"].process is holder
    assert found["/run/app.lock"].process is locker
    assert "/run/sshd.pid" not in found


def test_temp_executables_and_known_names() -> None:
    items = [
        TempExecutable(facts("/dev/shm/a", size=100), "elf"),
        TempExecutable(facts("/tmp/build/tool", size=100), "elf"),
        TempExecutable(facts("/var/tmp/dbus-srv", size=100), "elf"),
        TempExecutable(facts("/tmp/run.sh", size=10), "script"),
    ]
    found = findings(snapshot(temp=items), "temp_executable")
    paths = {(str(f.evidence["path"]), f.severity) for f in found}
    assert ("/dev/shm/a", Severity.HIGH) in paths
    assert ("/tmp/build/tool", Severity.LOW) in paths
    assert ("/var/tmp/dbus-srv", Severity.HIGH) in paths
    assert not any(p == "/tmp/run.sh" for p, _ in paths)


def test_bind_shell_listener_and_firewall_pair() -> None:
    shell = process(790, exe="/tmp/x", sockets={50: 4})
    listener = Listener(HOST_NS, 50, "inet", "0.0.0.0", 42391, 0)
    redirect = FirewallRule(
        HOST_NS,
        "ipv4",
        "nat",
        "PREROUTING",
        "REDIRECT",
        "192.0.2.9/32",
        "22",
        (42391, 42391),
        "-A PREROUTING ...",
    )
    accept = FirewallRule(
        HOST_NS, "ipv4", "filter", "INPUT", "ACCEPT", "192.0.2.9/32", None, None, "-A INPUT ..."
    )
    found = findings(
        snapshot([shell], listeners=[listener], firewall=[redirect, accept]), "bind_shell"
    )
    assert {f.score for f in found} == {65, 95}


def test_persistence() -> None:
    entries = [
        AutostartEntry(
            "sysconfig",
            "/etc/sysconfig/x",
            3,
            "[ -f /usr/libexec/hpasmmld ] && /usr/libexec/hpasmmld",
            ("/usr/libexec/hpasmmld",),
            True,
        ),
        AutostartEntry(
            "systemd",
            "/etc/systemd/system/a.service",
            5,
            "ExecStart=/dev/shm/a",
            ("/dev/shm/a",),
            False,
        ),
        AutostartEntry(
            "ld.so.preload",
            "/etc/ld.so.preload",
            1,
            "/usr/lib/libx.so",
            ("/usr/lib/libx.so",),
            False,
        ),
    ]
    scores = sorted(f.score for f in findings(snapshot(autostart=entries), "persistence"))
    assert scores == [50, 75, 85]


def test_process_verdict_combines_and_explains() -> None:
    holder = process(
        700,
        exe="/dev/shm/kdmtmpflush",
        deleted=True,
        environ=(),
        argv=("/sbin/udevd", "-d"),
        sockets={11: 3},
    )
    result = run_checks(snapshot([holder], packet=[packet_socket(11, CLASSIC)]))
    (verdict,) = result.processes
    assert verdict.score == 100 and verdict.severity is Severity.CRITICAL
    assert {f.check for f in verdict.findings} >= {
        "socket_filter",
        "masquerade",
        "executable_provenance",
        "environment",
    }
    assert result.verdict() == "compromised"


def test_combined_score_counts_each_check_once() -> None:
    from doorhunt.i18n import Message

    title = Message("x", {"en": "x", "ko": "x"})
    same = [Finding("a", 50, title), Finding("a", 50, title)]
    assert combined_score(same) == 50
    assert combined_score([*same, Finding("b", 50, title)]) == 75


def test_a_broken_check_is_a_visibility_gap_not_a_crash() -> None:
    def broken(host):  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")
        yield

    result = run_checks(snapshot(), (broken,))
    assert result.failures and not result.complete
    assert result.verdict() == "degraded"


def test_clean_host() -> None:
    result = run_checks(
        snapshot([process(800, exe="/usr/bin/sleep")], packages={"/usr/bin/sleep": "coreutils"})
    )
    assert result.findings == [] and result.verdict() == "clean"
