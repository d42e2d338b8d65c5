# Two commands on a fresh machine: `make demo` (the main job) and `make test` (the test suite).
# Both first install everything into .venv. torch is pinned to the CPU wheel that lies on this kind of
# machine's disk and is installed *before* anything that depends on torch, so pip never pulls a CUDA build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_PIN ?= torch==2.13.0
PLUGINS := plugins/verikit-math plugins/verikit-arith plugins/verikit-medqa
STAMP := $(VENV)/.verikit-installed
OUT ?= out
export VERIKIT_DATA ?= $(abspath ../shared/data)

.PHONY: install demo benchmarks benchmarks-verification demo-hard test test-fast lint clean

install: $(STAMP)

$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIN)
	$(BIN)/python -m pip install --quiet -e '.[dev,trl,serve,ray,lora]' $(addprefix -e ,$(PLUGINS))
	touch $(STAMP)

# The main job: the paper's Table 1 on the CPU miniature (see README for what it runs and how long).
demo: $(STAMP)
	$(BIN)/verikit demo --out $(OUT)/demo

# The component figures (annotation quality, reward models, scoring speed, robustness, performance).
benchmarks: $(STAMP)
	$(BIN)/verikit checker-report --dataset gsm8k-test --out $(OUT)/checker-gsm8k-test.json
	$(BIN)/verikit checker-report --dataset math500 --out $(OUT)/checker-math500.json
	$(BIN)/verikit arith train-generator --preset arith-easy --role policy --out $(OUT)/policy-arith-easy
	$(BIN)/verikit arith eval-generator --model $(OUT)/policy-arith-easy --preset arith-easy --n 16 --out $(OUT)/eval-arith-easy.json
	$(BIN)/verikit arith train-generator --preset arith-easy --role completer --out $(OUT)/completer-arith-easy
	$(BIN)/python -m benchmarks.annotation --generator $(OUT)/completer-arith-easy --rollout-temperature 0.7 \
		--problems 200 --samples 4 --out $(OUT)/annotation
	$(BIN)/verikit annotate --dataset arith-easy --split train --limit 400 --samples 4 --n 8 --rollout-temperature 0.7 \
		--generator $(OUT)/policy-arith-easy --completer $(OUT)/completer-arith-easy --max-new-tokens 160 \
		--out $(OUT)/annotations-policy-train
	$(BIN)/verikit make-processbench --dataset arith-easy --split dev --problems 200 --samples 4 \
		--generator $(OUT)/policy-arith-easy --max-new-tokens 160 --out $(OUT)/processbench-dev.jsonl
	$(BIN)/verikit make-processbench --dataset arith-easy --split test --problems 250 --samples 4 --seed 1 \
		--generator $(OUT)/policy-arith-easy --max-new-tokens 160 --out $(OUT)/processbench-test.jsonl
	$(BIN)/python -m benchmarks.reward_models --annotations $(OUT)/annotations-policy-train --base $(OUT)/completer-arith-easy \
		--dev $(OUT)/processbench-dev.jsonl --test $(OUT)/processbench-test.jsonl --out $(OUT)/reward_models
	$(BIN)/python -m benchmarks.tag_head_ablation --annotations $(OUT)/annotations-policy-train --base $(OUT)/completer-arith-easy \
		--dev $(OUT)/processbench-dev.jsonl --test $(OUT)/processbench-test.jsonl --out $(OUT)/tag_head_ablation
	$(BIN)/python -m benchmarks.scoring --model $(OUT)/reward_models/prm-hard --out $(OUT)/scoring.json
	$(BIN)/python -m benchmarks.robustness --out $(OUT)/robustness.json
	$(BIN)/python -m benchmarks.perf --model $(OUT)/completer-arith-easy --prm $(OUT)/reward_models/prm-hard --out $(OUT)/perf.json

# Table 1 over three sampling seeds with beam search, the miniature Table 2 (RL), annotation throughput, the PRM
# scaling study, the table over ten annotation draws on this code (with the verifier-PRM row) and the code before
# per-sample seeds (about 90 minutes of its own), whether the reward models see a step: the contrastive probe of every
# demo reward model, linear probes per layer, and the tag head's study (about 60 minutes), and the policy by generator
# seed and schedule (about 20 minutes); after `make demo`.
benchmarks-verification: demo
	$(BIN)/python -m benchmarks.arith --demo $(OUT)/demo --out $(OUT)/arith
	$(BIN)/python -m benchmarks.arith.ppo_dev --demo $(OUT)/demo --out $(OUT)/ppo_dev
	$(BIN)/python -m benchmarks.arith.rl --demo $(OUT)/demo --out $(OUT)/rl
	$(BIN)/python -m benchmarks.annotation_throughput --demo $(OUT)/demo --out $(OUT)/annotation_throughput
	$(BIN)/python -m benchmarks.prm_scaling --demo $(OUT)/demo --out $(OUT)/prm_scaling
	$(BIN)/python -m benchmarks.annotation_draws --seeds 0-9 --baseline b4062df --out $(OUT)/annotation_draws
	$(BIN)/python -m benchmarks.contrastive_probe --run $(OUT)/demo/arith-easy --out $(OUT)/contrastive_probe
	$(BIN)/python -m benchmarks.process_outcome --run $(OUT)/demo/arith-easy --out $(OUT)/process_outcome
	$(BIN)/python -m benchmarks.tag_probes --models completer=$$($(BIN)/python -c "import json;print(json.load(open('$(OUT)/demo/arith-easy/models.json'))['completer'])"),prm=$(OUT)/demo/arith-easy/reward_models/prm --out $(OUT)/tag_probes
	$(BIN)/python -m benchmarks.tag_head_study --run $(OUT)/demo/arith-easy --out $(OUT)/tag_head_study
	$(BIN)/python -m benchmarks.policy_schedule --out $(OUT)/policy_schedule

# Table 1 on both presets: the easy stages are reused from `make demo`; arith-hard adds two models
# (about 14 minutes of training) and its own annotation, reward models and samples.
demo-hard: $(STAMP)
	$(BIN)/verikit demo --presets arith-easy,arith-hard --out $(OUT)/demo

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

# ruff's lint (pycodestyle, pyflakes, import order) and its formatter, configured in pyproject.toml; CI runs both
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) $(OUT)
