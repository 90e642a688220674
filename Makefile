# Two entry points for a fresh machine (Python 3.11 and the system tools only):
#   make demo   install everything, build the demo workspace and serve it on http://127.0.0.1:8000
#   make test   install everything and run the linters and the whole test suite
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: install demo test lint pytest bench

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet uv==$(UV_VERSION)

install: $(UV)
	$(UV) sync --frozen --quiet

demo: install
	.venv/bin/cxlens demo

lint: install
	.venv/bin/ruff check src tests benchmarks
	.venv/bin/ruff format --check src tests benchmarks
	.venv/bin/mypy
	.venv/bin/lint-imports

pytest: install
	.venv/bin/python -m pytest

test: lint pytest
