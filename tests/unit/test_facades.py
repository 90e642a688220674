"""Slice facades: every slice names its public API in ``__all__``, and the import-linter contract
"Ways in use slices through their facades" covers every module behind a facade — so a module added
to a slice (or a new slice) cannot be reached from web/ or cli/ around its facade unnoticed."""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "cxlens"
# Packages that are not slices: the ways in, the composition root and the infrastructure and kernel
# rings, which every ring may use directly.
NOT_SLICES = {
    "cli",
    "web",
    "workspace",
    "bootstrap",
    "jobs",
    "storage",
    "mail",
    "core",
    "config",
    "errors",
    "version",
}
FACADES = {"cxlens.surveys.language"}  # a subpackage with a facade of its own


def _contract() -> dict[str, object]:
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["name"] == "Ways in use slices through their facades"]
    return contract


def _slices() -> list[str]:
    return sorted(
        f"cxlens.{p.name}"
        for p in PACKAGE.iterdir()
        if (p / "__init__.py").exists() and p.name not in NOT_SLICES
    )


def _modules(package: str) -> list[str]:
    base = PACKAGE.parent
    folder = base / package.replace(".", "/")
    found = []
    for path in folder.rglob("*.py"):
        parts = list(path.relative_to(base).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append(".".join(parts))
    return sorted(found)


def _matches(pattern: str, module: str) -> bool:
    regex = re.escape(pattern).replace(r"\*\*", r"[\w.]+").replace(r"\*", r"\w+")
    return re.fullmatch(regex, module) is not None


def test_the_contract_guards_the_ways_in() -> None:
    contract = _contract()
    assert contract["source_modules"] == ["cxlens.web", "cxlens.cli"]
    assert "ignore_imports" not in contract  # no exceptions


@pytest.mark.parametrize("slice_name", _slices())
def test_every_module_behind_a_facade_is_forbidden_to_the_ways_in(slice_name: str) -> None:
    patterns = _contract()["forbidden_modules"]
    assert isinstance(patterns, list)
    facades = {slice_name} | {f for f in FACADES if f.startswith(slice_name + ".")}
    open_modules = [
        m for m in _modules(slice_name) if m not in facades and not any(_matches(p, m) for p in patterns)
    ]
    assert open_modules == [], f"add these to the facade contract in pyproject.toml: {open_modules}"
    assert not any(_matches(p, f) for p in patterns for f in facades)


@pytest.mark.parametrize("facade", [*_slices(), *sorted(FACADES)])
def test_a_facade_names_its_api_and_every_name_exists(facade: str) -> None:
    module = importlib.import_module(facade)
    exported = getattr(module, "__all__", None)
    if exported is None:  # a slice that the ways in do not use yet has nothing to name
        assert facade not in _used_by_ways_in(), f"{facade} is used by web/ or cli/ but has no __all__"
        return
    assert sorted(exported) == sorted(set(exported))
    assert [name for name in exported if not hasattr(module, name)] == []


def _used_by_ways_in() -> set[str]:
    used = set()
    for way in ("web", "cli"):
        for path in (PACKAGE / way).rglob("*.py"):
            used |= set(re.findall(r"^\s*from (cxlens\.[\w.]+) import", path.read_text(), re.M))
    return used
