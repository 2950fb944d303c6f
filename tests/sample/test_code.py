"""The code sweep: stack buffers rebuilt from stores, immediates collected, registers forgotten
when an unmodelled instruction writes them."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorhunt.sample import code as code_module
from doorhunt.sample.artefacts import CODE_CONSTANTS
from doorhunt.sample.code import CodeScan, sweep_code
from doorhunt.sample.elf import load_image
from doorhunt.sample.filters import find_filter_arrays
from doorhunt.sample.strings import stack_strings
from tests.sample.builds import Samples, require_module
from tests.sample.elf_builder import SHF_ALLOC, SHF_EXECINSTR, ElfSpec, Section, build_elf


@pytest.fixture(autouse=True, scope="module")
def _capstone() -> None:
    require_module("capstone", "capstone")


def sweep(code: bytes, bits: int = 64, wanted: tuple[tuple[int, int], ...] = ()) -> CodeScan:
    spec = ElfSpec(
        bits=bits,
        machine=62 if bits == 64 else 3,
        sections=[Section(".text", code, SHF_ALLOC | SHF_EXECINSTR)],
    )
    result = sweep_code(load_image(build_elf(spec)), wanted)
    assert result is not None
    return result


def test_immediate_stores_rebuild_a_stack_string() -> None:
    # mov dword [rbp-0x10], 'dh-t'; mov dword [rbp-0xc], 'est\0'; ret
    code = bytes.fromhex("c745f0") + b"dh-t" + bytes.fromhex("c745f4") + b"est\0" + b"\xc3"
    result = sweep(code)
    assert [s.value for s in stack_strings(result.buffers)] == ["dh-test"]
    assert result.buffers[0].frame == "bp" and result.buffers[0].frame_offset == -0x10


def test_a_register_loaded_with_an_immediate_is_followed_into_a_store() -> None:
    # movabs rax, 'password'; mov [rsp+0x20], rax; mov byte [rsp+0x28], 0; ret
    code = (
        b"\x48\xb8"
        + b"password"
        + bytes.fromhex("4889442420")
        + bytes.fromhex("c644242800")
        + b"\xc3"
    )
    assert [s.value for s in stack_strings(sweep(code).buffers)] == ["password"]


def test_a_register_written_by_another_instruction_is_forgotten() -> None:
    # movabs rax, 'password'; lea rax, [rsp+8]; mov [rsp+0x20], rax; ret
    code = b"\x48\xb8" + b"password" + bytes.fromhex("488d442408") + bytes.fromhex("4889442420")
    assert sweep(code + b"\xc3").buffers == ()


def test_immediates_are_kept_in_every_form_a_compiler_writes() -> None:
    # mov edx, 0xffffa597 (42391 sign-extended); cmp eax, 0x490a083c; ret
    code = b"\xba\x97\xa5\xff\xff" + b"\x3d\x3c\x08\x0a\x49" + b"\xc3"
    result = sweep(code, wanted=((42391, 16), (1225394236, 32), (43390, 16)))
    assert result.has_constant(42391, 16)
    assert result.has_constant(1225394236, 32)
    assert not result.has_constant(43390, 16)


def test_the_32_bit_sweep_works_on_ebp_frames() -> None:
    code = bytes.fromhex("c745e8") + b"kdmt" + bytes.fromhex("c745ec") + b"mp\0\0" + b"\xc3"
    assert [s.value for s in stack_strings(sweep(code, bits=32).buffers)] == ["kdmtmp"]


@pytest.mark.parametrize("build", ["classic-x86-64-O0", "classic-x86-64-O2", "variant-2025-static"])
def test_stack_built_filters_and_passwords_are_rebuilt(samples: Samples, build: str) -> None:
    result = sweep_code(load_image(samples.data(build)), CODE_CONSTANTS)
    assert result is not None and result.complete
    assert all(
        result.has_constant(value, bits) for value, bits in CODE_CONSTANTS[:4] if value != 43391
    )
    programs = [a.program for b in result.buffers for a in find_filter_arrays(b.data)]
    assert len(programs) == 1 and len(programs[0]) == 30
    values = {s.value for s in stack_strings(result.buffers)}
    assert {"dh-test-pass-A", "dh-test-pass-B"} <= values


def test_code_without_text_or_filter_stores_is_not_decoded() -> None:
    # mov dword [rbp-0x10], 1; mov dword [rbp-0xc], 2; mov qword [rsp+8], 0: counters, no text.
    code = bytes.fromhex("c745f001000000c745f40200000048c744240800000000c3")
    result = sweep(code * 50)
    assert result.instructions == 0 and result.buffers == () and result.complete


def test_the_most_interesting_runs_are_decoded_first_within_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    short = bytes.fromhex("c745f0") + b"abcd" + bytes.fromhex("c745f4") + b"efg\0" + b"\xc3"
    # mov dword [rbp-0x40+4i], "wxyz" eight times: the longer text, decoded first.
    long = b"".join(
        bytes.fromhex("c785") + ((-0x40 + 4 * i) & 0xFFFFFFFF).to_bytes(4, "little") + b"wxyz"
        for i in range(8)
    )
    # The long run's window (48 nops before it, 8 stores, a ret) fits the budget; the short
    # one, decoded after it, is cut.
    monkeypatch.setattr(code_module, "MAX_INSTRUCTIONS", 60)
    result = sweep(short + b"\x90" * 200 + long + b"\xc3")
    assert not result.complete and result.instructions <= 61
    assert "wxyz" * 8 in {s.value for s in stack_strings(result.buffers)}


def test_an_unsupported_machine_gives_no_sweep() -> None:
    image = load_image(build_elf(ElfSpec(machine=8, sections=[Section(".text", b"\0" * 8, 6)])))
    assert sweep_code(image) is None


@settings(max_examples=40)
@given(st.binary(max_size=4096), st.sampled_from([32, 64]))
def test_any_code_bytes_are_swept_without_error(code: bytes, bits: int) -> None:
    result = sweep(code, bits)
    assert result.instructions <= len(code)
    for buffer in result.buffers:
        assert len(buffer.data) >= 4
