# Everyday tasks. Each goes through run.py, which sets up .venv from requirements.lock first.
PY ?= python3

.PHONY: setup test lint bench demo serve lock docs

setup:
	$(PY) run.py setup

test:
	$(PY) run.py test

lint:
	$(PY) run.py lint

bench:
	$(PY) run.py bench

demo:
	$(PY) run.py demo

serve:
	$(PY) run.py parley serve

docs:
	$(PY) run.py parley tables --markdown > docs/tables.md

# Re-pin dependencies after editing pyproject.toml
lock:
	.venv/bin/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock
