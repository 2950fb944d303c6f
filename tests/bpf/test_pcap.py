"""Classic pcap files: written, read back, and damaged ones refused with a location."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorhunt.bpf.interpreter import Link
from doorhunt.bpf.pcap import PcapError, read_pcap, write_pcap


@given(st.lists(st.binary(max_size=100), max_size=20), st.sampled_from(list(Link)))
def test_round_trip(packets: list[bytes], link: Link) -> None:
    stream = io.BytesIO()
    write_pcap(stream, packets, link)
    stream.seek(0)
    capture = read_pcap(stream)
    assert capture.link is link
    assert list(capture.packets) == packets


def test_big_endian_nanosecond_files_are_read() -> None:
    header = struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)
    record = struct.pack(">IIII", 1, 2, 3, 3) + b"abc"
    assert list(read_pcap(io.BytesIO(header + record)).packets) == [b"abc"]


@pytest.mark.parametrize(
    ("data", "location", "words"),
    [
        (b"\xd4\xc3\xb2", "byte 0", "24-byte pcap header"),
        (b"\x0a\x0d\x0d\x0a" + bytes(20), "byte 0", "pcapng"),
        (b"GIF89a" + bytes(18), "byte 0", "not a pcap file"),
        (struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 113), "byte 20", "link type 113"),
    ],
)
def test_bad_headers(data: bytes, location: str, words: str) -> None:
    with pytest.raises(PcapError) as caught:
        read_pcap(io.BytesIO(data))
    assert caught.value.location == location and words in caught.value.message


def test_truncated_record_yields_what_came_before_then_a_located_error() -> None:
    stream = io.BytesIO()
    write_pcap(stream, [b"first", b"second"], Link.ETHERNET)
    capture = read_pcap(io.BytesIO(stream.getvalue()[:-3]))
    assert next(capture.packets) == b"first"
    with pytest.raises(PcapError) as caught:
        next(capture.packets)
    assert caught.value.location == "byte 45"


def test_absurd_record_length_is_refused_without_reading_it() -> None:
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    record = struct.pack("<IIII", 0, 0, 0xFFFFFFF0, 0xFFFFFFF0)
    with pytest.raises(PcapError, match="larger than any capture"):
        list(read_pcap(io.BytesIO(header + record)).packets)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_read_or_fail_cleanly(data: bytes) -> None:
    try:
        list(read_pcap(io.BytesIO(data)).packets)
    except PcapError as error:
        assert error.location
