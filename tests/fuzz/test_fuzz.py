"""The fuzz targets over a seed corpus (fast, every run), and under atheris for a bounded time
(marked slow; CI runs it): `python -m pytest tests/fuzz -m slow`."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.targets import TARGETS
from tests.sample.builds import Samples, require_module, session_samples
from tests.sample.elf_builder import SHF_ALLOC, SHF_EXECINSTR, ElfSpec, Section, build_elf

ROOT = Path(__file__).resolve().parents[2]
FUZZ_SECONDS = {"elf": 8, "sample": 14, "text": 6}


@pytest.fixture(scope="session")
def samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return session_samples(tmp_path_factory)


def seed_corpus(samples: Samples) -> list[bytes]:
    seeds = [samples.data("benign-control")]
    for bits in (32, 64):
        for order in ("little", "big"):
            spec = ElfSpec(
                bits=bits,
                byte_order=order,
                machine=3 if bits == 32 else 62,
                sections=[
                    Section(".text", bytes.fromhex("c745f064682d74c3"), SHF_ALLOC | SHF_EXECINSTR),
                    Section(
                        ".rodata",
                        b"/var/run/haldrund.pid\0HOME=/tmp\0192.0.2.77:8443\0"
                        b"udp[8:2]=0x7255 or port 53\0mbed TLS 2.28.3\0libssl.so.3\0",
                    ),
                ],
            )
            seeds.append(build_elf(spec))
    return seeds


def mutations(seed: bytes, count: int, chooser: random.Random) -> list[bytes]:
    out = []
    for _ in range(count):
        data = bytearray(seed[: chooser.randrange(1, len(seed) + 1)])
        for _ in range(chooser.randrange(1, 20)):
            data[chooser.randrange(len(data))] = chooser.randrange(256)
        out.append(bytes(data))
    return out


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_targets_hold_on_the_seed_corpus_and_its_mutations(samples: Samples, name: str) -> None:
    require_module("capstone", "capstone")
    chooser = random.Random(4437)
    target = TARGETS[name]
    for seed in seed_corpus(samples):
        target(seed)
        for mutant in mutations(seed, 15, chooser):
            target(mutant)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FUZZ_SECONDS))
def test_atheris_finds_nothing_in_a_bounded_run(
    samples: Samples, tmp_path: Path, name: str
) -> None:
    require_module("atheris", "atheris")
    require_module("capstone", "capstone")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for number, seed in enumerate(seed_corpus(samples)):
        (corpus / f"seed-{number}").write_bytes(seed)
    seconds = FUZZ_SECONDS[name]
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "fuzz" / "fuzz_elf.py"),
            "--target",
            name,
            str(corpus),
            f"-max_total_time={seconds}",
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done" in result.stderr and not list(tmp_path.glob("crash-*"))
