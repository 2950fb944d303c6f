"""Fuzz targets: functions of one `bytes` argument that must return or raise the project's
own located error, never anything else, and never hang. `fuzz_elf.py` runs them under
atheris; tests/fuzz/test_fuzz.py runs them over a corpus without it."""

from __future__ import annotations

import json

from doorhunt.sample.analysis import analyze_bytes
from doorhunt.sample.crypto import find_crypto_markers
from doorhunt.sample.elf import SampleFormatError, load_image
from doorhunt.sample.expressions import find_expressions
from doorhunt.sample.network import find_network_indicators
from doorhunt.sample.strings import JoinedStrings, file_strings


def elf_parser(data: bytes) -> None:
    """The ELF reader alone: an image whose regions lie inside the data, or a located error."""
    try:
        image = load_image(data)
    except SampleFormatError as error:
        assert error.location, "a format error must say where"
        return
    for region in image.regions:
        assert 0 <= region.offset <= region.end <= len(data), region


def sample_analysis(data: bytes) -> None:
    """The whole analysis as ELF and as raw bytes; the JSON must serialise."""
    try:
        json.dumps(analyze_bytes(data, "fuzz").to_json())
    except SampleFormatError as error:
        assert error.location, "a format error must say where"
    json.dumps(analyze_bytes(data[:65536], "fuzz", raw=True).to_json())


def text_finders(data: bytes) -> None:
    """The string finders (addresses, libpcap expressions, crypto markers) over the strings
    of any bytes: bounded results, and nothing sent to tcpdump that names a host."""
    joined = JoinedStrings.of(file_strings(data).strings)
    for indicator in find_network_indicators(joined):
        assert indicator.port is None or 0 < indicator.port < 65536, indicator
        json.dumps(indicator.to_json())
    for candidate in find_expressions(joined):
        assert candidate.value.strip(), candidate
    for marker in find_crypto_markers(joined, None, data, [(0, len(data))]):
        json.dumps(marker.to_json())


TARGETS = {"elf": elf_parser, "sample": sample_analysis, "text": text_finders}
