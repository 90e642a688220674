"""Docs that cannot drift."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from cxlens.cli import app
from cxlens.config import Settings, settings_reference

ROOT = Path(__file__).resolve().parents[2]


def test_configuration_reference_is_current() -> None:
    assert (ROOT / "docs" / "configuration.md").read_text() == settings_reference()


def test_every_setting_is_described() -> None:
    assert all(field.description for field in Settings.model_fields.values())


def test_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in quickstart.splitlines()[1:] if line.strip()]
    assert commands == ["make demo", "make test"]


def test_cli_reference_and_exit_codes_are_generated_and_current() -> None:
    """docs/cli.md's command reference and exit-code table come from the Typer app and errors.py
    (scripts/gen_docs.py); the check also fails when a CLI option has no help text."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_docs.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_every_option_the_cli_guide_names_exists() -> None:
    """The hand-written parts of docs/cli.md may only name options some command really has."""
    text = (ROOT / "docs" / "cli.md").read_text()
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z-]*", text))
    assert named - _cli_options() == set()


def _cli_options() -> set[str]:
    def walk(command: Any) -> Iterator[Any]:
        yield command
        for sub in getattr(command, "commands", {}).values():
            yield from walk(sub)

    return {
        name
        for command in walk(typer.main.get_command(app))
        for param in command.params
        for name in [*param.opts, *param.secondary_opts, "--help"]
        if name.startswith("--")
    }


def _contract_layers() -> list[set[str]]:
    """The `layers` contract of pyproject.toml, top first, each layer as its set of package names."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (rings,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"]
    return [{name.strip().removeprefix("cxlens.") for name in layer.split("|")} for layer in rings["layers"]]


def _ring_table() -> list[tuple[int, list[str]]]:
    """The rows of docs/architecture.md's layer table: (layer number, the backticked names in Packages)."""
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## The rings and their layers", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if re.match(r"\| *\d+ *\|", line)]
    return [(int(cells[0]), re.findall(r"`([^`]+)`", cells[2])) for cells in rows]


def _top_level_name(entry: str) -> str:
    """`cli/` and `config.py` name the packages `cli` and `config`; `surveys/language/` is a subpackage."""
    return entry.rstrip("/").split("/")[0].removesuffix(".py")


def test_the_ring_table_holds_every_package_in_its_contract_layer() -> None:
    table = _ring_table()
    assert [number for number, _ in table] == list(range(1, len(table) + 1))
    documented = [{_top_level_name(e) for e in entries if e.count("/") <= 1} for _, entries in table]
    assert documented == _contract_layers()  # same layers, same order, same packages in each


def test_the_ring_table_names_each_package_under_src_exactly_once() -> None:
    src = ROOT / "src" / "cxlens"
    packages = {p.name for p in src.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in src.glob("*.py") if p.name not in {"__init__.py", "__main__.py"}}
    top_level = [_top_level_name(e) for _, entries in _ring_table() for e in entries if e.count("/") <= 1]
    assert sorted(top_level) == sorted(packages | modules)
    subpackages = [e for _, entries in _ring_table() for e in entries if e.count("/") > 1]
    assert all((src / e / "__init__.py").exists() for e in subpackages), subpackages


def test_the_import_contracts_section_names_every_contract() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    section = text.split("## Import contracts", 1)[1].split("\n## ", 1)[0]
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    names = [c["name"] for c in config["tool"]["importlinter"]["contracts"]]
    assert [n for n in names if f"**{n}**" not in section] == []
