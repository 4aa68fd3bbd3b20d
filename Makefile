# The two set-up commands of the README: `make demo` and `make test`, best run inside a
# virtual environment (README). `make demo` installs the package and what it runs on, nothing
# more; `make test` adds the dev extras (pytest, and the references the tests compare with:
# audiomentations, librosa with numba and llvmlite; TensorBoard).
# torch is installed first and on its own, so that pip never resolves `torch>=2.1` to a
# multi-GB CUDA build on a CPU machine; where torch is already installed it is kept.
PYTHON ?= python3
TORCH ?= torch==2.13.0
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: install install-dev demo test bench hear-validator

install:
	@$(PYTHON) -c "import sys, os; sys.exit(sys.prefix == sys.base_prefix and not os.environ.get('CONDA_PREFIX'))" \
	  || echo "note: installing into $$($(PYTHON) -c 'import sys; print(sys.prefix)'), not a virtual environment" \
	     "(python3 -m venv .venv && . .venv/bin/activate, then make again; README)"
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -q "$(TORCH)"
	@$(PYTHON) -m pip install -q -e .

install-dev: install
	@$(PYTHON) -m pip install -q -e ".[dev]"

demo: install
	$(PYTHON) -m audiorep demo --out demo_out

test: install-dev
	$(PYTHON) -m pytest -q

bench: install
	$(PYTHON) benchmarks/throughput.py --json benchmarks/results/throughput_cpu.json

# The official HEAR validator against a saved checkpoint and the default model. It needs
# TensorFlow (~570 MB wheel), so it gets its own venv over this one's packages and never
# changes the environment the tests run in. Where the package registry cannot be reached it
# says so and stops without failing; a validator error fails.
HEAR_VENV ?= .venv-hear
hear-validator: install-dev
	@[ -x $(HEAR_VENV)/bin/python ] || $(PYTHON) -m venv --system-site-packages $(HEAR_VENV)
	@if $(HEAR_VENV)/bin/python -m pip install -q hearvalidator==2021.0.2; then \
	  PYTHONPATH=src AUDIOREP_RUN_HEAR_VALIDATOR=1 $(HEAR_VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_hear.py -k official; \
	else echo "hear-validator: could not install hearvalidator (TensorFlow) from the package registry; not run"; fi
