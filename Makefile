# The two commands that matter: `make demo` (set up, run every pipeline locally) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint up down status ui screenshots benchmarks clean mwaa-package mwaa-parity deploy

setup: $(STAMP)
	@bash local_platform/system_deps.sh
	@$(BIN)/python -m local_platform.spark_cds > /dev/null  # Spark's class archive (once per JDK and pyspark)

$(STAMP): requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	sed '/^--constraint/d' requirements.txt > $(VENV)/requirements-mwaa.txt
	$(BIN)/python -m pip install -q -r $(VENV)/requirements-mwaa.txt -r requirements-dev.txt
	touch $@

demo: setup
	$(BIN)/python -m local_platform demo

# Two workers (the machine's two cores), each test file whole on one of them: module fixtures start once.
test: setup
	$(BIN)/python -m pytest -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/cfn-lint deploy/cloudformation/*.yaml

up: setup
	$(BIN)/python -m local_platform up

ui: setup
	$(BIN)/python -m local_platform ui

# The README's pictures of the UI, from the Airflow that `make demo` leaves running.
screenshots: setup
	$(BIN)/python -m local_platform.screenshots

status:
	$(BIN)/python -m local_platform status

down:
	$(BIN)/python -m local_platform down

benchmarks: setup
	$(BIN)/python -m benchmarks.support.run_all

clean: down
	rm -rf .local

# Amazon MWAA: build the package (dist/mwaa/ and dist/mwaa.zip), check it installs and parses as MWAA runs it
# (Python 3.12, MWAA's constraints and layout), upload it and update the environment (see the README).
mwaa-package: setup
	$(BIN)/python -m deploy.package

mwaa-parity: setup
	$(BIN)/python -m deploy.mwaa_parity

deploy: mwaa-package
	$(BIN)/python -m deploy.push --environment "$(MWAA_ENV)" $(if $(ENDPOINT_URL),--endpoint-url $(ENDPOINT_URL))
