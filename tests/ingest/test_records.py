"""Audit record parsing: raw and ENRICHED lines, netlink messages, hostile input."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from doorhunt.ingest.auditd import RECORD_TYPES, parse_line, parse_netlink

SYSCALL = (
    "type=SYSCALL msg=audit(1700000000.123:456): arch=c000003e syscall=59 success=yes exit=0 "
    "a0=55d0 a1=55e0 a2=55f0 a3=0 items=2 ppid=1 pid=4242 auid=1000 uid=0 gid=0 euid=0 "
    'suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm="ls" exe="/usr/bin/ls" '
    "subj=unconfined key=(null)"
)
ENRICHED = (
    SYSCALL + '\x1dARCH=x86_64 SYSCALL=execve AUID="alice" UID="root" GID="root" EUID="root" '
    'SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"'
)


def test_a_raw_syscall_record() -> None:
    record = parse_line(SYSCALL + "\n")
    assert record is not None
    assert (record.type, record.serial, record.timestamp) == ("SYSCALL", 456, 1700000000.123)
    assert record.fields["syscall"] == "59"
    assert record.fields["comm"] == "ls" and record.fields["exe"] == "/usr/bin/ls"
    assert record.fields["a0"] == "55d0"  # SYSCALL arguments are numbers, never decoded
    assert record.fields["key"] == "(null)"
    assert record.raw == SYSCALL and record.node is None


def test_an_enriched_record_keeps_its_translations_apart() -> None:
    record = parse_line(ENRICHED)
    assert record is not None
    assert record.fields["SYSCALL"] == "execve" and record.fields["AUID"] == "alice"
    assert record.fields["uid"] == "0" and record.fields["UID"] == "root"


def test_hex_encoded_values_are_decoded() -> None:
    comm = b"a b".hex().upper()
    exe = b"/tmp/x y".hex().upper()
    record = parse_line(
        f"type=SYSCALL msg=audit(1.5:1): pid=1 comm={comm} exe={exe} a0=2F746D70 key=6B6579016F74686572"
    )
    assert record is not None
    assert record.fields["comm"] == "a b" and record.fields["exe"] == "/tmp/x y"
    assert record.fields["a0"] == "2F746D70"  # a SYSCALL argument: a number
    assert record.fields["key"] == "key\x01other"
    execve = parse_line("type=EXECVE msg=audit(1.5:1): argc=2 a0=2F62696E2F7368 a1[0]=2D63")
    assert execve is not None
    assert execve.fields["a0"] == "/bin/sh" and execve.fields["a1[0]"] == "-c"


def test_undecodable_bytes_are_kept_as_surrogates() -> None:
    record = parse_line("type=PATH msg=audit(1.0:1): name=6B646DFF")
    assert record is not None
    assert record.fields["name"].encode("utf-8", "surrogateescape") == b"kdm\xff"


def test_node_prefix_and_user_messages() -> None:
    record = parse_line(
        "node=web-1 type=USER_LOGIN msg=audit(1700000001.500:113): pid=900 uid=0 auid=1000 "
        'ses=3 msg=\'op=login id=1000 exe="/usr/sbin/sshd" hostname=? addr=192.0.2.1 '
        "terminal=/dev/pts/0 res=success'"
    )
    assert record is not None
    assert record.node == "web-1" and record.type == "USER_LOGIN"
    assert record.fields["op"] == "login" and record.fields["exe"] == "/usr/sbin/sshd"
    assert record.fields["addr"] == "192.0.2.1" and record.fields["res"] == "success"
    assert record.fields["pid"] == "900"


def test_netlink_messages_name_their_type() -> None:
    record = parse_netlink(1300, SYSCALL.split(" ", 1)[1].removeprefix("msg=") + "\x00")
    assert record is not None
    assert record.type == "SYSCALL" and record.serial == 456
    assert record.raw.startswith("type=SYSCALL msg=audit(")
    unknown = parse_netlink(1999, "audit(1.000:2): x=1")
    assert unknown is not None and unknown.type == "UNKNOWN[1999]"
    assert RECORD_TYPES[1320] == "EOE" and RECORD_TYPES[1327] == "PROCTITLE"


def test_lines_that_are_not_records() -> None:
    for line in ["", "hello", "type=SYSCALL", "type=SYSCALL msg=audit(x:1): a=1", "\x00" * 10]:
        assert parse_line(line) is None
    assert parse_line("type=X msg=audit(1.1:1): " + "a" * 70_000) is None
    assert parse_netlink(1300, "nonsense") is None


def format_value(value: str) -> str:
    return '"' + value + '"'


@given(
    st.lists(
        st.tuples(
            st.text(string.ascii_lowercase + "_", min_size=1, max_size=8),
            st.text(
                st.characters(blacklist_characters='"\x1d', blacklist_categories=("Cs",)),
                max_size=30,
            ),
        ),
        max_size=10,
        unique_by=lambda item: item[0],
    ),
    st.integers(0, 10**12 - 1),
    st.integers(0, 2**63),
)
def test_quoted_fields_round_trip(fields: list[tuple[str, str]], seconds: int, serial: int) -> None:
    fields = [(k, v) for k, v in fields if k not in ("msg", "node", "type")]
    body = " ".join(f"{key}={format_value(value)}" for key, value in fields)
    record = parse_line(f"type=SYSCALL msg=audit({seconds}.001:{serial}): {body}")
    assert record is not None
    assert record.serial == serial
    assert dict(record.fields.items()) == dict(fields)


@given(st.text(max_size=400))
def test_arbitrary_text_never_breaks_the_line_parser(text: str) -> None:
    record = parse_line(text)
    if record is not None:
        assert isinstance(record.fields, dict)
    parse_line("type=SYSCALL msg=audit(1.2:3): " + text)


@given(st.integers(0, 70000), st.binary(max_size=300))
def test_arbitrary_bytes_never_break_the_netlink_parser(kind: int, data: bytes) -> None:
    parse_netlink(kind, data.decode("utf-8", "surrogateescape"))
    parse_netlink(kind, "audit(1.2:3): " + data.decode("utf-8", "surrogateescape"))


def test_enriched_braced_values_stay_one_field() -> None:
    record = parse_line(
        "type=SOCKADDR msg=audit(1.000:7): saddr=0200001601020304\x1d"
        "SADDR={ saddr_fam=inet laddr=1.2.3.4 lport=22 }"
    )
    assert record is not None
    assert record.fields["saddr"] == "0200001601020304"
    assert record.fields["SADDR"] == "{ saddr_fam=inet laddr=1.2.3.4 lport=22 }"
    assert "laddr" not in record.fields
