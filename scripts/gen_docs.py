"""Write the generated parts of docs/cli.md: the exit-code table (from the error tree in
``cxlens.errors``) and the command reference (from the Typer app in ``cxlens.cli``).

    .venv/bin/python scripts/gen_docs.py           # rewrite docs/cli.md in place
    .venv/bin/python scripts/gen_docs.py --check   # exit 1 if docs/cli.md is stale (the test suite runs this)

Each generated part sits between ``<!-- BEGIN GENERATED <name> -->`` and ``<!-- END GENERATED <name> -->``;
everything outside the markers is written by hand and left alone.
"""

from __future__ import annotations

import argparse
import enum
import inspect
import re
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer.main

from cxlens import errors
from cxlens.cli import app

CLI_MD = Path(__file__).resolve().parents[1] / "docs" / "cli.md"
METAVARS = {str: "TEXT", int: "INTEGER", float: "NUMBER", Path: "PATH"}


def _first_paragraph(text: str | None) -> str:
    """A docstring's first paragraph on one line (the rest is for readers of the code)."""
    paragraph = inspect.cleandoc(text or "").split("\n\n")[0]
    return " ".join(paragraph.split()).replace("``", "`")  # reST literals in docstrings -> Markdown


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


# --- exit codes -----------------------------------------------------------------------------------
def _error_tree(cls: type[errors.CxLensError]) -> Iterator[type[errors.CxLensError]]:
    yield cls
    for sub in cls.__subclasses__():
        if sub.__module__ == errors.__name__:
            yield from _error_tree(sub)


def exit_code_table() -> str:
    """One row per error class, by exit code then in the order of the tree."""
    tree = list(_error_tree(errors.CxLensError))
    rows = sorted(tree, key=lambda cls: (cls.exit_code, tree.index(cls)))
    lines = [
        "| Exit | Error | `code` | HTTP | When |",
        "|---:|---|---|---:|---|",
        "| 0 | — | — | — | Success. |",
    ]
    for cls in rows:
        if cls.__doc__ is None:
            raise SystemExit(f"{cls.__name__} in errors.py has no docstring to say when it happens")
        lines.append(
            f"| {cls.exit_code} | `{cls.__name__}` | `{cls.code}` | {cls.http_status} | "
            f"{_cell(_first_paragraph(cls.__doc__))} |"
        )
    return "\n".join(lines)


# --- command reference ----------------------------------------------------------------------------
def _commands(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    """Every command a user can run, in the order the app declares them; the root first, for its
    own options (``--version``)."""
    if len(path) == 1:
        yield path, command
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            if not sub.hidden:
                yield from _commands(sub, [*path, name])
    else:
        yield path, command


def _annotation(param: Any) -> Any:
    annotation = param.type_descriptor.annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):  # X | None
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is list:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _metavar(param: Any) -> str:
    if param.metavar:
        return str(param.metavar)
    annotation = _annotation(param)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "|".join(str(member.value) for member in annotation)
    return METAVARS.get(annotation, str(getattr(annotation, "__name__", annotation)).upper())


def _default(param: Any) -> str:
    default = param.default
    if param.required:
        return "required"
    if default is None or default == [] or default is False or not param.show_default:
        return ""
    if isinstance(default, enum.Enum):
        default = default.value
    if default is True and param.secondary_opts:
        return f"`{param.opts[0]}`"
    return f"`{default}`"


def _name(param: Any) -> str:
    if param.param_type_name == "argument":
        return f"`{(param.metavar or param.name).upper()}`"
    names = ", ".join(f"`{o}`" for o in [*param.opts, *param.secondary_opts])
    if param.is_flag:
        return names
    return f"{names} `{_metavar(param)}`" + (" (repeatable)" if param.multiple else "")


def _usage(path: list[str], command: Any) -> str:
    arguments = [
        (p.metavar or p.name).upper() + ("..." if p.nargs == -1 else "")
        for p in command.params
        if p.param_type_name == "argument"
    ]
    optional = [a if p.required else f"[{a}]" for a, p in zip(arguments, _arguments(command), strict=True)]
    return " ".join([*path, *optional, "[OPTIONS]" if len(path) > 1 else "[OPTIONS] COMMAND [ARGS]..."])


def _arguments(command: Any) -> list[Any]:
    return [p for p in command.params if p.param_type_name == "argument"]


def _missing_help(path: list[str], command: Any) -> list[str]:
    return [
        f"{' '.join(path)} {param.opts[0]}"
        for param in command.params
        if not param.hidden and not (param.help or "").strip()
    ]


def command_reference() -> str:
    root = typer.main.get_command(app)
    sections: list[str] = []
    missing: list[str] = []
    for path, command in _commands(root, ["cxlens"]):
        missing += _missing_help(path, command)
        rows = [
            f"| {_cell(_name(p))} | {_default(p)} | {_cell(' '.join((p.help or '').split()))} |"
            for p in command.params
            if not p.hidden
        ]
        table = ["| Argument / option | Default | Meaning |", "|---|---|---|", *rows] if rows else []
        sections.append(
            "\n".join(
                [
                    f"### `{' '.join(path)}`",
                    "",
                    f"`{_usage(path, command)}`",
                    "",
                    _first_paragraph(command.help),
                    *(["", *table] if table else []),
                ]
            )
        )
    if missing:
        raise SystemExit("CLI parameters without a help text: " + ", ".join(missing))
    return "\n\n".join(sections)


# --- the file -------------------------------------------------------------------------------------
def render(text: str) -> str:
    """``text`` with every generated part replaced by its current content."""
    for name, make in (("exit-codes", exit_code_table), ("commands", command_reference)):
        pattern = re.compile(
            rf"(<!-- BEGIN GENERATED {name} [^\n]*-->).*?(<!-- END GENERATED {name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise SystemExit(f"{CLI_MD} has no '<!-- BEGIN GENERATED {name} … -->' marker")
        body = make()
        text = pattern.sub(lambda m, body=body: f"{m.group(1)}\n\n{body}\n\n{m.group(2)}", text)
    return text


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true", help="fail if docs/cli.md is not current")
    args = parser.parse_args()
    current = CLI_MD.read_text()
    wanted = render(current)
    if args.check:
        if wanted != current:
            print(f"{CLI_MD} is stale: run `.venv/bin/python scripts/gen_docs.py`", file=sys.stderr)
            return 1
        return 0
    CLI_MD.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
