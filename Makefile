PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test lint bench clean messages

# An editable install compiles the message catalogues (hatch_build.py): again when a .po changes.
$(STAMP): pyproject.toml $(wildcard srs/locale/*/LC_MESSAGES/*.po)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	@SRS_HOME=$${SRS_HOME:-$(CURDIR)/.demo} ./scripts/demo.sh $(BIN)

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check srs cli scheduler tests benchmarks scripts hatch_build.py
	$(BIN)/mypy

# New messages from the sources, help texts and click into srs/locale/srs.pot and every srs.po
# (untranslated), then the .mo compiled; lists what is left to translate.
messages: $(STAMP)
	$(BIN)/python scripts/messages.py

# Its own stamp, so the Anki wheel never slows `make test`. BENCH_ARGS=--quick for a smoke run.
$(BENCH_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .demo build dist
