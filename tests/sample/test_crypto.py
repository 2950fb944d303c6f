"""Crypto library markers: version strings, shared libraries, symbols, tables, RC4 in code."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from doorhunt.sample.crypto import MAX_MARKERS, find_crypto_markers
from doorhunt.sample.elf import load_image
from doorhunt.sample.strings import JoinedStrings, TextString
from tests.sample.builds import Samples, require_module
from tests.sample.elf_builder import SHF_ALLOC, SHF_EXECINSTR, ElfSpec, Section, build_elf


def markers(*values: str, data: bytes = b"") -> set[tuple[str | None, str | None, str | None, str]]:
    strings = [TextString(v, "file", 100 * i) for i, v in enumerate(values)]
    found = find_crypto_markers(JoinedStrings.of(strings), None, data, [(0, len(data))])
    return {(m.library, m.algorithm, m.version, m.evidence) for m in found}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("OpenSSL 3.0.11 19 Sep 2023", ("OpenSSL", None, "3.0.11", "version-string")),
        ("OpenSSL 1.1.1w  11 Sep 2023", ("OpenSSL", None, "1.1.1w", "version-string")),
        ("LibreSSL 3.8.2", ("LibreSSL", None, "3.8.2", "version-string")),
        ("mbed TLS 2.28.3", ("mbed TLS", None, "2.28.3", "version-string")),
        ("Mbed TLS 3.5.1", ("mbed TLS", None, "3.5.1", "version-string")),
        ("PolarSSL 1.3.9", ("mbed TLS", None, "1.3.9", "version-string")),
        ("LibTomCrypt 1.18.2 (www.libtom.net)", ("LibTomCrypt", None, "1.18.2", "version-string")),
        ("libssl.so.3", ("OpenSSL", None, "3", "shared-library")),
        ("libmbedtls.so.14", ("mbed TLS", None, "14", "shared-library")),
        ("libwolfssl.so.35", ("wolfSSL", None, "35", "shared-library")),
        ("libtomcrypt.so.1", ("LibTomCrypt", None, "1", "shared-library")),
    ],
)
def test_library_strings_give_the_library_and_its_version(
    text: str, expected: tuple[str | None, str | None, str | None, str]
) -> None:
    assert markers(text) == {expected}


def test_symbol_version_tags_give_the_newest_release_needed() -> None:
    found = find_crypto_markers(
        JoinedStrings.of(
            [
                TextString(v, "file", i)
                for i, v in enumerate(["OPENSSL_3.0.0", "OPENSSL_3.0.9", "OPENSSL_1_1_0"])
            ]
        ),
        None,
        b"",
        [],
    )
    [marker] = found
    assert (marker.version, marker.value) == ("3.0.9", "OPENSSL_3.0.0..OPENSSL_3.0.9")


@pytest.mark.parametrize(
    "text", ["NotOpenSSL 3.0.1", "myOpenSSL 1.0.0", "libssl.so.3.bak.old", "xlibcrypto.so.3"]
)
def test_parts_of_longer_words_are_not_markers(text: str) -> None:
    assert markers(text) == set()


def test_algorithm_tables_name_the_algorithm() -> None:
    sbox = bytes.fromhex("637c777bf26b6fc53001672bfed7ab76")
    sha256 = bytes.fromhex("428a2f9871374491")
    assert markers(data=b"\0" * 33 + sbox + b"\0" + sha256) == {
        (None, "AES", None, "constant"),
        (None, "SHA-256", None, "constant"),
    }


def test_rc4_key_schedule_is_found_in_every_build_with_one_and_no_other(samples: Samples) -> None:
    require_module("capstone", "capstone")
    for name, expected in (("classic-x86-64-O2", True), ("classic-x86-32", True)):
        image = load_image(samples.data(name))
        found = find_crypto_markers(JoinedStrings.of([]), image, image.data, [])
        assert any(m.algorithm == "RC4" and m.evidence == "code" for m in found) is expected
    image = load_image(samples.data("classic-x86-32-O2"))  # built without the RC4 routine
    assert find_crypto_markers(JoinedStrings.of([]), image, image.data, []) == []


def test_a_loop_without_a_swap_is_not_rc4() -> None:
    require_module("capstone", "capstone")
    # xor ecx, ecx; L: mov byte [rdi+rcx], cl; add rcx, 1; cmp rcx, 0x100; jne L; ret
    code = bytes.fromhex("31c9880c0f4883c1014881f90001000075f0c3")
    image = load_image(
        build_elf(ElfSpec(sections=[Section(".text", code, SHF_ALLOC | SHF_EXECINSTR)]))
    )
    assert find_crypto_markers(JoinedStrings.of([]), image, image.data, []) == []


@settings(max_examples=100)
@given(st.lists(st.text(max_size=60), max_size=20), st.binary(max_size=512))
def test_any_strings_and_bytes_give_bounded_markers(values: list[str], data: bytes) -> None:
    strings = [TextString(v.replace("\n", " "), "file", i) for i, v in enumerate(values) if v]
    found = find_crypto_markers(JoinedStrings.of(strings), None, data, [(0, len(data))])
    assert len(found) <= MAX_MARKERS
    for marker in found:
        marker.to_json()
