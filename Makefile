# Newcomer entry points; each target creates .venv first (scripts/setup_env.sh) when needed.
VENV := .venv

.PHONY: setup demo test bench

$(VENV)/.installed: setup.py scripts/setup_env.sh scripts/ros-requirements.txt CMakeLists.txt package.xml $(wildcard msg/*.msg)
	bash scripts/setup_env.sh
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/depthpose demo --out demo_out

test: setup
	$(VENV)/bin/python -m pytest -n 2 test

bench: setup
	$(VENV)/bin/python bench/bench_decode.py
	$(VENV)/bin/python bench/bench_inference.py
	$(VENV)/bin/python bench/bench_node.py
	$(VENV)/bin/python bench/bench_synth.py
	$(VENV)/bin/python bench/bench_data.py
