"""What a plain ``pip install cxlens`` gets: the wheel's metadata (extras, no unused dependency),
``cxlens --version``, and a clear MissingExtra when an optional library is absent."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from email.message import Message
from email.parser import Parser
from pathlib import Path

import pytest

import cxlens
from cxlens.errors import MissingExtra

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".tools" / "bin" / "uv"  # the Makefile's own uv; `make test` always has it


@pytest.fixture(scope="module")
def wheel_metadata(tmp_path_factory: pytest.TempPathFactory) -> Message:
    if not UV.exists():
        pytest.skip(f"{UV} is missing (`make install` provides it)")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [str(UV), "build", "--wheel", "--out-dir", str(out), str(ROOT)], check=True, capture_output=True
    )
    (wheel,) = out.glob("cxlens-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def test_the_wheel_declares_one_extra_per_optional_library(wheel_metadata: Message) -> None:
    assert sorted(wheel_metadata.get_all("Provides-Extra") or []) == ["pandas", "polars", "spark"]
    requires = wheel_metadata.get_all("Requires-Dist") or []
    for extra, library in (("pandas", "pandas"), ("polars", "polars"), ("spark", "pyspark")):
        assert any(r.startswith(library) and f"extra == '{extra}'" in r for r in requires), requires
    plain = [r.split(";")[0] for r in requires if "extra ==" not in r]
    assert not any(r.startswith(("pandas", "polars", "pyspark")) for r in plain)  # never a plain install's
    assert not any(r.startswith("pluggy") for r in requires)  # nothing imports it
    assert wheel_metadata["Version"] == cxlens.__version__


def test_version_option_prints_the_package_version() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = subprocess.run(
        [sys.executable, "-m", "cxlens", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"cxlens {declared}"
    assert cxlens.__version__ == declared


# `sys.modules[name] = None` makes the next `import name` fail for real (ImportError), as on an
# install without the extra; it runs in a child so this process keeps its pandas and polars.
ABSENT = """
import sys
sys.modules[{module!r}] = None
from cxlens.errors import MissingExtra
from cxlens.metrics.result import MetricResult
from cxlens.metrics.spec import make_query

result = MetricResult(query=make_query("nps"), unit="points", test="none", rows=[{{"n": 1}}])
try:
    getattr(result, {method!r})()
except MissingExtra as error:
    print(error.message)
    sys.exit(error.exit_code)
"""


@pytest.mark.parametrize(("module", "method"), [("pandas", "to_pandas"), ("polars", "to_polars")])
def test_a_missing_optional_library_names_the_extra_to_install(module: str, method: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ABSENT.format(module=module, method=method)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == MissingExtra.exit_code, done.stderr
    assert f"pip install 'cxlens[{module}]'" in done.stdout
    assert f"{method}()" in done.stdout


def test_with_the_library_installed_the_conversion_works() -> None:
    from cxlens.metrics.result import MetricResult
    from cxlens.metrics.spec import make_query

    result = MetricResult(query=make_query("nps"), unit="points", test="none", rows=[{"n": 1}, {"n": 2}])
    assert result.to_pandas()["n"].tolist() == [1, 2]
    assert result.to_polars()["n"].to_list() == [1, 2]
