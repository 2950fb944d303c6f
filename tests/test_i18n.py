"""Every user-facing catalog speaks English and Korean."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import doorhunt
from doorhunt.i18n import Catalog, default_language


def catalogs() -> list[tuple[str, Catalog]]:
    found = []
    for info in pkgutil.walk_packages(doorhunt.__path__, "doorhunt."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        found += [
            (f"{info.name}.{name}", value)
            for name, value in vars(module).items()
            if isinstance(value, Catalog)
        ]
    return found


def test_there_are_catalogs() -> None:
    assert len(catalogs()) >= 4


@pytest.mark.parametrize(("name", "catalog"), catalogs())
def test_every_message_has_korean_text_that_formats(name: str, catalog: Catalog) -> None:
    for code, templates in catalog.entries.items():
        assert templates["ko"].strip() and templates["en"].strip(), f"{name}:{code}"
        fields_en = {part.split("}")[0] for part in templates["en"].split("{")[1:]}
        fields_ko = {part.split("}")[0] for part in templates["ko"].split("{")[1:]}
        assert fields_en == fields_ko, f"{name}:{code} uses different parameters"


def test_missing_language_is_refused() -> None:
    with pytest.raises(ValueError, match="no ko text"):
        Catalog({"x": {"en": "only English"}})


@pytest.mark.parametrize(
    ("environment", "language"),
    [
        ({"LANG": "ko_KR.UTF-8"}, "ko"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LC_ALL": "ko_KR.UTF-8", "LANG": "en_US.UTF-8"}, "ko"),
        ({"LC_ALL": "C", "LANG": "ko_KR.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_default_language_follows_the_locale(environment: dict[str, str], language: str) -> None:
    assert default_language(environment) == language
