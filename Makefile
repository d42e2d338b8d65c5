# Two commands on a fresh machine: `make demo` (the main job) and `make test` (the test suite).
# Both first install everything into .venv. torch is pinned to the CPU wheel that lies on this kind of
# machine's disk and is installed *before* anything that depends on torch, so pip never pulls a CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_PIN ?= torch==2.13.0
PLUGINS := plugins/verikit-math plugins/verikit-arith
STAMP := $(VENV)/.verikit-installed
OUT ?= out
export VERIKIT_DATA ?= $(abspath ../shared/data)

.PHONY: install demo demo-hard test test-fast clean

install: $(STAMP)

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIN)
	$(BIN)/python -m pip install --quiet -e '.[dev,trl]' $(addprefix -e ,$(PLUGINS))
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/verikit checker-report --dataset gsm8k-test --out $(OUT)/checker-gsm8k-test.json
	$(BIN)/verikit checker-report --dataset math500 --out $(OUT)/checker-math500.json
	$(BIN)/verikit arith train-generator --preset arith-easy --out $(OUT)/generator-arith-easy
	$(BIN)/verikit arith eval-generator --model $(OUT)/generator-arith-easy --preset arith-easy --n 16 --out $(OUT)/eval-arith-easy.json
	$(BIN)/python -m benchmarks.annotation --generator $(OUT)/generator-arith-easy --problems 200 --samples 4 --out $(OUT)/annotation

# The harder preset's generator and its figures (about 8 minutes more).
demo-hard: $(STAMP)
	$(BIN)/verikit arith train-generator --preset arith-hard --out $(OUT)/generator-arith-hard
	$(BIN)/verikit arith eval-generator --model $(OUT)/generator-arith-hard --preset arith-hard --n 16 --out $(OUT)/eval-arith-hard.json

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

clean:
	rm -rf $(VENV) $(OUT)
