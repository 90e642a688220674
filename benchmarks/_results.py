"""What every benchmark shares: the ``--smoke`` and ``--out`` options, where a result is written, and
what it records about the machine it ran on (so figures can be compared).

``--smoke`` swaps in tiny sizes so the test suite can prove a script still runs end to end
(tests/integration/test_benchmarks.py); its figures mean nothing. Options given explicitly still win
over the smoke sizes. A smoke run writes to ``benchmarks/out/smoke/`` unless ``--out`` says otherwise,
so it never lands beside real results.
"""

from __future__ import annotations

import argparse
import json
import platform
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

OUT = Path(__file__).resolve().parent / "out"


def parse_args(
    parser: argparse.ArgumentParser, smoke: Mapping[str, Any], argv: Sequence[str] | None = None
) -> argparse.Namespace:
    """Add ``--smoke`` and ``--out`` to ``parser`` and parse. ``smoke`` maps option destinations to
    their tiny sizes; they replace the defaults only, never a value given on the command line."""
    sizes = ", ".join(f"--{k.replace('_', '-')} {v}" for k, v in smoke.items())
    parser.add_argument(
        "--smoke", action="store_true", help=f"tiny run that only proves the script works ({sizes})"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help=f"folder for the JSON result (default {OUT}, {OUT / 'smoke'} with --smoke)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        parser.set_defaults(**smoke)
        args = parser.parse_args(argv)
    if args.out is None:
        args.out = OUT / "smoke" if args.smoke else OUT
    return args


def write_result(args: argparse.Namespace, name: str, result: Mapping[str, Any]) -> Path:
    """Write ``result`` (marked whether it is a smoke run) as ``<args.out>/<name>-<UTC stamp>.json``
    and return the path."""
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({"smoke": args.smoke, **result}, indent=2, default=str))
    return path


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def describe_machine(packages: tuple[str, ...]) -> dict[str, Any]:
    """CPU, cores, RAM, OS, Python and, under ``packages``, the versions of ``packages`` (None when
    not installed)."""
    versions: dict[str, str | None] = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu": _cpu_model(),
        "logical_cores": psutil.cpu_count(logical=True),
        "physical_cores": psutil.cpu_count(logical=False),
        "ram_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": versions,
    }
