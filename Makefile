# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
READY := $(VENV)/.ready

.PHONY: run test lint unit lock audit clean

# The product's packages: what the image holds and bandit reads.
PRODUCT := domain workflows activities persistence api config cli

$(READY): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(READY)

run: $(READY)
	$(BIN)/nopic dev

lint: $(READY)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/bandit -c pyproject.toml -q -r $(PRODUCT)

# Two test processes (pytest-xdist), each a file at a time: most tests wait on servers they
# started (Temporal, PostgreSQL, SMTP, Chromium), so two keep both cores of a small machine busy.
unit: $(READY)
	$(BIN)/pytest -n 2 --dist loadfile

test: lint unit

# Regenerate both hashed locks after a change to pyproject.toml: requirements.lock (with the dev
# extra, what `make` installs) first, then requirements-runtime.lock (the image's: the product's
# dependencies only) constrained by it, so the two pin the same version of every shared package.
LOCK_FLAGS := --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_28 -q
lock: $(READY)
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_FLAGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml -c requirements.lock $(LOCK_FLAGS) \
		-o requirements-runtime.lock

# pip-audit over both locks. It needs the advisory service (PyPI's vulnerability data): where that
# cannot be reached every package is "not audited" and the target fails (exit 2), never a pass.
audit: $(READY)
	$(BIN)/python deploy/audit.py requirements-runtime.lock requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
