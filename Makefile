# Newcomer entry points; each target creates .venv first (scripts/setup_env.sh) when needed.
VENV := .venv

.PHONY: setup demo test bench demo-weights

$(VENV)/.installed: setup.py scripts/setup_env.sh scripts/ros-requirements.txt CMakeLists.txt package.xml $(wildcard msg/*.msg)
	bash scripts/setup_env.sh
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/depthpose_demo_live --out demo_out

test: setup
	$(VENV)/bin/python -m pytest -n 2 test

bench: setup
	$(VENV)/bin/python bench/bench_decode.py
	$(VENV)/bin/python bench/bench_inference.py
	$(VENV)/bin/python bench/bench_backends.py
	$(VENV)/bin/python bench/bench_node.py
	$(VENV)/bin/python bench/bench_synth.py
	$(VENV)/bin/python bench/bench_data.py
	$(VENV)/bin/python bench/bench_replay.py
	$(VENV)/bin/python bench/bench_train.py

# Rebuild the shipped demo weights: synthetic training data, then about 80 minutes of training on this 2-core CPU (4500 iterations, ~1.05 s each).
demo-weights: setup
	rm -rf data/synth_train data/synth_val
	$(VENV)/bin/depthpose synth data/synth_train --sequences 1800 --frames 1 --seed 100 --camera-jitter 5 150
	$(VENV)/bin/depthpose synth data/synth_val --sequences 40 --frames 1 --seed 200 --camera-jitter 5 150
	$(VENV)/bin/depthpose train config/train/demo_depthpose_w0125_64x48.yaml
	cp runs/demo_w0125_64x48/model_final.pth depthpose_core/weights/depthpose_w0125_64x48_synth.pth
