"""One call from a file to everything doorhunt can say about it: extract → match → score.

    analysis = analyze_file("suspect.elf")
    analysis.verdict.sample_class        # bpfdoor / suspicious / clean
    analysis.config()                     # the extracted configuration (JSON-ready)
    analysis.filters[0].explanation       # doorhunt.bpf's verdict on an embedded filter

The pipeline: the ELF layout (`elf`), one code sweep (`code`: stack buffers and immediates),
strings from the file and the stack (`strings`), socket-filter arrays in the file and in the
rebuilt stack buffers (`filters`), the published artefacts (`artefacts`), passwords, salts
and digests (`secrets`), YARA (`yara`); then a score with its reasons.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from doorhunt.bpf.classify import FilterClass
from doorhunt.bpf.codec import to_bytes
from doorhunt.bpf.disasm import disassemble
from doorhunt.bpf.explain import Explanation, probe_json
from doorhunt.bpf.probe import Probe, ProbeFailure
from doorhunt.bpf.program import Program
from doorhunt.errors import InputError
from doorhunt.i18n import Catalog, Message
from doorhunt.sample.artefacts import (
    BACKDATED_EPOCH,
    BIND_PORT_FIRST,
    BIND_PORT_LAST,
    CODE_CONSTANTS,
    CODE_MAGICS,
    Artefact,
    ArtefactKind,
    Clues,
    find_artefacts,
)
from doorhunt.sample.code import CodeScan, StackBuffer, supported_architecture, sweep_code
from doorhunt.sample.crypto import CryptoMarker, find_crypto_markers
from doorhunt.sample.elf import ElfImage, load_image
from doorhunt.sample.expressions import (
    FilterExpression,
    compile_expressions,
    find_expressions,
    tcpdump_path,
)
from doorhunt.sample.filters import FilterArray, best_explanation, find_filter_arrays
from doorhunt.sample.layout import MagicLayout, find_magic_layout
from doorhunt.sample.network import NetworkIndicator, find_network_indicators
from doorhunt.sample.secrets import Secrets, find_secrets
from doorhunt.sample.strings import (
    Confidence,
    JoinedStrings,
    Place,
    data_spans,
    file_strings,
    stack_strings,
)
from doorhunt.sample.yara import YaraHit, YaraScanError, YaraScanner, yara_available

MAX_SAMPLE_BYTES = 64 * 1024 * 1024
DEFAULT_THRESHOLD = 50
MAX_FILTERS_EXPLAINED = 16
UPX_TIMEOUT_SECONDS = 30

MESSAGES = Catalog(
    {
        "filter_file": {
            "en": "A {kind} socket filter ({count} instructions, score {score}) stored at file "
            "offset {offset}.",
            "ko": "파일 오프셋 {offset}에 저장된 {kind} 소켓 필터 "
            "(명령어 {count}개, 점수 {score}).",
        },
        "filter_stack": {
            "en": "A {kind} socket filter ({count} instructions, score {score}) written to the "
            "stack by the code at {address}.",
            "ko": "{address} 코드가 스택에 쓰는 {kind} 소켓 필터 (명령어 {count}개, 점수 {score}).",
        },
        "filter_expression": {
            "en": "A {kind} socket filter written as libpcap text at {where} (compiled by "
            "tcpdump: {count} instructions, score {score}).",
            "ko": "{where}에 libpcap 문자열로 들어 있는 {kind} 소켓 필터 "
            "(tcpdump로 컴파일: 명령어 {count}개, 점수 {score}).",
        },
        "where_offset": {"en": "file offset {offset}", "ko": "파일 오프셋 {offset}"},
        "where_stack": {
            "en": "a stack string built at {address}",
            "ko": "{address}에서 만든 스택 문자열",
        },
        "confidence_high": {"en": "high", "ko": "높음"},
        "confidence_medium": {"en": "medium", "ko": "중간"},
        "confidence_low": {"en": "low", "ko": "낮음"},
        "magic-layout": {
            "en": "Code that reads the magic packet's 24-byte layout (flag, ip at +4, port at "
            "+8, password at +10; {confidence} confidence).",
            "ko": "매직 패킷의 24바이트 구조를 읽는 코드 (플래그, +4 IP, +8 포트, +10 "
            "비밀번호; 신뢰도 {confidence}).",
        },
        "decoy-name": {
            "en": "{count} daemon names BPFDoor shows in ps: {values}.",
            "ko": "BPFDoor가 ps에 보이는 데몬 이름 {count}개: {values}.",
        },
        "pid-file": {
            "en": "PID/lock file paths BPFDoor creates: {values}.",
            "ko": "BPFDoor가 만드는 PID/잠금 파일 경로: {values}.",
        },
        "firewall-template": {
            "en": "iptables command templates for a bind shell ({count}).",
            "ko": "바인드 셸용 iptables 명령 템플릿 ({count}개).",
        },
        "firewall-pair": {
            "en": "iptables templates that accept a caller and redirect it to a shell port "
            "({count}).",
            "ko": "접속자를 허용하고 셸 포트로 리다이렉트하는 iptables 템플릿 ({count}개).",
        },
        "shell-environment": {
            "en": "The shell environment BPFDoor sets: {values}.",
            "ko": "BPFDoor가 설정하는 셸 환경 변수: {values}.",
        },
        "install-path": {
            "en": "The path BPFDoor copies itself to: {values}.",
            "ko": "BPFDoor가 자신을 복사하는 경로: {values}.",
        },
        "shell-disguise": {
            "en": "The names BPFDoor's shell hides behind: {values}.",
            "ko": "BPFDoor 셸이 위장하는 이름: {values}.",
        },
        "bind-port-range": {
            "en": "The bind-shell port range {values} as constants in code.",
            "ko": "코드 상수로 들어 있는 바인드 셸 포트 범위 {values}.",
        },
        "backdated-time": {
            "en": "The back-dating timestamp 2008-10-30 ({values}) as a constant in code.",
            "ko": "코드 상수로 들어 있는 파일 시각 위조용 타임스탬프 2008-10-30 ({values}).",
        },
        "code-magic": {
            "en": "The 8-byte magic that 2023 builds check in code: {values}.",
            "ko": "2023년 빌드가 코드에서 검사하는 8바이트 매직: {values}.",
        },
        "packer": {
            "en": "Packed with {packer}: what is inside was not analysed.",
            "ko": "{packer}(으)로 패킹됨: 내부는 분석하지 못함.",
        },
        "nothing": {
            "en": "No socket filter or published BPFDoor artefact found.",
            "ko": "소켓 필터나 공개된 BPFDoor 흔적을 찾지 못함.",
        },
        "gap_elf": {"en": "ELF: {detail}", "ko": "ELF: {detail}"},
        "gap_raw": {
            "en": "Read as raw bytes (not ELF): no sections, no code sweep.",
            "ko": "ELF가 아닌 원시 바이트로 읽음: 섹션과 코드 분석 없음.",
        },
        "gap_architecture": {
            "en": "Stack strings and code constants are recovered on x86 and x86-64 only "
            "(this file: {machine}).",
            "ko": "스택 문자열과 코드 상수는 x86, x86-64에서만 복원함 (이 파일: {machine}).",
        },
        "gap_capstone": {
            "en": "capstone is not installed: stack strings and code constants not recovered.",
            "ko": "capstone이 설치되지 않아 스택 문자열과 코드 상수를 복원하지 못함.",
        },
        "gap_sweep": {
            "en": "The code sweep stopped at its budget ({count} instructions).",
            "ko": "코드 분석이 한도({count}개 명령어)에서 멈춤.",
        },
        "gap_strings": {
            "en": "Only the first {count} strings were examined.",
            "ko": "처음 {count}개 문자열만 검사함.",
        },
        "gap_filters": {
            "en": "Only the first {count} socket filters were analysed.",
            "ko": "처음 {count}개 소켓 필터만 분석함.",
        },
        "gap_packed": {
            "en": "Packed with {packer}: unpack it (for UPX: upx -d) and analyse the result.",
            "ko": "{packer}(으)로 패킹됨: 풀어서(UPX는 upx -d) 다시 분석하십시오.",
        },
        "gap_tcpdump": {
            "en": "tcpdump is not installed: {count} libpcap filter expressions are reported "
            "as text, not compiled or classified (apt install tcpdump).",
            "ko": "tcpdump 미설치: libpcap 필터 식 {count}개를 컴파일·분류하지 않고 문자열로만 "
            "보고함 (apt install tcpdump).",
        },
        "gap_yara": {"en": "YARA: {detail}", "ko": "YARA: {detail}"},
        "gap_unpack": {
            "en": "Packed with UPX and upx -d could not unpack it ({detail}): what is inside "
            "was not analysed.",
            "ko": "UPX로 패킹되었고 upx -d로 풀지 못함 ({detail}): 내부는 분석하지 못함.",
        },
        "unpacked": {
            "en": "Packed with UPX: unpacked with upx -d; what follows is about the unpacked "
            "program (sha256 {sha256}).",
            "ko": "UPX로 패킹됨: upx -d로 풀었으며 아래 내용은 풀린 프로그램(sha256 {sha256})에 "
            "대한 것임.",
        },
        "gap_no_yara": {
            "en": "YARA rules not run: yara-x is not installed (pip install 'doorhunt[yara]').",
            "ko": "YARA 규칙을 실행하지 않음: yara-x 미설치 (pip install 'doorhunt[yara]').",
        },
    }
)

# Score of each artefact kind (docs/sample.md, "Verdict"): the sum is added to the best
# filter's score, capped at 100.
WEIGHTS = {
    ArtefactKind.DECOY_NAME: 10,  # each distinct name, up to 2
    ArtefactKind.PID_FILE: 15,
    ArtefactKind.FIREWALL_TEMPLATE: 10,  # 25 when ACCEPT and REDIRECT templates are both there
    ArtefactKind.SHELL_ENVIRONMENT: 5,  # 15 with both history variables
    ArtefactKind.INSTALL_PATH: 25,
    ArtefactKind.SHELL_DISGUISE: 10,
    ArtefactKind.BIND_PORT_RANGE: 15,
    ArtefactKind.BACKDATED_TIME: 15,
    ArtefactKind.CODE_MAGIC: 60,
}
PACKER_WEIGHT = 10
LAYOUT_WEIGHT = 10  # a magic-packet layout of medium or high confidence
# Network indicators and crypto markers carry no weight: a system program has addresses and
# TLS libraries too. They are configuration, reported for the analyst.


class SampleClass(StrEnum):
    BPFDOOR = "bpfdoor"
    SUSPICIOUS = "suspicious"
    CLEAN = "clean"  # nothing at or above the threshold; not a statement that the file is safe


@dataclass(frozen=True, slots=True)
class FileFacts:
    name: str
    size: int
    md5: str
    sha1: str
    sha256: str

    @classmethod
    def of(cls, name: str, data: bytes) -> FileFacts:
        return cls(
            name,
            len(data),
            hashlib.md5(data, usedforsecurity=False).hexdigest(),
            hashlib.sha1(data, usedforsecurity=False).hexdigest(),
            hashlib.sha256(data).hexdigest(),
        )


@dataclass(frozen=True, slots=True)
class FoundFilter:
    """A socket filter found in the sample, with doorhunt.bpf's explanation of it."""

    array: FilterArray
    place: Place
    section: str | None
    explanation: Explanation
    probes: tuple[Probe | ProbeFailure, ...]  # packets it accepts; made for suspicious ones
    expression: str | None = None  # the libpcap text it was compiled from, if any

    @classmethod
    def of(
        cls,
        array: FilterArray,
        place: Place,
        section: str | None,
        expression: str | None = None,
    ) -> FoundFilter:
        explanation = best_explanation(array.program)
        suspicious = explanation.classification.suspicious
        probes = tuple(explanation.probes()) if suspicious else ()
        return cls(array, place, section, explanation, probes, expression)

    @property
    def confidence(self) -> Confidence:
        """high: a filter of a kind doorhunt.bpf recognises, or compiled from libpcap text;
        medium: another program the kernel accepts; low: a short one (bytes of other data can
        decode as a few valid instructions)."""
        if self.expression is not None or self.explanation.classification.filter_class not in (
            FilterClass.OTHER,
        ):
            return Confidence.HIGH
        return Confidence.MEDIUM if len(self.array.program) >= 6 else Confidence.LOW

    def to_json(self, language: str) -> dict[str, object]:
        verdict = self.explanation.classification
        return {
            "place": self.place.to_json(),
            "section": self.section,
            "expression": self.expression,
            "confidence": self.confidence.value,
            "byte_order": None if self.expression is not None else self.array.byte_order,
            "instructions": len(self.array.program),
            "link": self.explanation.link.value,
            "class": verdict.filter_class.value,
            "suspicious": verdict.suspicious,
            "score": verdict.score,
            "magic": [compare.to_json() for compare in verdict.magic],
            "summary": self.explanation.summary(language),
            "reasons": [reason.render(language) for reason in verdict.reasons],
            "disassembly": disassemble(self.array.program),
            "bytecode": to_bytes(self.array.program, byteorder="little").hex(),
            "probes": [probe_json(probe, language) for probe in self.probes],
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    sample_class: SampleClass
    score: int
    reasons: tuple[Message, ...]

    def to_json(self, language: str) -> dict[str, object]:
        return {
            "class": self.sample_class.value,
            "score": self.score,
            "reasons": [reason.render(language) for reason in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class SampleAnalysis:
    file: FileFacts
    image: ElfImage | None  # None when read as raw bytes
    filters: tuple[FoundFilter, ...]
    artefacts: tuple[Artefact, ...]
    secrets: Secrets
    packer: str | None
    yara_hits: tuple[YaraHit, ...] | None  # None when YARA did not run
    verdict: Verdict
    gaps: tuple[Message, ...]
    expressions: tuple[FilterExpression, ...] = ()
    network: tuple[NetworkIndicator, ...] = ()
    crypto: tuple[CryptoMarker, ...] = ()
    layout: MagicLayout | None = None
    unpacked: FileFacts | None = None  # what `upx -d` gave, when the rest is about it

    def flagged(self, threshold: int = DEFAULT_THRESHOLD) -> bool:
        """At or above the threshold, or matched by a YARA rule."""
        return self.verdict.score >= threshold or bool(self.yara_hits)

    def values(self, kind: ArtefactKind) -> list[str]:
        return [artefact.value for artefact in self.artefacts if artefact.kind is kind]

    def config(self, language: str = "en") -> dict[str, object]:
        """The configuration the sample carries, as far as it can be recovered."""
        magic = [
            {**compare.to_json(), "filter": index}
            for index, found in enumerate(self.filters)
            if found.explanation.classification.suspicious
            for compare in found.explanation.classification.magic
        ]
        code_magic = self.values(ArtefactKind.CODE_MAGIC)
        triggers = [
            {"filter": index, **probe_json(probe, language)}
            for index, found in enumerate(self.filters)
            for probe in found.probes
            if isinstance(probe, Probe)
        ]
        return {
            "magic": magic,
            "code_magic": [int(value, 16) for value in " ".join(code_magic).split()],
            "triggers": triggers,
            "passwords": [candidate.to_json() for candidate in self.secrets.passwords],
            "salts": [
                {"value": salt.value, "verified": self.secrets.salts_verified}
                for salt in self.secrets.salts
            ],
            "digests": [
                {"value": d.value, "algorithm": d.algorithm, "place": d.place.to_json()}
                for d in self.secrets.digests
            ],
            "decoy_names": self.values(ArtefactKind.DECOY_NAME),
            "pid_files": self.values(ArtefactKind.PID_FILE),
            "firewall_templates": self.values(ArtefactKind.FIREWALL_TEMPLATE),
            "shell_environment": self.values(ArtefactKind.SHELL_ENVIRONMENT),
            "install_paths": self.values(ArtefactKind.INSTALL_PATH),
            "shell_disguises": self.values(ArtefactKind.SHELL_DISGUISE),
            "bind_ports": (
                {"first": BIND_PORT_FIRST, "last": BIND_PORT_LAST}
                if self.values(ArtefactKind.BIND_PORT_RANGE)
                else None
            ),
            "backdated_time": (
                {
                    "epoch": BACKDATED_EPOCH,
                    "utc": datetime.fromtimestamp(BACKDATED_EPOCH, UTC).isoformat(),
                }
                if self.values(ArtefactKind.BACKDATED_TIME)
                else None
            ),
            "filter_expressions": [
                {**expression.to_json(), "filter": self._filter_index(expression)}
                for expression in self.expressions
            ],
            "network": [indicator.to_json() for indicator in self.network],
            "crypto": [marker.to_json() for marker in self.crypto],
            "magic_layout": self.layout.to_json() if self.layout else None,
        }

    def _filter_index(self, expression: FilterExpression) -> int | None:
        for index, found in enumerate(self.filters):
            if found.expression == expression.text and found.place == expression.place:
                return index
        return None

    def to_json(self, language: str = "en") -> dict[str, object]:
        return {
            "file": {
                "name": self.file.name,
                "size": self.file.size,
                "hash": {"md5": self.file.md5, "sha1": self.file.sha1, "sha256": self.file.sha256},
            },
            "format": "elf" if self.image else "raw",
            "elf": _elf_json(self.image) if self.image else None,
            "verdict": self.verdict.to_json(language),
            "config": self.config(language),
            "filters": [found.to_json(language) for found in self.filters],
            "artefacts": [artefact.to_json() for artefact in self.artefacts],
            "packer": self.packer,
            "unpacked": (
                {
                    "size": self.unpacked.size,
                    "hash": {
                        "md5": self.unpacked.md5,
                        "sha1": self.unpacked.sha1,
                        "sha256": self.unpacked.sha256,
                    },
                }
                if self.unpacked
                else None
            ),
            "yara": (None if self.yara_hits is None else [hit.to_json() for hit in self.yara_hits]),
            "gaps": [gap.render(language) for gap in self.gaps],
        }


def analyze_file(
    path: str | Path,
    *,
    raw: bool = False,
    yara: YaraScanner | None = None,
    max_bytes: int = MAX_SAMPLE_BYTES,
) -> SampleAnalysis:
    """Read and analyse one file; raises InputError (exit 2) when it cannot be read."""
    name = str(path)
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except IsADirectoryError:
        raise InputError("is a directory", location=name) from None
    except FileNotFoundError:
        raise InputError("no such file", location=name) from None
    except OSError as error:
        raise InputError(error.strerror or str(error), location=name) from None
    if len(data) > max_bytes:
        raise InputError(
            f"larger than {max_bytes // (1024 * 1024)} MiB (see --max-size)", location=name
        )
    try:
        return analyze_bytes(data, name, raw=raw, yara=yara)
    except InputError as error:
        raise error.at(name) from None


def analyze_bytes(
    data: bytes,
    name: str = "<bytes>",
    *,
    raw: bool = False,
    yara: YaraScanner | None = None,
    unpack: bool = True,
) -> SampleAnalysis:
    """Analyse `data`: an ELF file, or with `raw` any bytes (a memory dump). Raises
    SampleFormatError only when `data` is not ELF and `raw` is not set. A UPX-packed file is
    unpacked with `upx -d` when the tool is installed (and `unpack`), and what it holds is
    analysed (`unpacked` gives its facts)."""
    gaps: list[Message] = []
    image = None if raw else load_image(data)
    if unpack and image is not None and _packer(data, image) == "UPX":
        unpacked = _unpacked_analysis(data, name, yara)
        if isinstance(unpacked, SampleAnalysis):
            return unpacked
        gaps.append(unpacked)
    code: CodeScan | None = None
    if image is None:
        gaps.append(MESSAGES("gap_raw"))
    else:
        gaps += [MESSAGES("gap_elf", detail=gap) for gap in image.gaps]
        code = sweep_code(image, CODE_CONSTANTS)
        if code is None:
            architecture = supported_architecture(image)
            gaps.append(
                MESSAGES("gap_capstone")
                if architecture
                else MESSAGES("gap_architecture", machine=image.header.machine_name)
            )
        elif not code.complete:
            gaps.append(MESSAGES("gap_sweep", count=code.instructions))
    spans = data_spans(image, len(data))
    scan = file_strings(data, spans=spans)
    if scan.truncated:
        gaps.append(MESSAGES("gap_strings", count=len(scan.strings)))
    built = tuple(stack_strings(code.buffers)) if code else ()
    everything = scan.strings + built
    joined = JoinedStrings.of(everything)
    expressions = _expressions(joined, gaps)
    filters = _find_filters(data, image, code, spans, expressions, gaps)
    clues = Clues(everything, code, image, data)
    artefacts = tuple(find_artefacts(clues))
    anchors = [found.place.address for found in filters if found.place.address is not None] + [
        place.address
        for artefact in artefacts
        for place in artefact.places
        if place.origin == "stack" and place.address is not None
    ]
    secrets = find_secrets(
        scan.strings,
        built,
        explained=frozenset(artefact.value for artefact in artefacts),
        anchors=anchors,
    )
    network = tuple(find_network_indicators(joined))
    crypto = tuple(find_crypto_markers(joined, image, data, spans))
    layout = _magic_layout(image, filters, artefacts)
    packer = _packer(data, image)
    if packer and not any(gap.code == "gap_unpack" for gap in gaps):
        gaps.append(MESSAGES("gap_packed", packer=packer))
    hits = _yara_hits(data, yara, gaps)
    verdict = score(filters, artefacts, packer, layout)
    return SampleAnalysis(
        FileFacts.of(name, data),
        image,
        filters,
        artefacts,
        secrets,
        packer,
        hits,
        verdict,
        tuple(gaps),
        expressions,
        network,
        crypto,
        layout,
    )


def _expressions(joined: JoinedStrings, gaps: list[Message]) -> tuple[FilterExpression, ...]:
    candidates = find_expressions(joined)
    if not candidates:
        return ()
    tcpdump = tcpdump_path()
    if tcpdump is None:
        gaps.append(MESSAGES("gap_tcpdump", count=len(candidates)))
    return tuple(compile_expressions(candidates, tcpdump))


def _magic_layout(
    image: ElfImage | None, filters: Sequence[FoundFilter], artefacts: Sequence[Artefact]
) -> MagicLayout | None:
    """The magic packet's layout, looked for only in a sample whose filters compare payload
    magics (or whose code checks the 2023 magic): elsewhere the pattern means nothing."""
    if image is None:
        return None
    magics = {
        compare.value
        for found in filters
        if found.explanation.classification.suspicious
        for compare in found.explanation.classification.magic
    }
    if any(artefact.kind is ArtefactKind.CODE_MAGIC for artefact in artefacts):
        magics |= set(CODE_MAGICS)
    return find_magic_layout(image, magics) if magics else None


def _find_filters(
    data: bytes,
    image: ElfImage | None,
    code: CodeScan | None,
    spans: Sequence[tuple[int, int]],
    expressions: Sequence[FilterExpression],
    gaps: list[Message],
) -> tuple[FoundFilter, ...]:
    order = image.header.byte_order if image else "little"
    found: list[tuple[FilterArray, Place, str | None]] = []
    compiled = [
        FoundFilter.of(
            FilterArray(expression.place.offset or 0, "little", expression.program),
            expression.place,
            _section(image, expression.place),
            expression.text,
        )
        for expression in expressions
        if expression.program is not None
    ]
    for array in find_filter_arrays(data, order, spans):
        region = image.region_at(array.offset) if image else None
        found.append((array, Place("file", offset=array.offset), region.name if region else None))
    buffers: Sequence[StackBuffer] = code.buffers if code else ()
    for buffer in buffers:
        for array in find_filter_arrays(buffer.data, order):
            found.append((array, Place("stack", address=buffer.address), None))
    unique: dict[tuple[Program, str], tuple[FilterArray, Place, str | None]] = {}
    for array, place, section in found:
        unique.setdefault((array.program, place.origin), (array, place, section))
    room = MAX_FILTERS_EXPLAINED - len(compiled)
    if len(unique) > room:
        gaps.append(MESSAGES("gap_filters", count=MAX_FILTERS_EXPLAINED))
    return tuple(
        FoundFilter.of(array, place, section)
        for array, place, section in list(unique.values())[: max(0, room)]
    ) + tuple(compiled)


def _section(image: ElfImage | None, place: Place) -> str | None:
    if image is None or place.offset is None:
        return None
    region = image.region_at(place.offset)
    return region.name if region else None


def _unpacked_analysis(
    data: bytes, name: str, yara: YaraScanner | None
) -> SampleAnalysis | Message:
    """The analysis of what a UPX-packed file holds (its facts in `unpacked`, the packed
    file's in `file`), or the gap that says why it could not be unpacked. `upx -d` only
    decompresses: nothing of the sample runs."""
    upx = shutil.which("upx")
    if upx is None:
        return MESSAGES("gap_packed", packer="UPX")
    with tempfile.TemporaryDirectory(prefix="doorhunt-upx-") as folder:
        packed, output = Path(folder) / "packed", Path(folder) / "unpacked"
        packed.write_bytes(data)
        try:
            result = subprocess.run(
                [upx, "-d", "-q", "-o", str(output), "--", str(packed)],
                capture_output=True,
                text=True,
                errors="replace",
                timeout=UPX_TIMEOUT_SECONDS,
                check=False,
                stdin=subprocess.DEVNULL,
                env={"PATH": os.defpath, "LC_ALL": "C"},
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return MESSAGES("gap_unpack", detail=type(error).__name__)
        if result.returncode != 0 or not output.is_file():
            lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
            return MESSAGES("gap_unpack", detail=(lines[-1] if lines else "no output")[:200])
        with output.open("rb") as handle:
            inner = handle.read(MAX_SAMPLE_BYTES + 1)
    if len(inner) > MAX_SAMPLE_BYTES:
        return MESSAGES("gap_unpack", detail="the unpacked program is too large")
    try:
        analysis = analyze_bytes(inner, name, yara=yara, unpack=False)
    except InputError as error:
        return MESSAGES("gap_unpack", detail=str(error)[:200])
    outer_hits = _yara_hits(data, yara, [])
    hits = analysis.yara_hits
    if outer_hits:
        seen = {hit.rule for hit in hits or ()}
        hits = (*(hits or ()), *(hit for hit in outer_hits if hit.rule not in seen))
    verdict = score(analysis.filters, analysis.artefacts, "UPX", analysis.layout)
    return replace(
        analysis,
        file=FileFacts.of(name, data),
        packer="UPX",
        yara_hits=hits,
        verdict=verdict,
        gaps=(MESSAGES("unpacked", sha256=FileFacts.of(name, inner).sha256), *analysis.gaps),
        unpacked=FileFacts.of(name, inner),
    )


def _packer(data: bytes, image: ElfImage | None) -> str | None:
    """UPX leaves its magic `UPX!` in the first page and section names UPX0/UPX1 when it
    keeps sections (UPX source, p_lx_elf.cpp, l_info)."""
    head = data[:4096]
    names = {region.name for region in image.sections} if image else set()
    if b"UPX!" in head or {"UPX0", "UPX1"} & names:
        return "UPX"
    return None


def _yara_hits(
    data: bytes, scanner: YaraScanner | None, gaps: list[Message]
) -> tuple[YaraHit, ...] | None:
    if scanner is None:
        if not yara_available():
            gaps.append(MESSAGES("gap_no_yara"))
        return None
    try:
        return tuple(scanner.scan_bytes(data))
    except YaraScanError as error:
        gaps.append(MESSAGES("gap_yara", detail=str(error)))
        return None


def score(
    filters: Sequence[FoundFilter],
    artefacts: Sequence[Artefact],
    packer: str | None,
    layout: MagicLayout | None = None,
) -> Verdict:
    """The sample's class, score (0–100) and reasons (docs/sample.md, "Verdict")."""
    reasons: list[Message] = []
    filter_score = 0
    bpfdoor_filter = False
    for found in filters:
        verdict = found.explanation.classification
        if not verdict.suspicious:
            continue
        filter_score = max(filter_score, verdict.score)
        bpfdoor_filter |= verdict.filter_class is FilterClass.BPFDOOR
        common = {
            "kind": verdict.filter_class.value,
            "count": len(found.array.program),
            "score": verdict.score,
        }
        if found.expression is not None:
            where = (
                MESSAGES("where_offset", offset=found.place.offset)
                if found.place.offset is not None
                else MESSAGES("where_stack", address=f"{found.place.address or 0:#x}")
            )
            reasons.append(MESSAGES("filter_expression", where=where, **common))
        elif found.place.origin == "file":
            reasons.append(MESSAGES("filter_file", offset=found.place.offset, **common))
        else:
            reasons.append(
                MESSAGES("filter_stack", address=f"{found.place.address or 0:#x}", **common)
            )
    artefact_score = 0
    kinds: dict[ArtefactKind, list[str]] = {}
    for artefact in artefacts:
        kinds.setdefault(artefact.kind, []).append(artefact.value)
    for kind, values in kinds.items():
        weight, message = _weigh(kind, values)
        artefact_score += weight
        reasons.append(message)
    if packer:
        artefact_score += PACKER_WEIGHT
        reasons.append(MESSAGES("packer", packer=packer))
    if layout is not None and layout.confidence is not Confidence.LOW:
        artefact_score += LAYOUT_WEIGHT
        confidence = MESSAGES(f"confidence_{layout.confidence.value}")
        reasons.append(MESSAGES("magic-layout", confidence=confidence))
    total = min(100, filter_score + artefact_score)
    if bpfdoor_filter or ArtefactKind.CODE_MAGIC in kinds or (len(kinds) >= 3 and total >= 60):
        sample_class = SampleClass.BPFDOOR
    elif total >= DEFAULT_THRESHOLD:
        sample_class = SampleClass.SUSPICIOUS
    else:
        sample_class = SampleClass.CLEAN
    if not reasons:
        reasons.append(MESSAGES("nothing"))
    return Verdict(sample_class, total, tuple(reasons))


def _weigh(kind: ArtefactKind, values: list[str]) -> tuple[int, Message]:
    shown = ", ".join(values[:4]) + (" ..." if len(values) > 4 else "")
    weight = WEIGHTS[kind]
    if kind is ArtefactKind.DECOY_NAME:
        weight *= min(2, len(values))
        return weight, MESSAGES(kind.value, count=len(values), values=shown)
    if kind is ArtefactKind.FIREWALL_TEMPLATE:
        pair = any("ACCEPT" in v for v in values) and any("REDIRECT" in v for v in values)
        if pair:
            return 25, MESSAGES("firewall-pair", count=len(values))
        return weight, MESSAGES(kind.value, count=len(values))
    if kind is ArtefactKind.SHELL_ENVIRONMENT and {
        "HISTFILE=/dev/null",
        "MYSQL_HISTFILE=/dev/null",
    } <= set(values):
        weight = 15
    return weight, MESSAGES(kind.value, values=shown)


def _elf_json(image: ElfImage) -> dict[str, object]:
    header = image.header
    return {
        "class": header.elf_class,
        "byte_order": header.byte_order,
        "machine": header.machine_name,
        "type": header.type_name,
        "entry": f"{header.entry:#x}",
        "interpreter": image.interpreter,
        "static": image.static,
        "stripped": image.stripped,
        "sections": len(image.sections),
        "segments": len(image.segments),
    }


__all__ = [
    "DEFAULT_THRESHOLD",
    "FileFacts",
    "FoundFilter",
    "SampleAnalysis",
    "SampleClass",
    "Verdict",
    "analyze_bytes",
    "analyze_file",
    "score",
]
