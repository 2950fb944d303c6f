"""Test samples, compiled at test time by gcc from our own benign C sources
(tests/sample/sources/); nothing compiled is ever committed. Each build is named, and the YARA
rules name the builds they must match in their `example` metadata."""

from __future__ import annotations

import importlib.util
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import require_tool, unavailable

SOURCES = Path(__file__).parent / "sources"


@dataclass(frozen=True)
class Build:
    name: str
    source: str
    flags: tuple[str, ...]
    magics: tuple[int, int]  # (UDP/ICMP, TCP) payload magic of its filter, or (0, 0)
    bpfdoor: bool = True
    extras: bool = False  # built with -DEXTRAS: libpcap text, controllers, RC4, packet layout


BUILDS = (
    Build(
        "classic-x86-64-O0", "bpfdoor_like.c", ("-O0", "-DEXTRAS"), (0x7255, 0x5293), extras=True
    ),
    Build(
        "classic-x86-64-O2",
        "bpfdoor_like.c",
        ("-O2", "-s", "-DEXTRAS"),
        (0x7255, 0x5293),
        extras=True,
    ),
    Build(
        "classic-x86-32",
        "bpfdoor_like.c",
        ("-m32", "-O0", "-DEXTRAS"),
        (0x7255, 0x5293),
        extras=True,
    ),
    # Without the extras: nothing of them may be invented.
    Build("classic-x86-32-O2", "bpfdoor_like.c", ("-m32", "-O2"), (0x7255, 0x5293)),
    Build(
        "variant-2025-static",
        "bpfdoor_like.c",
        ("-O2", "-static", "-DMAGIC_UDP=0x5571", "-DMAGIC_TCP=0x8D6C", "-DLATER_NAMES", "-DEXTRAS"),
        (0x5571, 0x8D6C),
        extras=True,
    ),
    Build(
        "variant-unpublished-magic",
        "bpfdoor_like.c",
        ("-O1", "-DMAGIC_UDP=0x3C1D", "-DMAGIC_TCP=0x6EA2", "-DEXTRAS"),
        (0x3C1D, 0x6EA2),
        extras=True,
    ),
    Build("benign-control", "benign_control.c", ("-O2",), (0, 0), bpfdoor=False),
)
BUILDS_BY_NAME = {build.name: build for build in BUILDS}


def require_module(name: str, package: str) -> None:
    """Skip without an optional module locally; fail in CI, which installs every extra."""
    if importlib.util.find_spec(name) is None:
        unavailable(f"needs the Python module {name} (pip install {package}; make test does)")


class Samples:
    """Compiles each build once per test session (per xdist worker), on first use."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.built: dict[str, Path] = {}

    def path(self, name: str) -> Path:
        if name not in self.built:
            build = BUILDS_BY_NAME[name]
            gcc = require_tool("gcc")
            output = self.folder / name
            result = subprocess.run(
                [gcc, "-w", *build.flags, "-o", str(output), str(SOURCES / build.source)],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            if result.returncode != 0:
                hint = " (-m32 needs gcc-multilib)" if "-m32" in build.flags else ""
                unavailable(f"gcc could not build {name}{hint}: {result.stderr.strip()[-300:]}")
            self.built[name] = output
        return self.built[name]

    def data(self, name: str) -> bytes:
        return self.path(name).read_bytes()


_SHARED: list[Samples] = []


def session_samples(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    """One set of builds per test process, shared by every test package that asks."""
    if not _SHARED:
        _SHARED.append(Samples(tmp_path_factory.mktemp("samples")))
    return _SHARED[0]
