"""Magic values published for BPFDoor and its variants (BPFDOOR.md §2).

They are extra evidence only: operators configure their own values, so the classifier flags any
payload compare against a constant, and this table just names the ones already seen.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KnownMagic:
    value: int
    width: int  # bytes
    note: str

    def forms(self) -> dict[str, bytes]:
        """The magic's bytes as a filter may compare them: network order, and host order of a
        little-endian build that forgot htons()."""
        big = self.value.to_bytes(self.width, "big")
        return {"big-endian": big, "little-endian": big[::-1]}


KNOWN_MAGICS: tuple[KnownMagic, ...] = (
    KnownMagic(0x5293, 2, "BPFDoor classic TCP magic"),
    KnownMagic(0x7255, 2, "BPFDoor classic UDP/ICMP magic"),
    KnownMagic(0x39393939, 4, 'BPFDoor newer filters ("9999")'),
    KnownMagic(0x8D6C, 2, "BPFDoor newer filter"),
    KnownMagic(0x9F4F, 2, "BPFDoor newer filter"),
    KnownMagic(0x5571, 2, "BPFDoor 2025 controller option"),
    KnownMagic(0xDEAD, 2, "BPFDoor 2026 variant"),
    *(
        KnownMagic(value, 2, "BPFDoor 2026 magic list")
        for value in (0x270F, 0x2048, 0x1155, 0x5433, 0x3182, 0x1051, 0x3321)
    ),
)


@dataclass(frozen=True, slots=True)
class MagicMatch:
    magic: KnownMagic
    byte_order: str
    offset: int  # within the compared payload bytes


def find_known_magics(value: bytes, mask: bytes) -> list[MagicMatch]:
    """Known magics whose bytes appear, fully fixed, inside compared payload bytes."""
    matches: list[MagicMatch] = []
    for magic in KNOWN_MAGICS:
        for order, form in magic.forms().items():
            for start in range(len(value) - len(form) + 1):
                window = slice(start, start + len(form))
                if value[window] == form and all(byte == 0xFF for byte in mask[window]):
                    matches.append(MagicMatch(magic, order, start))
            if form == form[::-1]:
                break  # a palindrome has one form
    return matches


__all__ = ["KNOWN_MAGICS", "KnownMagic", "MagicMatch", "find_known_magics"]
