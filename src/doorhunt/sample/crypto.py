"""Crypto library markers: which TLS or crypto library a sample carries, and RC4.

BPFDoor's shells encrypt their traffic with RC4 keyed by the password (BPFDOOR.md §1 step 7);
builds from 2023 on link a TLS library statically (BPFDOOR.md §1). Each marker names its
evidence, how sure it is, and where it is:

- `version-string` (high): the text each library compiles in: OpenSSL's OPENSSL_VERSION_TEXT
  ("OpenSSL 3.0.11 19 Sep 2023"), LibreSSL's, mbed TLS's MBEDTLS_VERSION_STRING_FULL
  ("mbed TLS 2.28.3"; PolarSSL before 2015), LibTomCrypt's crypt_build_settings
  ("LibTomCrypt 1.18.2"), wolfSSL's and BoringSSL's names;
- `shared-library` (high): a library the dynamic linker loads (libssl.so.3, libmbedtls.so.14,
  ...), with its soname version; `symbol-version` (high): OpenSSL's symbol version tags
  (OPENSSL_3.0.0), the oldest release the file needs;
- `symbol` (medium): function names of an unstripped file (SSL_CTX_new, mbedtls_ssl_setup,
  wolfSSL_new, anything named rc4/arc4);
- `constant` (medium): an algorithm's tables (the AES S-box and T-table, SHA-256 and MD5
  round constants, Blowfish's P-array, ChaCha's "expand 32-byte k"): the algorithm, not the
  library;
- `code` (medium): an RC4 key schedule in x86 code, found by its shape: a loop bounded by 256
  whose body takes the key index modulo the key length (div) and swaps two bytes of the state.
  RC4 has no constant table; this shape is what every RC4 setup compiles to at any -O level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from doorhunt.sample.code import disassembler_for, supported_architecture
from doorhunt.sample.elf import ElfImage
from doorhunt.sample.strings import Confidence, JoinedStrings, Place

MAX_MARKERS = 64
MAX_PLACES = 4
MAX_MATCHES = 5_000
MAX_SYMBOLS = 200_000
MAX_RC4_ANCHORS = 256  # loop-bound compares examined in one file
RC4_LOOKBACK = 192  # bytes decoded before a loop-bound compare: a key-schedule body fits

# Each pattern starts with a literal (a fast search); the word boundary before it is checked
# afterwards.
_VERSION = r" (?P<version>\d+\.\d+\.\d+[a-z]{0,2})(?![\w.])"
_VERSION_STRINGS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("OpenSSL", re.compile(r"OpenSSL" + _VERSION)),
    ("LibreSSL", re.compile(r"LibreSSL" + _VERSION)),
    ("BoringSSL", re.compile(r"BoringSSL(?P<version>)(?!\w)")),
    ("mbed TLS", re.compile(r"mbed TLS" + _VERSION)),
    ("mbed TLS", re.compile(r"Mbed TLS" + _VERSION)),
    ("mbed TLS", re.compile(r"mbedTLS" + _VERSION)),
    ("mbed TLS", re.compile(r"PolarSSL" + _VERSION)),
    ("wolfSSL", re.compile(r"wolfSSL(?:" + _VERSION + r")?(?!\w)")),
    ("LibTomCrypt", re.compile(r"LibTomCrypt (?P<version>\d+\.\d+(?:\.\d+)?)(?![\w.])")),
    ("GnuTLS", re.compile(r"GnuTLS" + _VERSION)),
)
_SHARED_LIBRARY = re.compile(
    r"lib(?P<name>ssl|crypto|mbedtls|mbedcrypto|mbedx509|wolfssl|tomcrypt|gnutls|gcrypt"
    r"|nettle|sodium)\.so(?:\.(?P<version>\d+(?:\.\d+){0,3}))?(?![\w.])"
)
_LIBRARY_NAMES = {
    "ssl": "OpenSSL",
    "crypto": "OpenSSL",
    "mbedtls": "mbed TLS",
    "mbedcrypto": "mbed TLS",
    "mbedx509": "mbed TLS",
    "wolfssl": "wolfSSL",
    "tomcrypt": "LibTomCrypt",
    "gnutls": "GnuTLS",
    "gcrypt": "libgcrypt",
    "nettle": "Nettle",
    "sodium": "libsodium",
}
_SYMBOL_VERSION = re.compile(r"OPENSSL_(?P<version>\d+\.\d+\.\d+[a-z]?)(?![\w.])")
# Function names each library's API starts with (their headers), and RC4's usual names.
_SYMBOL_PREFIXES = (
    ("SSL_CTX_new", "OpenSSL"),
    ("EVP_CipherInit", "OpenSSL"),
    ("mbedtls_ssl_setup", "mbed TLS"),
    ("mbedtls_", "mbed TLS"),
    ("wolfSSL_", "wolfSSL"),
    ("register_cipher", "LibTomCrypt"),
    ("gnutls_init", "GnuTLS"),
)
_RC4_SYMBOL = re.compile(r"(?i)(?:^|[_.])a?rc4(?:$|[_.]|init|setup|crypt|key|set)")
# Algorithm tables, little- and big-endian where the table is of words (FIPS 197, FIPS 180-4,
# RFC 1321, Schneier's Blowfish, RFC 8439).
_CONSTANTS: tuple[tuple[str, bytes], ...] = (
    ("AES", bytes.fromhex("637c777bf26b6fc53001672bfed7ab76")),  # S-box
    ("AES", bytes.fromhex("a56363c6847c7cf8997777ee8d7b7bf6")),  # Te0, little-endian
    ("AES", bytes.fromhex("c66363a5f87c7c84ee777799f67b7b8d")),  # Te0, big-endian
    ("SHA-256", bytes.fromhex("982f8a4291443771")),  # K, little-endian
    ("SHA-256", bytes.fromhex("428a2f9871374491")),  # K, big-endian
    ("MD5", bytes.fromhex("78a46ad756b7c7e8db702024eecebdc1")),  # T, little-endian
    ("Blowfish", bytes.fromhex("886a3f24d308a3852e8a191344737003")),  # P-array, little-endian
    ("ChaCha20", b"expand 32-byte k"),
)
# cmp with 0xff or 0x100 as a 32-bit immediate (Intel SDM, CMP 81 /7 and 3D): register,
# [rbp+disp8], [rsp+disp8], [rbp+disp32], [rsp+disp32]; a loop over the 256 bytes of a state.
_LOOP_BOUNDS = (
    re.compile(
        rb"\x81(?:[\xf8-\xff]|\x7d.|\x7c\x24.|\xbd....|\xbc\x24....)(?:\x00\x01|\xff\x00)\x00\x00",
        re.DOTALL,
    ),
    re.compile(rb"\x3d(?:\x00\x01|\xff\x00)\x00\x00"),
)
_DIVIDE = re.compile(rb"\xf7[\x30-\x3f\x70-\x7f\xb0-\xbf\xf0-\xff]")
# A byte stored to memory that is not the stack frame: the state array (the swap).
_STATE_STORE = re.compile(r"^byte ptr \[(?!rbp|ebp|rsp|esp)[a-z0-9]+[^\]]*\], [a-z0-9]+$")


@dataclass(frozen=True, slots=True)
class CryptoMarker:
    library: str | None  # None when only the algorithm is known
    algorithm: str | None
    version: str | None
    evidence: str  # version-string, shared-library, symbol-version, symbol, constant, code
    value: str  # the text, symbol or description that is the evidence
    confidence: Confidence
    places: tuple[Place, ...]

    def to_json(self) -> dict[str, object]:
        return {
            "library": self.library,
            "algorithm": self.algorithm,
            "version": self.version,
            "evidence": self.evidence,
            "value": self.value,
            "confidence": self.confidence.value,
            "places": [place.to_json() for place in self.places],
        }


def find_crypto_markers(
    joined: JoinedStrings,
    image: ElfImage | None,
    data: bytes,
    spans: Sequence[tuple[int, int]],
) -> list[CryptoMarker]:
    """Every marker, merged by (library, algorithm, version, evidence), at most MAX_MARKERS."""
    markers = [
        *_from_strings(joined),
        *_from_symbols(image),
        *_from_constants(data, spans),
        *(_rc4_key_schedules(image) if image is not None else ()),
    ]
    merged: dict[tuple[str | None, str | None, str | None, str], CryptoMarker] = {}
    for marker in markers:
        key = (marker.library, marker.algorithm, marker.version, marker.evidence)
        known = merged.get(key)
        if known is None:
            merged[key] = marker
        elif len(known.places) < MAX_PLACES:
            merged[key] = CryptoMarker(
                known.library,
                known.algorithm,
                known.version,
                known.evidence,
                known.value,
                known.confidence,
                (*known.places, *marker.places),
            )
    return list(merged.values())[:MAX_MARKERS]


def _from_strings(joined: JoinedStrings) -> Iterator[CryptoMarker]:
    text = joined.text
    for library, pattern in _VERSION_STRINGS:
        for count, match in enumerate(pattern.finditer(text)):
            if count >= MAX_MATCHES:
                break
            if not _word_starts(text, match.start()):
                continue
            version = match.group("version") or None
            yield CryptoMarker(
                library,
                None,
                version,
                "version-string",
                match.group(),
                Confidence.HIGH,
                (joined.place(match.start()),),
            )
    for count, match in enumerate(_SHARED_LIBRARY.finditer(text)):
        if count >= MAX_MATCHES:
            break
        if not _word_starts(text, match.start()):
            continue
        yield CryptoMarker(
            _LIBRARY_NAMES[match.group("name")],
            None,
            match.group("version"),
            "shared-library",
            match.group(),
            Confidence.HIGH,
            (joined.place(match.start()),),
        )
    versions = {
        match.group("version"): match
        for match in _SYMBOL_VERSION.finditer(text)
        if _word_starts(text, match.start())
    }
    if versions:
        oldest = min(versions, key=_version_key)
        newest = max(versions, key=_version_key)
        yield CryptoMarker(
            "OpenSSL",
            None,
            newest,
            "symbol-version",
            f"OPENSSL_{oldest}..OPENSSL_{newest}" if oldest != newest else f"OPENSSL_{newest}",
            Confidence.HIGH,
            (joined.place(versions[newest].start()),),
        )


def _word_starts(text: str, position: int) -> bool:
    return position == 0 or not (text[position - 1].isalnum() or text[position - 1] == "_")


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _from_symbols(image: ElfImage | None) -> Iterator[CryptoMarker]:
    if image is None:
        return
    libraries: dict[str, str] = {}
    rc4: set[str] = set()
    for count, name in enumerate(image.symbols | image.dynamic_symbols):
        if count >= MAX_SYMBOLS:
            break
        for prefix, library in _SYMBOL_PREFIXES:
            if name.startswith(prefix) and name < libraries.get(library, "\U0010ffff"):
                libraries[library] = name
        if "rc4" in name.lower() and _RC4_SYMBOL.search(name):
            rc4.add(name)
    for library, name in sorted(libraries.items()):
        yield CryptoMarker(library, None, None, "symbol", name, Confidence.MEDIUM, ())
    if rc4:
        names = ", ".join(sorted(rc4)[:MAX_PLACES])
        yield CryptoMarker(None, "RC4", None, "symbol", names, Confidence.MEDIUM, ())


def _from_constants(data: bytes, spans: Iterable[tuple[int, int]]) -> Iterator[CryptoMarker]:
    seen: set[str] = set()
    for start, end in spans:
        for algorithm, table in _CONSTANTS:
            if algorithm in seen:
                continue
            position = data.find(table, start, end)
            if position != -1:
                seen.add(algorithm)
                yield CryptoMarker(
                    None,
                    algorithm,
                    None,
                    "constant",
                    f"{algorithm} table",
                    Confidence.MEDIUM,
                    (Place("file", position),),
                )


def _rc4_key_schedules(image: ElfImage) -> Iterator[CryptoMarker]:
    """Loops of the RC4 key schedule's shape (see the module's docstring), x86 and x86-64."""
    if supported_architecture(image) is None:
        return
    disassembler = disassembler_for(image.header.elf_class)
    if disassembler is None:
        return
    anchors = 0
    for region in image.code_regions:
        code = image.data[region.offset : region.end]
        bounds = sorted(m.start() for pattern in _LOOP_BOUNDS for m in pattern.finditer(code))
        for bound in bounds:
            anchors += 1
            if anchors > MAX_RC4_ANCHORS:
                return
            # Decode only where the bytes before the compare hold a div/idiv (F7 /6, F7 /7).
            if not _DIVIDE.search(code, max(0, bound - RC4_LOOKBACK), bound):
                continue
            start = _rc4_loop_start(disassembler, code, region.address, bound)
            if start is not None:
                yield CryptoMarker(
                    None,
                    "RC4",
                    None,
                    "code",
                    f"key schedule loop at {start:#x}",
                    Confidence.MEDIUM,
                    (Place("code", address=start),),
                )


def _rc4_loop_start(disassembler: object, code: bytes, base: int, anchor: int) -> int | None:
    """The address of the loop that the compare at `anchor` closes, when its body has the
    key schedule's modulo and byte swap."""
    first = max(0, anchor - RC4_LOOKBACK)
    window = code[first : anchor + 24]
    instructions = list(disassembler.disasm_lite(window, base + first))  # type: ignore[attr-defined]
    compare_at = base + anchor
    for index, (address, _size, mnemonic, operands) in enumerate(instructions):
        if not (compare_at - 1 <= address <= compare_at and mnemonic == "cmp"):
            continue
        if not operands.endswith((", 0xff", ", 0x100")):
            return None
        for _, _, jump, target_text in instructions[index + 1 : index + 3]:
            if not jump.startswith("j") or jump == "jmp":
                continue
            try:
                target = int(target_text, 16)
            except ValueError:
                return None
            body = [insn for insn in instructions[:index] if target <= insn[0]]
            if target >= address or not body or body[0][0] != target:
                return None
            divides = any(insn[2] in ("div", "idiv") for insn in body)
            swaps = sum(1 for insn in body if insn[2] == "mov" and _STATE_STORE.match(insn[3]))
            loads = sum(1 for insn in body if insn[2] == "movzx" and "byte ptr" in insn[3])
            return target if divides and swaps >= 2 and loads >= 2 else None
        return None
    return None


__all__ = ["CryptoMarker", "find_crypto_markers"]
