VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

.PHONY: run test install clean bench

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test,parquet]'
	touch $(STAMP)

install: $(STAMP)

# The main job: classify the bundled example decisions into the default store (anke.db).
# corpus/examples holds broken files on purpose: anke exits 3 when some files failed, which is
# the expected result here (any other non-zero status fails the target).
run: $(STAMP)
	$(VENV)/bin/anke classify corpus/examples --store anke.db --jobs 2 || [ $$? -eq 3 ]
	$(VENV)/bin/anke trends --store anke.db --by outcome

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/throughput.py

clean:
	rm -rf $(VENV) .cache anke.db anke.db-wal anke.db-shm
