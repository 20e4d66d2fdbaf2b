# The two commands of the README: `make demo` and `make test`. Both set everything up first.
VENV ?= .venv
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DO_NOT_TRACK ?= 1

.PHONY: demo test setup bench clean

$(VENV)/.installed-test: pyproject.toml scripts/setup.sh
	VENV=$(VENV) EXTRAS=test scripts/setup.sh

setup: $(VENV)/.installed-test

demo: setup
	$(VENV)/bin/speechcraft demo

test: setup
	$(VENV)/bin/python -m pytest -n auto -q

$(VENV)/.installed-test,bench: pyproject.toml scripts/setup.sh
	VENV=$(VENV) EXTRAS=test,bench scripts/setup.sh

bench: $(VENV)/.installed-test,bench
	$(VENV)/bin/python bench/ingest.py
	$(VENV)/bin/python bench/acoustics.py
	$(VENV)/bin/python bench/models_gpu.py
	$(VENV)/bin/python bench/describe.py
	$(VENV)/bin/python bench/emphasis.py
	$(VENV)/bin/python bench/dashboard.py
	$(VENV)/bin/python bench/pipeline.py

clean:
	rm -rf lakehouse demo-data .pytest_cache
