# The two set-up commands of the README: `make demo` and `make test`.
# torch is installed first and on its own, so that pip never resolves `torch>=2.1` to a
# multi-GB CUDA build on a CPU machine; where torch is already installed it is kept.
PYTHON ?= python3
TORCH ?= torch==2.13.0
export TF_CPP_MIN_LOG_LEVEL ?= 3

.PHONY: install demo test bench

install:
	@$(PYTHON) -c "import torch" 2>/dev/null || $(PYTHON) -m pip install -q "$(TORCH)"
	@$(PYTHON) -m pip install -q -e ".[dev]"

demo: install
	$(PYTHON) -m audiorep demo --out demo_out

test: install
	$(PYTHON) -m pytest -q

bench: install
	$(PYTHON) benchmarks/throughput.py --json benchmarks/results/throughput_cpu.json
