"""Passwords, salts and digests: the part of a BPFDoor configuration that opens its shells.

Classic builds write their two passwords to the stack in `main` (Elastic Security Labs, 2022:
their extractor reports the last two stack strings of `main`); builds that keep a digest
instead store hex digests and a salt beside them. doorhunt reports every candidate with its
place, and says which candidate a stored digest confirms: a password is *verified* when
MD5/SHA-1/SHA-256 of (salt + password), (password + salt) or the password alone equals a
digest found in the file.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

from doorhunt.sample.strings import Confidence, Place, TextString

MIN_SECRET_CHARS, MAX_SECRET_CHARS = 4, 64
NEIGHBOURHOOD_BYTES = 256  # a salt is stored within this distance of a digest
MAX_CANDIDATES = 64  # of each kind, for the pairwise check
STACK_ANCHOR_BYTES = 1 << 16
MAX_SALTS_SHOWN = 8

_DIGEST = re.compile(r"^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64})$")
_ALGORITHMS = {32: "md5", 40: "sha1", 64: "sha256"}
_SALT = re.compile(rf"^[\x21-\x7e]{{{MIN_SECRET_CHARS},{MAX_SECRET_CHARS}}}$")


@dataclass(frozen=True, slots=True)
class Digest:
    value: str
    algorithm: str
    place: Place


@dataclass(frozen=True, slots=True)
class Verification:
    algorithm: str
    salt: str | None
    order: str  # "salt+password", "password+salt" or "password"
    digest: str


@dataclass(frozen=True, slots=True)
class PasswordCandidate:
    value: str
    place: Place
    verified: Verification | None
    # high: a stored digest confirms it; medium: built on the stack beside the filter or
    # other artefacts; low: a stack string of a sample with no such anchor.
    confidence: Confidence = Confidence.MEDIUM

    def to_json(self) -> dict[str, object]:
        document: dict[str, object] = {
            "value": self.value,
            "place": self.place.to_json(),
            "confidence": self.confidence.value,
        }
        if self.verified:
            document["verified"] = {
                "algorithm": self.verified.algorithm,
                "salt": self.verified.salt,
                "order": self.verified.order,
                "digest": self.verified.digest,
            }
        return document


@dataclass(frozen=True, slots=True)
class Secrets:
    passwords: tuple[PasswordCandidate, ...]
    salts: tuple[TextString, ...]  # the salts a digest confirms, else the candidates
    digests: tuple[Digest, ...]
    salts_verified: bool = False


def find_secrets(
    file_strings: Iterable[TextString],
    stack_strings: Iterable[TextString],
    *,
    explained: frozenset[str],
    anchors: Iterable[int],
) -> Secrets:
    """`explained`: values already identified as other artefacts (not passwords);
    `anchors`: code addresses of stack buffers that hold known artefacts (the filter, a
    decoy name), near which the password-building code usually sits."""
    strings = list(file_strings)
    digests = [
        Digest(s.value, _ALGORITHMS[len(s.value)], s.place)
        for s in strings
        if len(s.value) in _ALGORITHMS and _DIGEST.match(s.value)
    ][:MAX_CANDIDATES]
    salts = _salts_near(strings, digests) if digests else []
    anchor_list = list(anchors)
    candidates = []
    for candidate in _password_candidates(stack_strings, explained, anchor_list):
        verified = _verify(candidate.value, salts, digests)
        unverified = Confidence.MEDIUM if anchor_list else Confidence.LOW
        confidence = Confidence.HIGH if verified else unverified
        candidates.append(PasswordCandidate(candidate.value, candidate.place, verified, confidence))
    if not anchor_list:
        # Stack strings of a program with nothing else suspicious are ordinary data; only a
        # digest that confirms one makes it a password.
        candidates = [candidate for candidate in candidates if candidate.verified]
    verified_salts = {c.verified.salt for c in candidates if c.verified and c.verified.salt}
    shown_salts = [s for s in salts if s.value in verified_salts] or salts[:MAX_SALTS_SHOWN]
    return Secrets(tuple(candidates), tuple(shown_salts), tuple(digests), bool(verified_salts))


def _salts_near(strings: list[TextString], digests: list[Digest]) -> list[TextString]:
    offsets = sorted(d.place.offset for d in digests if d.place.offset is not None)
    salts = []
    for string in strings:
        if string.offset is None or not _near(offsets, string.offset):
            continue
        if _DIGEST.match(string.value) or not _SALT.match(string.value):
            continue
        salts.append(string)
        if len(salts) >= MAX_CANDIDATES:
            break
    return salts


def _near(offsets: list[int], offset: int) -> bool:
    """Whether a sorted offset lies within NEIGHBOURHOOD_BYTES of `offset`."""
    index = bisect_left(offsets, offset - NEIGHBOURHOOD_BYTES)
    return index < len(offsets) and offsets[index] <= offset + NEIGHBOURHOOD_BYTES


def _password_candidates(
    stack_strings: Iterable[TextString], explained: frozenset[str], anchors: list[int]
) -> list[TextString]:
    candidates = [
        s
        for s in stack_strings
        if MIN_SECRET_CHARS <= len(s.value) <= MAX_SECRET_CHARS and s.value not in explained
    ]
    candidates = [s for s in candidates if len(set(s.value)) > 1]
    if anchors:
        near = [
            s
            for s in candidates
            if s.address is not None
            and any(abs(s.address - anchor) <= STACK_ANCHOR_BYTES for anchor in anchors)
        ]
        candidates = near or candidates
    unique = {s.value: s for s in reversed(candidates)}
    return [unique[value] for value in dict.fromkeys(s.value for s in candidates)][:MAX_CANDIDATES]


def _verify(password: str, salts: list[TextString], digests: list[Digest]) -> Verification | None:
    if not digests:
        return None
    wanted = {d.value: d for d in digests}
    secret = password.encode()
    for salt in [None, *(s.value for s in salts)]:
        raw_salt = salt.encode() if salt else b""
        orders = (
            {"password": secret}
            if salt is None
            else {"salt+password": raw_salt + secret, "password+salt": secret + raw_salt}
        )
        for order, message in orders.items():
            for algorithm in ("md5", "sha1", "sha256"):
                digest = hashlib.new(algorithm, message, usedforsecurity=False).hexdigest()
                if digest in wanted:
                    return Verification(algorithm, salt, order, digest)
    return None


__all__ = ["Digest", "PasswordCandidate", "Secrets", "Verification", "find_secrets"]
