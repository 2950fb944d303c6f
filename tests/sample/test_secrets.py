"""Passwords confirmed by a stored digest, in every salting order doorhunt tries."""

from __future__ import annotations

import hashlib

import pytest

from doorhunt.sample.secrets import find_secrets
from doorhunt.sample.strings import TextString


def stack(value: str, address: int = 0x1000) -> TextString:
    return TextString(value, "stack", address=address)


def text(value: str, offset: int) -> TextString:
    return TextString(value, "file", offset=offset)


@pytest.mark.parametrize(
    ("algorithm", "message", "order"),
    [
        ("md5", "s4ltpw-one", "salt+password"),
        ("sha1", "pw-ones4lt", "password+salt"),
        ("sha256", "pw-one", "password"),
    ],
)
def test_a_digest_confirms_the_password_and_names_the_salt(
    algorithm: str, message: str, order: str
) -> None:
    digest = hashlib.new(algorithm, message.encode()).hexdigest()
    found = find_secrets(
        [text("s4lt", 100), text(digest, 120), text("far-away-string", 5000)],
        [stack("pw-one"), stack("pw-two")],
        explained=frozenset(),
        anchors=[0x1000],
    )
    verified = {c.value: c.verified for c in found.passwords}
    check = verified["pw-one"]
    assert check is not None and verified["pw-two"] is None
    assert (check.algorithm, check.order, check.digest) == (algorithm, order, digest)
    assert check.salt == (None if order == "password" else "s4lt")
    assert [d.algorithm for d in found.digests] == [algorithm]
    if order != "password":
        assert [s.value for s in found.salts] == ["s4lt"] and found.salts_verified


def test_without_anchors_only_confirmed_stack_strings_are_passwords() -> None:
    digest = hashlib.md5(b"keep-me").hexdigest()
    found = find_secrets(
        [text(digest, 10)], [stack("keep-me"), stack("ordinary")], explained=frozenset(), anchors=[]
    )
    assert [c.value for c in found.passwords] == ["keep-me"]


def test_known_artefacts_and_trivial_runs_are_not_passwords() -> None:
    found = find_secrets(
        [],
        [stack("HOME=/tmp"), stack("????????"), stack("real-one")],
        explained=frozenset({"HOME=/tmp"}),
        anchors=[0x1000],
    )
    assert [c.value for c in found.passwords] == ["real-one"]
