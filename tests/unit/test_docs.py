"""Docs that cannot drift."""

from __future__ import annotations

import re
import subprocess
import sys
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
