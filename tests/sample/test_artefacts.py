"""Each artefact finder on in-memory clues: what it must find, and what it must leave alone."""

from __future__ import annotations

from doorhunt.sample.artefacts import ArtefactKind, Clues, find_artefacts
from doorhunt.sample.code import CodeScan
from doorhunt.sample.strings import TextString


def clues(*values: str, constants: dict[int, int] | None = None) -> Clues:
    strings = tuple(TextString(v, "file", offset=100 * i) for i, v in enumerate(values))
    code = CodeScan("x86-64", (), constants or {}) if constants is not None else None
    return Clues(strings, code, None, b"")


def kinds(found: Clues) -> dict[ArtefactKind, list[str]]:
    result: dict[ArtefactKind, list[str]] = {}
    for artefact in find_artefacts(found):
        result.setdefault(artefact.kind, []).append(artefact.value)
    return result


def test_published_names_paths_and_templates_are_found() -> None:
    found = kinds(
        clues(
            "/sbin/udevd -d",
            "hald-runner",
            "/var/run/haldrund.pid",
            "/run/xinetd.lock",
            "/sbin/iptables -I INPUT -s %s -j ACCEPT",
            "iptables -t nat -A PREROUTING -s %s --dport %d -j REDIRECT --to-ports %d",
            "HISTFILE=/dev/null",
            "/dev/shm/kdmtmpflush",
            "qmgr -l -t fifo -u",
        )
    )
    assert found[ArtefactKind.DECOY_NAME] == ["/sbin/udevd -d", "hald-runner"]
    assert found[ArtefactKind.PID_FILE] == ["/run/xinetd.lock", "/var/run/haldrund.pid"]
    assert len(found[ArtefactKind.FIREWALL_TEMPLATE]) == 2
    assert found[ArtefactKind.SHELL_ENVIRONMENT] == ["HISTFILE=/dev/null"]
    assert found[ArtefactKind.INSTALL_PATH] == ["/dev/shm/kdmtmpflush"]
    assert found[ArtefactKind.SHELL_DISGUISE] == ["qmgr -l -t fifo -u"]


def test_ordinary_daemon_strings_are_not_artefacts() -> None:
    found = kinds(
        clues(
            "/run/dhclient.pid",
            "/var/run/sshd.pid",
            "iptables -L -n",  # a fixed command, not a template
            "HOME=/root",
            "/sbin/udevd",  # the real daemon's path, without the decoy's argument
            "usage: hald-runner-helper",
        )
    )
    assert found == {}


def test_a_string_stored_as_the_tail_of_another_is_found_where_it_starts() -> None:
    artefacts = find_artefacts(clues("MYSQL_HISTFILE=/dev/null"))
    values = {a.value: a for a in artefacts}
    assert set(values) == {"MYSQL_HISTFILE=/dev/null", "HISTFILE=/dev/null"}
    assert values["HISTFILE=/dev/null"].places[0].offset == len("MYSQL_")


def test_code_constants_need_every_value() -> None:
    assert kinds(clues(constants={42391: 0x10, 43390: 0x20}))[ArtefactKind.BIND_PORT_RANGE] == [
        "42391-43390"
    ]
    assert ArtefactKind.BIND_PORT_RANGE not in kinds(clues(constants={42391: 0x10}))
    both = kinds(clues(constants={0x4430CD9F: 1, 0x5E142766: 2, 1225394236: 3}))
    assert both[ArtefactKind.CODE_MAGIC] == ["0x4430cd9f 0x5e142766"]
    assert both[ArtefactKind.BACKDATED_TIME] == ["0x490a083c"]
    assert ArtefactKind.CODE_MAGIC not in kinds(clues(constants={0x4430CD9F: 1}))


def test_without_a_code_sweep_a_raw_blob_is_searched_for_four_byte_constants() -> None:
    blob = b"\0" * 10 + (1225394236).to_bytes(4, "little") + b"\0" * 10
    found = find_artefacts(Clues((), None, None, blob))
    assert [(a.kind, a.places[0].offset) for a in found] == [(ArtefactKind.BACKDATED_TIME, 10)]
