"""Symbolic paths are sound: every packet the interpreter accepts follows a listed path whose
conditions hold on it, and the search respects its budgets."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from doorhunt.bpf import opcodes as op
from doorhunt.bpf.examples import EXAMPLES
from doorhunt.bpf.explain import explain
from doorhunt.bpf.expr import Concrete, Unmodelled
from doorhunt.bpf.interpreter import Link, Metadata, execute
from doorhunt.bpf.paths import Relation, explore
from doorhunt.bpf.program import Program
from tests.bpf.strategies import frames, ipv4_frames, programs


@given(
    programs(max_length=40, ancillary=tuple(op.ANCILLARY)), frames(), st.sampled_from(list(Link))
)
def test_every_accepted_packet_follows_a_listed_path(
    program: Program, frame: bytes, link: Link
) -> None:
    packet = frame if link is Link.ETHERNET else frame[14:]
    meta = Metadata(link_header=frame[:14])
    trace: list[int] = []
    accepted = execute(program, packet, link=link, meta=meta, trace=trace)
    analysis = explore(program, link)
    if not accepted or not analysis.exhaustive:
        return
    followed = [path for path in analysis.paths if list(path.instructions) == trace]
    assert followed, f"no listed path for trace {trace}"
    concrete = Concrete(packet, link, meta)
    for condition in followed[0].conditions:
        try:
            holds = condition.holds(concrete)
        except Unmodelled:
            continue  # netlink attribute searches are not modelled (docs/bpf.md, Limits)
        assert holds, f"{condition} fails on the packet that took the path"


@given(ipv4_frames())
def test_bpfdoor_paths_cover_the_packets_it_accepts(frame: bytes) -> None:
    program = EXAMPLES["bpfdoor-classic"].build()
    trace: list[int] = []
    if execute(program, frame, trace=trace):
        assert trace in [list(p.instructions) for p in explore(program).paths]


def test_only_accepting_paths_are_listed() -> None:
    analysis = explore(EXAMPLES["bpfdoor-classic"].build())
    assert len(analysis.paths) == 3
    assert all(path.instructions[-1] == 28 for path in analysis.paths)
    assert analysis.exhaustive and analysis.complete


def test_contradictory_branches_are_pruned() -> None:
    # ldh [12] == 0x800 and then ldb [12] == 0x86 cannot both hold.
    program = Program.of(
        [
            (op.LD | op.H | op.ABS, 0, 0, 12),
            (op.JMP | op.JEQ | op.K, 0, 3, 0x800),
            (op.LD | op.B | op.ABS, 0, 0, 12),
            (op.JMP | op.JEQ | op.K, 0, 1, 0x86),
            (op.RET | op.K, 0, 0, 1),
            (op.RET | op.K, 0, 0, 0),
        ]
    )
    assert explore(program).paths == ()


def test_unoptimised_arithmetic_compare_reads_as_equality() -> None:
    # libpcap -O emits `sub #magic; jeq #0`.
    program = Program.of(
        [
            (op.LD | op.H | op.ABS, 0, 0, 42),
            (op.ALU | op.SUB | op.K, 0, 0, 0x7255),
            (op.JMP | op.JEQ | op.K, 0, 1, 0),
            (op.RET | op.K, 0, 0, 1),
            (op.RET | op.K, 0, 0, 0),
        ]
    )
    (path,) = explore(program).paths
    (condition,) = path.conditions
    assert condition.relation is Relation.EQ
    assert str(condition) == "pkt[0x2a:2] == 0x7255"


def _exponential_program(pairs: int) -> Program:
    # (a1 or b1) and (a2 or b2) and ...: 2**pairs accepting paths.
    instructions = []
    for index in range(pairs):
        instructions += [
            (op.LD | op.B | op.ABS, 0, 0, index),
            (op.JMP | op.JEQ | op.K, 1, 0, 1),
            (op.JMP | op.JEQ | op.K, 0, 3 * (pairs - index) - 2, 2),
        ]
    instructions += [(op.RET | op.K, 0, 0, 1), (op.RET | op.K, 0, 0, 0)]
    return Program.of(instructions)


def test_exponential_programs_stop_listing_but_cover_every_comparison() -> None:
    program = _exponential_program(20)
    started = time.perf_counter()
    analysis = explore(program, max_paths=64)
    elapsed = time.perf_counter() - started
    assert not analysis.exhaustive and analysis.complete
    assert elapsed < 5
    covered = {(c.pc, c.relation) for path in analysis.paths for c in path.conditions}
    for pc in range(1, 60, 3):
        assert (pc, Relation.EQ) in covered and (pc + 1, Relation.EQ) in covered
    assert len(analysis.paths) <= 64 + 2 * len(program)


def test_step_budget_is_reported_as_incomplete() -> None:
    analysis = explore(_exponential_program(20), max_paths=10**9, max_steps=1000)
    assert not analysis.complete
    assert "stopped after" in " ".join(
        map(
            str,
            explain(
                _exponential_program(20), max_paths=10**9, max_steps=1000
            ).classification.reasons,
        )
    )
