"""Building and reading ECS documents: new_event, dotted names, host identity, entity ids."""

from __future__ import annotations

import os
import re
import socket
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.ecs import (
    ECS_VERSION,
    assert_valid,
    entity_id,
    flatten,
    format_timestamp,
    get_field,
    host_fields,
    new_event,
    set_field,
)
from doorhunt.ecs.document import parse_os_release

MOMENT = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)
HOST = {"name": "web-1", "hostname": "web-1", "id": "0123456789abcdef0123456789abcdef"}


# Timestamps


def test_timestamp_is_rfc3339_utc_with_milliseconds() -> None:
    assert format_timestamp(MOMENT) == "2026-03-01T12:30:05.123Z"


def test_timestamp_converts_other_offsets_to_utc_and_truncates() -> None:
    seoul = timezone(timedelta(hours=9))
    moment = datetime(2026, 1, 1, 8, 59, 59, 999999, tzinfo=seoul)
    assert format_timestamp(moment) == "2025-12-31T23:59:59.999Z"


def test_naive_timestamp_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2026, 1, 1))


# new_event


def test_new_event_sets_the_core_fields_nested() -> None:
    event = new_event(
        kind="event", category="process", type="start", action="exec", timestamp=MOMENT
    )
    assert event == {
        "@timestamp": "2026-03-01T12:30:05.123Z",
        "ecs": {"version": ECS_VERSION},
        "event": {"kind": "event", "category": ["process"], "type": ["start"], "action": "exec"},
    }


def test_new_event_keeps_lists_of_categories_and_types() -> None:
    event = new_event(
        kind="event",
        category=("network", "process"),
        type=["connection", "start"],
        action="connect",
        timestamp=MOMENT,
    )
    assert get_field(event, "event.category") == ["network", "process"]
    assert get_field(event, "event.type") == ["connection", "start"]


def test_new_event_merges_field_sets_and_dotted_names() -> None:
    event = new_event(
        kind="event",
        category="process",
        type="start",
        action="exec",
        timestamp=MOMENT,
        host=HOST,
        process={"pid": 42, "parent": {"pid": 1}},
        event={"outcome": "success"},
        **{"process.name": "sshd", "doorhunt.bpf.instructions": 30},
    )
    assert event["process"] == {"pid": 42, "parent": {"pid": 1}, "name": "sshd"}
    assert get_field(event, "event.outcome") == "success"
    assert get_field(event, "event.kind") == "event"
    assert get_field(event, "doorhunt.bpf.instructions") == 30
    assert_valid(event, require_core=True)


def test_new_event_does_not_share_the_callers_objects() -> None:
    process = {"pid": 42, "args": ["sshd", "-D"]}
    event = new_event(
        kind="event", category="process", type="start", action="exec", process=process
    )
    set_field(event, "process.parent.pid", 1)
    args = get_field(event, "process.args")
    assert isinstance(args, list)
    args.append("-x")
    assert process == {"pid": 42, "args": ["sshd", "-D"]}


def test_new_event_refuses_a_field_given_twice() -> None:
    with pytest.raises(ValueError, match=r"event\.kind is given twice"):
        new_event(
            kind="event", category="process", type="start", action="exec", event={"kind": "alert"}
        )
    with pytest.raises(ValueError, match=r"process\.pid is given twice"):
        new_event(
            kind="event",
            category="process",
            type="start",
            action="exec",
            process={"pid": 1},
            **{"process.pid": 2},
        )


def test_new_event_with_local_host_fields_passes_core_validation() -> None:
    event = new_event(
        kind="event", category="host", type="info", action="sweep", host=host_fields()
    )
    assert_valid(event, require_core=True)


# set_field / get_field / flatten


def test_set_field_creates_nested_objects() -> None:
    document: dict[str, object] = {}
    set_field(document, "process.parent.pid", 1)
    set_field(document, "process.pid", 2)
    assert document == {"process": {"parent": {"pid": 1}, "pid": 2}}


def test_set_field_reuses_dotted_keys_already_present() -> None:
    document: dict[str, object] = {"process.parent": {"pid": 1}, "process.pid": 5}
    set_field(document, "process.parent.name", "systemd")
    set_field(document, "process.pid", 6)
    assert document == {"process.parent": {"pid": 1, "name": "systemd"}, "process.pid": 6}


def test_set_field_refuses_to_go_through_a_value() -> None:
    document: dict[str, object] = {"process": "sshd"}
    with pytest.raises(ValueError, match="process holds a str, not an object"):
        set_field(document, "process.pid", 1)


@pytest.mark.parametrize("name", ["", ".", "process.", ".pid", "process..pid"])
def test_names_with_empty_segments_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="empty segment"):
        set_field({}, name, 1)
    with pytest.raises(ValueError, match="empty segment"):
        get_field({}, name)


def test_get_field_reads_both_spellings() -> None:
    document = {"process.pid": 1, "process": {"name": "x", "parent.pid": 0}, "host": {"name": "h"}}
    assert get_field(document, "process.pid") == 1
    assert get_field(document, "process.name") == "x"
    assert get_field(document, "process.parent.pid") == 0
    assert get_field(document, "host") == {"name": "h"}
    assert get_field(document, "process.missing") is None
    assert get_field(document, "host.name.first", "absent") == "absent"


def test_flatten_joins_names_and_keeps_arrays_as_values() -> None:
    document = {
        "process": {"pid": 1, "args": ["a", "b"], "parent.pid": 0},
        "process.name": "x",
        "file": {"elf": {"sections": [{"name": ".text"}]}},
        "labels": {},
    }
    assert flatten(document) == {
        "process.pid": 1,
        "process.args": ["a", "b"],
        "process.parent.pid": 0,
        "process.name": "x",
        "file.elf.sections": [{"name": ".text"}],
        "labels": {},
    }


def test_flatten_refuses_a_field_spelled_twice() -> None:
    with pytest.raises(ValueError, match=r"process\.pid appears twice"):
        flatten({"process.pid": 1, "process": {"pid": 2}})


_SEGMENT = st.text(st.characters(exclude_characters="."), min_size=1, max_size=8)
_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=3),
    st.just({}),
)
_NESTED = st.recursive(
    st.dictionaries(_SEGMENT, _LEAF, max_size=4),
    lambda children: st.dictionaries(_SEGMENT, st.one_of(_LEAF, children), max_size=4),
    max_leaves=20,
)


@given(_NESTED)
def test_flatten_then_set_field_rebuilds_the_document(document: dict[str, object]) -> None:
    flat = flatten(document)
    rebuilt: dict[str, object] = {}
    for name, value in flat.items():
        set_field(rebuilt, name, value)
        assert get_field(document, name, rebuilt) == value
    assert rebuilt == document
    assert flatten(rebuilt) == flat


# host_fields


def fake_root(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
    return tmp_path


def test_host_fields_reads_identity_from_the_tree(tmp_path: Path) -> None:
    root = fake_root(
        tmp_path,
        {
            "etc/machine-id": "0123456789abcdef0123456789abcdef\n",
            "proc/sys/kernel/random/boot_id": "2f1e0c1a-6a4b-4d6e-9f00-0123456789ab\n",
            "etc/os-release": (
                'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
                'VERSION="24.04.1 LTS (Noble Numbat)"\nID=ubuntu\nID_LIKE=debian\n'
            ),
        },
    )
    host = host_fields(root=root)
    assert host["name"] == host["hostname"] == socket.gethostname()
    assert host["id"] == "0123456789abcdef0123456789abcdef"
    assert host["boot"] == {"id": "2f1e0c1a-6a4b-4d6e-9f00-0123456789ab"}
    assert host["architecture"] == os.uname().machine
    assert host["os"] == {
        "type": "linux",
        "kernel": os.uname().release,
        "name": "Ubuntu",
        "version": "24.04.1 LTS (Noble Numbat)",
        "platform": "ubuntu",
        "full": "Ubuntu 24.04.1 LTS",
        "family": "debian",
    }


def test_host_fields_falls_back_to_usr_lib_os_release_and_id_like(tmp_path: Path) -> None:
    root = fake_root(tmp_path, {"usr/lib/os-release": 'ID=rocky\nID_LIKE="rhel centos fedora"\n'})
    host = host_fields(root=root)
    assert host["os"] == {
        "type": "linux",
        "kernel": os.uname().release,
        "platform": "rocky",
        "family": "redhat",
    }


def test_host_fields_leaves_out_what_it_cannot_read(tmp_path: Path) -> None:
    root = fake_root(tmp_path, {"etc/machine-id": "not a machine id\n"})
    host = host_fields(root=root)
    assert "id" not in host
    assert "boot" not in host
    assert host["os"] == {"type": "linux", "kernel": os.uname().release}
    assert_valid({"host": host})


def test_host_fields_survive_hostile_os_release(tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "os-release").write_bytes(
        b'NAME="$(reboot)"\nPRETTY_NAME="bad \xff\xfe bytes"\nID=`id`\n' + b"X" * 100_000
    )
    host = host_fields(root=tmp_path)
    os_fields = host["os"]
    assert isinstance(os_fields, dict)
    assert os_fields["name"] == "$(reboot)"
    assert os_fields["full"] == "bad \ufffd\ufffd bytes"
    assert os_fields["platform"] == "`id`"
    assert_valid({"host": host})


def test_os_release_parsing_unquotes_without_evaluating() -> None:
    text = (
        "# comment\n\n"
        'NAME="Debian GNU/Linux"\n'
        "PRETTY_NAME='Debian 12'\n"
        'VERSION="12 \\"bookworm\\""\n'
        "ID=debian\n"
        "lowercase=ignored\n"
        "NO_EQUALS_SIGN\n"
        '  HOME_URL="https://www.debian.org/"  \n'
    )
    assert parse_os_release(text) == {
        "NAME": "Debian GNU/Linux",
        "PRETTY_NAME": "Debian 12",
        "VERSION": '12 "bookworm"',
        "ID": "debian",
        "HOME_URL": "https://www.debian.org/",
    }


# entity_id


def test_entity_id_is_pinned() -> None:
    # Stored documents and the UI's URLs hold these ids: the scheme must not drift silently.
    machine_id = "0123456789abcdef0123456789abcdef"
    boot_id = "2f1e0c1a-6a4b-4d6e-9f00-0123456789ab"
    assert entity_id(machine_id, 4242, 123456, boot_id=boot_id) == (
        "3PzvauZMR4gLkt2j7mhFU9Ac_IyfTnAw-aPJb_Ba33o"
    )


@given(st.text(min_size=1), st.integers(0, 2**22), st.integers(0, 2**64), st.text())
def test_entity_id_is_url_safe_and_changes_with_every_input(
    host_id: str, pid: int, ticks: int, boot_id: str
) -> None:
    value = entity_id(host_id, pid, ticks, boot_id=boot_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", value)
    assert entity_id(host_id, pid + 1, ticks, boot_id=boot_id) != value
    assert entity_id(host_id, pid, ticks + 1, boot_id=boot_id) != value
    assert entity_id(host_id + "x", pid, ticks, boot_id=boot_id) != value
    assert entity_id(host_id, pid, ticks, boot_id=boot_id + "x") != value


def test_entity_id_parts_cannot_run_together() -> None:
    assert entity_id("a\0b", 1, 1, boot_id="") != entity_id("a", 1, 1, boot_id="b\0")
    assert entity_id("a", 1, 1, boot_id="b") != entity_id("ab", 1, 1)


def test_entity_id_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="host_id is empty"):
        entity_id("", 1, 1)
    with pytest.raises(ValueError, match="must not be negative"):
        entity_id("h", -1, 1)
    with pytest.raises(ValueError, match="must not be negative"):
        entity_id("h", 1, -1)
