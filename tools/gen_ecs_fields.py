"""Generate doorhunt's pinned ECS field set from Elastic's flat field definitions.

Reads `ecs_flat.yml` (gzip-compressed) from the elastic/ecs release tag and writes
`src/doorhunt/ecs/data/ecs-9.4.0.json.gz`: one entry per field with its type, level, and the
`normalize`, `allowed_values` (names only) and `object_type` attributes where ECS sets them.
Descriptions and everything else are dropped to keep the package small.

The output is deterministic (sorted keys, compact separators, gzip mtime 0), so regenerating
from the same input gives the same bytes and a test can check the packaged file.

    python tools/gen_ecs_fields.py [SOURCE] [--output PATH]
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

ECS_VERSION = "9.4.0"
SOURCE_NOTE = f"elastic/ecs tag v{ECS_VERSION}, generated/ecs/ecs_flat.yml"
LICENSE = "Apache-2.0"

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = REPO_ROOT.parent / "shared" / "corpus" / f"ecs-{ECS_VERSION}-flat.yml.gz"
DEFAULT_OUTPUT = REPO_ROOT / "src" / "doorhunt" / "ecs" / "data" / f"ecs-{ECS_VERSION}.json.gz"


class SourceError(ValueError):
    """The flat YAML is not shaped like ECS's `ecs_flat.yml`."""


def load_flat_yaml(source: Path) -> Mapping[str, object]:
    """Parse the gzip-compressed flat YAML with a safe loader (libyaml's when available)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # same output, ~10x faster
    with gzip.open(source, "rb") as stream:
        document = yaml.load(stream, Loader=loader)  # noqa: S506 - both are safe loaders
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise SourceError(f"{source}: expected a mapping of field names, got {kind}")
    return document


def _string(entry: Mapping[str, object], key: str, name: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise SourceError(f"{name}: expected a non-empty string for {key!r}, got {value!r}")
    return value


def _allowed_value_name(item: object, name: str) -> str:
    if not isinstance(item, Mapping):
        raise SourceError(f"{name}: expected a mapping in 'allowed_values', got {item!r}")
    return _string(item, "name", f"{name} allowed value")


def build_field_set(flat: Mapping[str, object]) -> dict[str, object]:
    """The compact field set: `{version, source, license, fields: {flat_name: {...}}}`."""
    fields: dict[str, dict[str, object]] = {}
    for name, entry in flat.items():
        if not isinstance(entry, Mapping):
            raise SourceError(f"{name}: expected a mapping, got {type(entry).__name__}")
        if entry.get("flat_name") != name:
            raise SourceError(f"{name}: flat_name is {entry.get('flat_name')!r}, not the key")
        spec: dict[str, object] = {
            "type": _string(entry, "type", name),
            "level": _string(entry, "level", name),
        }
        normalize = entry.get("normalize") or []
        if not isinstance(normalize, list) or not all(isinstance(item, str) for item in normalize):
            raise SourceError(f"{name}: expected a list of strings for 'normalize': {normalize!r}")
        if normalize:
            spec["normalize"] = normalize
        if "allowed_values" in entry:
            allowed = entry["allowed_values"]
            if not isinstance(allowed, list):
                raise SourceError(f"{name}: expected a list for 'allowed_values', got {allowed!r}")
            spec["allowed_values"] = [_allowed_value_name(item, name) for item in allowed]
        # `labels` and `container.labels` declare what their free-form children hold.
        if "object_type" in entry:
            spec["object_type"] = _string(entry, "object_type", name)
        fields[name] = spec
    return {"version": ECS_VERSION, "source": SOURCE_NOTE, "license": LICENSE, "fields": fields}


def render(field_set: Mapping[str, object]) -> bytes:
    """Deterministic bytes: sorted, compact ASCII JSON, gzip with mtime 0 and no file name."""
    text = json.dumps(field_set, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return gzip.compress(text.encode("ascii") + b"\n", compresslevel=9, mtime=0)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "source",
        nargs="?",
        type=Path,
        default=DEFAULT_SOURCE,
        help=f"ecs_flat.yml.gz (default: {DEFAULT_SOURCE})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"where to write the field set (default: {DEFAULT_OUTPUT})",
    )
    args = parser.parse_args(argv)
    try:
        data = render(build_field_set(load_flat_yaml(args.source)))
    except (OSError, yaml.YAMLError, SourceError) as error:
        print(f"gen_ecs_fields: {error}", file=sys.stderr)
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_bytes(data)
    print(f"wrote {args.output} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
