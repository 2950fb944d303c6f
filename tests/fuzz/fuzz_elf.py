"""atheris (libFuzzer) driver for doorhunt's ELF parser, sample analysis and string finders.

    .venv/bin/python tests/fuzz/fuzz_elf.py [--target elf|sample|text] CORPUS_DIR \
        -max_total_time=20 -timeout=10 -rss_limit_mb=2048

libFuzzer options follow the corpus folder; a crash, an unexpected exception or an input that
runs past -timeout seconds stops the run with a non-zero exit and writes the input to
crash-*/timeout-* in the working directory. CI runs it for a bounded time through
tests/fuzz/test_fuzz.py (marked slow).
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports(include=["doorhunt", "elftools"]):
    from tests.fuzz.targets import TARGETS


def main(argv: list[str]) -> None:
    name = "sample"
    if len(argv) > 2 and argv[1] == "--target":
        name = argv[2]
        argv = [argv[0], *argv[3:]]
    target = TARGETS[name]
    atheris.Setup(argv, target)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
