# The two commands: `make demo` and `make test`. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test venv generate check-generated docs check-docs bundle lint format typecheck pytest bench clean

demo: $(STAMP)
	$(PY) -m trainer_tools.cli dry-run examples/minimal/train.py --dataset examples/data --report build/demo-report.html

test: check-generated lint typecheck pytest

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

generate: $(STAMP)
	$(PY) -m trainer_tools.codegen

# Drift check of everything derived from schemas/ and the rule registry.
check-generated: $(STAMP)
	$(PY) -m trainer_tools.codegen --check
	$(PY) -m trainer_tools.docs --check
	$(PY) -m trainer_tools.trainer_lint.docs --check

# Reference docs (docs/reference/) from the schemas, docs/rules.md from the lint rule registry.
docs: $(STAMP)
	$(PY) -m trainer_tools.docs
	$(PY) -m trainer_tools.trainer_lint.docs

# The single-file SDK for trainer images: dist/trainer_sdk.py.
bundle: $(STAMP)
	$(PY) -m trainer_tools.bundle

# The report tests drive headless Chromium (Debian's package); installed when missing.
.PHONY: browser
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)
pytest: browser

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

typecheck: $(STAMP)
	$(PY) -m mypy

# pytest exits 5 when no test ran; make treats any non-zero exit as failure.
pytest: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache dist
