"""tools/gen_ecs_fields.py: the packaged field set is exactly what the corpus generates."""

from __future__ import annotations

import gzip
import importlib.util
import json
import zlib
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from doorhunt.ecs.schema import DATA_FILE, ECS_VERSION, parse_field_set

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "gen_ecs_fields.py"
PACKAGED = REPO / "src" / "doorhunt" / "ecs" / "data" / DATA_FILE
CORPUS = REPO.parent / "shared" / "corpus" / f"ecs-{ECS_VERSION}-flat.yml.gz"


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_ecs_fields", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus() -> Path:
    if not CORPUS.exists():
        pytest.skip(f"the ECS corpus is not here ({CORPUS}); it lives beside the repository")
    return CORPUS


def test_regenerating_gives_the_packaged_bytes(
    generator: ModuleType, corpus: Path, tmp_path: Path
) -> None:
    output = tmp_path / DATA_FILE
    assert generator.main([str(corpus), "--output", str(output)]) == 0
    # The JSON is the contract; the gzip bytes also depend on zlib, named if they differ.
    assert gzip.decompress(output.read_bytes()) == gzip.decompress(PACKAGED.read_bytes())
    assert output.read_bytes() == PACKAGED.read_bytes(), f"zlib {zlib.ZLIB_RUNTIME_VERSION}"


def test_the_default_paths_are_the_corpus_and_the_package(generator: ModuleType) -> None:
    assert generator.DEFAULT_SOURCE.resolve() == CORPUS.resolve()
    assert generator.DEFAULT_OUTPUT == PACKAGED


def test_packaged_file_is_compact_sorted_and_attributed() -> None:
    raw = PACKAGED.read_bytes()
    assert raw[4:8] == b"\0\0\0\0"  # gzip mtime 0: no build time in the package
    text = gzip.decompress(raw)
    document = json.loads(text)
    assert document["version"] == ECS_VERSION
    assert document["license"] == "Apache-2.0"
    assert document["source"] == "elastic/ecs tag v9.4.0, generated/ecs/ecs_flat.yml"
    assert text == json.dumps(document, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    for entry in document["fields"].values():
        assert set(entry) <= {"type", "level", "normalize", "allowed_values", "object_type"}
        assert entry.get("normalize", ["x"]) != []


def test_generation_keeps_only_the_listed_attributes(generator: ModuleType) -> None:
    flat = {
        "event.kind": {
            "flat_name": "event.kind",
            "type": "keyword",
            "level": "core",
            "normalize": [],
            "description": "long text",
            "allowed_values": [
                {"name": "alert", "description": "..."},
                {"name": "event", "description": "..."},
            ],
        },
        "labels": {
            "flat_name": "labels",
            "type": "object",
            "level": "core",
            "object_type": "keyword",
            "normalize": [],
            "example": "{}",
        },
        "process.args": {
            "flat_name": "process.args",
            "type": "keyword",
            "level": "extended",
            "normalize": ["array"],
            "multi_fields": [{"name": "text", "type": "text"}],
        },
    }
    field_set = generator.build_field_set(flat)
    assert field_set["fields"] == {
        "event.kind": {"type": "keyword", "level": "core", "allowed_values": ["alert", "event"]},
        "labels": {"type": "object", "level": "core", "object_type": "keyword"},
        "process.args": {"type": "keyword", "level": "extended", "normalize": ["array"]},
    }
    version, specs = parse_field_set(generator.render(field_set))
    assert version == ECS_VERSION
    assert [spec.name for spec in specs] == ["event.kind", "labels", "process.args"]
    assert generator.render(field_set) == generator.render(field_set)


@pytest.mark.parametrize(
    ("entry", "complaint"),
    [
        ({"flat_name": "other", "type": "keyword", "level": "core"}, "flat_name"),
        ({"flat_name": "x", "level": "core"}, "'type'"),
        ({"flat_name": "x", "type": "keyword", "level": "core", "normalize": "array"}, "normalize"),
        (
            {"flat_name": "x", "type": "keyword", "level": "core", "allowed_values": ["a"]},
            "allowed_values",
        ),
    ],
)
def test_malformed_source_is_refused_with_the_field_named(
    generator: ModuleType, entry: dict[str, object], complaint: str
) -> None:
    with pytest.raises(generator.SourceError, match=complaint):
        generator.build_field_set({"x": entry})


def test_main_reports_unreadable_input(
    generator: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "flat.yml.gz"
    source.write_bytes(gzip.compress(yaml.safe_dump(["not", "a", "mapping"]).encode()))
    output = tmp_path / "out.json.gz"
    assert generator.main([str(source), "--output", str(output)]) == 2
    assert "expected a mapping of field names" in capsys.readouterr().err
    assert not output.exists()
