"""The HTML report printed to PDF by a converter already on the machine: headless Chromium
(Debian's `chromium`, or Google Chrome), else `wkhtmltopdf`. doorhunt ships no browser; when
none is installed, the error says what to install (or print the HTML from any browser)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from doorhunt.errors import DoorhuntError

CHROMIUM_NAMES: Final = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MISSING: Final = (
    "no HTML-to-PDF converter found: install chromium (Debian: apt-get install chromium "
    "fonts-noto-cjk) or wkhtmltopdf, or open the --html report in a browser and print it"
)
DEFAULT_TIMEOUT: Final = 180.0


class PdfError(DoorhuntError):
    """The PDF could not be made (no converter, or the converter failed)."""


@dataclass(frozen=True, slots=True)
class Converter:
    kind: str  # "chromium" or "wkhtmltopdf"
    path: str


def find_converter(which: Callable[[str], str | None] = shutil.which) -> Converter | None:
    """The first converter on PATH: Chromium or Chrome, then wkhtmltopdf."""
    for name in CHROMIUM_NAMES:
        path = which(name)
        if path:
            return Converter("chromium", path)
    path = which("wkhtmltopdf")
    return Converter("wkhtmltopdf", path) if path else None


def _command(converter: Converter, source: Path, target: Path, scratch: Path) -> list[str]:
    if converter.kind == "chromium":
        command = [
            converter.path,
            "--headless",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            # Not --blink-settings=scriptEnabled=false: headless printing then writes no PDF
            # (Chromium 156); the page has no script and its CSP refuses any.
            f"--user-data-dir={scratch / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={target}",
            source.as_uri(),
        ]
        if os.geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to start as root without it
        return command
    return [
        converter.path,
        "--quiet",
        "--disable-javascript",
        "--encoding",
        "utf-8",
        "--page-size",
        "A4",
        "--print-media-type",
        str(source),
        str(target),
    ]


def html_to_pdf(
    html: str,
    output: Path,
    *,
    converter: Converter | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Converter:
    """Print `html` to the PDF file `output`; returns the converter used. Raises PdfError."""
    converter = converter or find_converter()
    if converter is None:
        raise PdfError(MISSING)
    with tempfile.TemporaryDirectory(prefix="doorhunt-report-") as directory:
        scratch = Path(directory)
        source = scratch / "report.html"
        target = scratch / "report.pdf"
        source.write_text(html, encoding="utf-8")
        # The browser's profile, caches and crash dumps stay in the scratch directory.
        environment = dict(os.environ)
        environment.update(
            HOME=str(scratch),
            XDG_CONFIG_HOME=str(scratch / "config"),
            XDG_CACHE_HOME=str(scratch / "cache"),
        )
        try:
            finished = subprocess.run(
                _command(converter, source, target, scratch),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=timeout,
                env=environment,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise PdfError(f"{converter.kind} did not finish within {timeout:.0f} s") from None
        except OSError as error:
            raise PdfError(f"cannot run {converter.path}: {error.strerror or error}") from None
        data = target.read_bytes() if target.is_file() else b""
        if not data.startswith(b"%PDF"):
            output_lines = finished.stderr.decode("utf-8", "replace").strip().splitlines()
            last = output_lines[-1] if output_lines else f"exit status {finished.returncode}"
            raise PdfError(f"{converter.kind} made no PDF: {last}")
        write_file_atomically(output, data)
    return converter


def write_file_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file beside `path` and rename, so no reader sees half a file.
    The file is the owner's only (mode 0600, as mkstemp makes it): it holds host evidence."""
    directory = path.parent if str(path.parent) else Path()
    try:
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    except OSError as error:
        raise PdfError(f"{path}: {error.strerror or error}") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise PdfError(f"{path}: {error.strerror or error}") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


__all__ = [
    "CHROMIUM_NAMES",
    "MISSING",
    "Converter",
    "PdfError",
    "find_converter",
    "html_to_pdf",
    "write_file_atomically",
]
