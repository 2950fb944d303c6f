"""Probe synthesis: for each accepting path, a small, well-formed packet that takes it.

Concolic search: start from a packet of the path's protocols, evaluate the path's conditions in
order on the concrete bytes, and at the first that fails, change the one packet field it
compares (addresses computed from the current bytes, so IHL and TCP data offsets are followed)
until every condition holds. Then set length fields and checksums as a sender would, and keep
the packet only if the interpreter accepts it.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, cast

from doorhunt.bpf.expr import (
    Ancillary,
    Binary,
    Concrete,
    Const,
    Expr,
    Length,
    Load,
    OutOfBounds,
    Space,
    Unmodelled,
    substitute,
)
from doorhunt.bpf.interpreter import DEFAULT_METADATA, Link, Metadata, _Drop, execute
from doorhunt.bpf.meaning import PathMeaning
from doorhunt.bpf.packets import ETHERTYPE_BY_NETWORK, finish, grow_to_claimed_length, template
from doorhunt.bpf.paths import Condition, masked_load
from doorhunt.bpf.program import Program
from doorhunt.i18n import Catalog, Message

MAX_ROUNDS = 64
MAX_PACKET = 9000

MESSAGES = Catalog(
    {
        "link_fields": {
            "en": "the path tests Ethernet addresses, which a sender on another network cannot set",
            "ko": "이 경로는 이더넷 주소를 검사하므로 다른 네트워크의 송신자가 맞출 수 없음",
        },
        "metadata": {
            "en": "the path needs packet metadata: {fields}",
            "ko": "이 경로는 패킷 메타데이터가 필요함: {fields}",
        },
        "vlan": {
            "en": "the kernel strips a frame's outer VLAN tag before packet-socket filters run: "
            "this frame reaches the filter only if sent with one more outer tag",
            "ko": "커널은 패킷 소켓 필터 실행 전에 바깥 VLAN 태그를 제거함: "
            "바깥 태그를 하나 더 붙여 보내야 필터에 이 프레임이 보임",
        },
        "not_ip": {
            "en": "not an IP packet: it can only be sent on the same link",
            "ko": "IP 패킷이 아님: 같은 링크에서만 보낼 수 있음",
        },
        "bad_checksums": {
            "en": "the path constrains a length or checksum field: sent as the filter wants it",
            "ko": "이 경로는 길이나 체크섬 필드를 제한함: 필터가 원하는 값 그대로 보냄",
        },
        "unsolved": {
            "en": "no packet found for `{condition}`",
            "ko": "`{condition}` 조건을 만족하는 패킷을 찾지 못함",
        },
        "unmodelled": {
            "en": "the path depends on a value the analysis does not model ({what})",
            "ko": "이 경로는 분석이 모델링하지 않는 값에 의존함 ({what})",
        },
    }
)


@dataclass(frozen=True, slots=True)
class Probe:
    """A packet the program accepts along one path."""

    path: int  # index into the analysed paths
    network: str
    transport: str | None
    frame: bytes  # what the filter sees: from its offset 0
    packet: bytes  # from the network header: what a sender writes after the link header
    accepted: int  # the interpreter's return value for `frame`
    metadata: Metadata
    notes: tuple[Message, ...]


@dataclass(frozen=True, slots=True)
class ProbeFailure:
    path: int
    reason: Message


class _Unsolvable(Exception):
    def __init__(self, reason: Message) -> None:
        super().__init__(str(reason))
        self.reason = reason


class _Solver:
    def __init__(self, link: Link, meaning: PathMeaning, seed: int) -> None:
        self.link, self.meaning = link, meaning
        # Deterministic sampling of 32-bit values the candidates missed (not cryptography).
        self.random = random.Random(seed)  # noqa: S311
        ethertype = None
        network = meaning.network
        if network.startswith("ethertype "):
            ethertype = int(network.split()[1], 16)
        self.frame = bytearray(template(link, network, meaning.transport, ethertype))
        self.meta = replace(
            DEFAULT_METADATA, protocol=ethertype or ETHERTYPE_BY_NETWORK.get(network, 0x0800)
        )
        self.notes: list[Message] = []

    def concrete(self) -> Concrete:
        return Concrete(bytes(self.frame), self.link, self.meta)

    def solve(self) -> None:
        conditions = self.meaning.path.conditions
        for _ in range(MAX_ROUNDS):
            failing = self._first_failing(conditions)
            if failing is None:
                return
            self._satisfy(failing)
        failing = self._first_failing(conditions)
        if failing is not None:
            raise _Unsolvable(MESSAGES("unsolved", condition=str(failing)))

    def _first_failing(self, conditions: tuple[Condition, ...]) -> Condition | None:
        """The first condition (or load) the current bytes do not satisfy; grows the packet
        when a load falls past its end."""
        for _ in range(MAX_ROUNDS):
            try:
                packet = self.concrete()
                for load in self.meaning.path.loads:
                    load.evaluate(packet)
                for condition in conditions:
                    if not condition.holds(packet):
                        return condition
                return None
            except OutOfBounds as error:
                self._grow(error)
            except Unmodelled as error:
                raise _Unsolvable(MESSAGES("unmodelled", what=str(error))) from None
            except _Drop:
                raise _Unsolvable(MESSAGES("unmodelled", what="division by zero")) from None
        raise _Unsolvable(MESSAGES("unsolved", condition="packet length"))

    def _grow(self, error: OutOfBounds) -> None:
        if error.space is not Space.PACKET or error.address >= MAX_PACKET or error.address < 0:
            raise _Unsolvable(MESSAGES("unsolved", condition=str(error)))
        needed = error.address + error.size
        self.frame.extend(bytes(needed - len(self.frame)))

    def _satisfy(self, condition: Condition) -> None:
        packet = self.concrete()
        right = condition.right.evaluate(packet)
        target = _target(condition.left)
        if isinstance(target, Length):
            self._set_length(condition, right)
            return
        if isinstance(target, Ancillary):
            self._set_metadata(condition, target, right)
            return
        if target is None or target.space is not Space.PACKET:
            raise _Unsolvable(MESSAGES("unsolved", condition=str(condition)))
        address = target.address.evaluate(packet)
        current = target.evaluate(packet)

        def works(value: int) -> bool:
            left = substitute(condition.left, target, value)
            try:
                return condition.relation.holds(left.evaluate(packet), right)
            except (_Drop, OutOfBounds, Unmodelled):
                return False

        value = self._search(target.size, current, condition, right, works)
        self.frame[address : address + target.size] = value.to_bytes(target.size, "big")

    def _search(
        self,
        size: int,
        current: int,
        condition: Condition,
        right: int,
        works: Callable[[int], bool],
    ) -> int:
        limit = (1 << (8 * size)) - 1
        for candidate in _candidates(condition.left, right, current, limit):
            if 0 <= candidate <= limit and works(candidate):
                return candidate
        exhaustive = (
            range(limit + 1)
            if size <= 2
            else (self.random.randrange(limit + 1) for _ in range(1 << 14))
        )
        for candidate in exhaustive:
            if works(candidate):
                return candidate
        raise _Unsolvable(MESSAGES("unsolved", condition=str(condition)))

    def _set_length(self, condition: Condition, right: int) -> None:
        for length in (right, right + 1, right - 1, len(self.frame) + 1):
            if len(self.frame) <= length <= MAX_PACKET and condition.relation.holds(length, right):
                self.frame.extend(bytes(length - len(self.frame)))
                return
        raise _Unsolvable(MESSAGES("unsolved", condition=str(condition)))

    def _set_metadata(self, condition: Condition, field: Ancillary, right: int) -> None:
        names = {
            0: "protocol",
            4: "pkttype",
            8: "ifindex",
            20: "mark",
            24: "queue",
            28: "hatype",
            32: "rxhash",
            36: "cpu",
            44: "vlan_tci",
            48: "vlan_present",
            56: "random",
            60: "vlan_tpid",
        }
        name = names.get(field.field)
        if name is None:
            raise _Unsolvable(MESSAGES("unmodelled", what=str(field)))
        for value in (right, right + 1, right - 1, 0, 1):
            if value >= 0 and condition.relation.holds(value, right):
                new_value: int | bool = bool(value) if name == "vlan_present" else value
                self.meta = replace(self.meta, **cast(dict[str, Any], {name: new_value}))
                if name == "protocol" and self.link is Link.ETHERNET:
                    self.frame[12:14] = (value & 0xFFFF).to_bytes(2, "big")
                else:
                    self.notes.append(MESSAGES("metadata", fields=f"{name}={value}"))
                return
        raise _Unsolvable(MESSAGES("unsolved", condition=str(condition)))


def _target(left: Expr) -> Load | Length | Ancillary | None:
    """The one input that `left` compares most directly: what the solver changes."""
    load, _ = masked_load(left)
    if load is not None:
        return load
    if isinstance(left, Length | Ancillary | Load):
        return left
    if isinstance(left, Binary):
        for side in (left.left, left.right):
            found = _target(side)
            if found is not None:
                return found
    return None


def _candidates(left: Expr, right: int, current: int, limit: int) -> Iterator[int]:
    """Values worth trying first: the compared constant, its neighbours, and the current
    value with the constant's bits put in or taken out under each mask of the expression."""
    masks = [
        node.right.value
        for node in _nodes(left)
        if isinstance(node, Binary) and isinstance(node.right, Const)
    ]
    yield current
    for value in (right, right + 1, right - 1, 0, limit, current | right, current & ~right):
        yield value & limit
    for mask in masks:
        yield (current & ~mask) | (right & mask)
        yield (current & ~mask) | (~right & mask)
        yield current ^ (mask & -mask)
        for shift in range(1, 8):
            yield (right << shift) & limit
            yield right >> shift


def _nodes(expr: Expr) -> Iterator[Expr]:
    yield expr
    if isinstance(expr, Binary):
        yield from _nodes(expr.left)
        yield from _nodes(expr.right)


def synthesize(
    program: Program, link: Link, meaning: PathMeaning, index: int
) -> Probe | ProbeFailure:
    """A packet that `program` accepts along the path of `meaning`."""
    solver = _Solver(link, meaning, seed=index)
    try:
        solver.solve()
    except _Unsolvable as error:
        return ProbeFailure(index, error.reason)
    solved = bytes(solver.frame)
    conditions = meaning.path.conditions
    notes = list(solver.notes)
    # As a sender's stack would: lengths and checksums right, unless the path wants them not.
    candidates = [
        (finish(base, link, lengths=lengths, checksums=checksums), base)
        for base in dict.fromkeys((grow_to_claimed_length(solved, link, MAX_PACKET), solved))
        for lengths, checksums in ((True, True), (False, True), (False, False))
    ]
    frame, raw = solved, solved
    for candidate, base in candidates:
        try:
            if all(
                condition.holds(Concrete(candidate, link, solver.meta)) for condition in conditions
            ):
                frame, raw = candidate, base
                break
        except (OutOfBounds, Unmodelled, _Drop):
            continue
    if frame != finish(raw, link):
        notes.append(MESSAGES("bad_checksums"))
    accepted = execute(program, frame, link=link, meta=solver.meta)
    if not accepted:
        return ProbeFailure(index, MESSAGES("unsolved", condition="the whole path"))
    if meaning.link_fields:
        notes.append(MESSAGES("link_fields"))
    if meaning.network not in ("ipv4", "ipv6"):
        notes.append(MESSAGES("not_ip"))
    if link is Link.ETHERNET and frame[12:14] in (b"\x81\x00", b"\x88\xa8", b"\x91\x00"):
        notes.append(MESSAGES("vlan"))
    packet = frame[link.network_offset :]
    return Probe(
        index,
        meaning.network,
        meaning.transport,
        frame,
        packet,
        accepted,
        solver.meta,
        tuple(dict.fromkeys(notes)),
    )


__all__ = ["Probe", "ProbeFailure", "synthesize"]
