# Newcomer entry points; each target creates .venv first (scripts/setup_env.sh) when needed.
VENV := .venv

.PHONY: setup demo test bench demo-weights table1

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

# Rebuild the shipped default weights (DepthPose-Lite 64x48, MODEL_CARD.md): synthetic training data, then about
# 47 minutes of training on 2 AVX-512 cores, about 100 on 2 AVX2 cores (config/train/lite_64x48.yaml: 2400
# iterations; resumable: run it again after an interruption). The earlier DepthPose w0.125 weights: config/train/demo_depthpose_w0125_64x48.yaml.
demo-weights: setup
	rm -rf data/synth_train data/synth_val
	$(VENV)/bin/depthpose synth data/synth_train --sequences 1800 --frames 1 --seed 100 --camera-jitter 5 150
	$(VENV)/bin/depthpose synth data/synth_val --sequences 40 --frames 1 --seed 200 --camera-jitter 5 150
	$(VENV)/bin/depthpose train config/train/lite_64x48.yaml --resume
	cp runs/lite_64x48/model_final.pth depthpose_core/weights/depthpose_lite_64x48_synth.pth

# Re-run the paper's Table 1 at this machine's scale (docs/training.md): DepthPose-Lite 64x48, SR+RTPose-Lite and
# RTPose-Lite on bicubic-upsampled input (compute within 25 %), DepthPose-Lite 80x60; seeds 0 and 1, the same
# data, budget and augmentation (the data of `make demo-weights`). About 1.1 s per iteration per run here.
TABLE1 := depthpose_lite_64x48 sr_rtpose_lite_64x48 rtpose_lite_bicubic_64x48 depthpose_lite_80x60
table1: setup
	for s in 0 1; do \
	  $(VENV)/bin/depthpose train config/train/table1_sr_lite_64x48.yaml --seed $$s --out-dir runs/table1/sr_lite_64x48_s$$s --resume && \
	  $(VENV)/bin/depthpose train config/train/table1_sr_rtpose_lite_64x48.yaml --seed $$s --out-dir runs/table1/sr_rtpose_lite_64x48_s$$s \
	    --init runs/table1/sr_lite_64x48_s$$s/model_final.pth --resume && \
	  for m in depthpose_lite_64x48 rtpose_lite_bicubic_64x48 depthpose_lite_80x60; do \
	    $(VENV)/bin/depthpose train config/train/table1_$$m.yaml --seed $$s --out-dir runs/table1/$${m}_s$$s --resume || exit 1; \
	  done || exit 1; \
	done
	$(VENV)/bin/depthpose eval data/synth_test/annotations.json --precision fp32 --out runs/table1/eval \
	  $(foreach m,$(TABLE1),$(foreach s,0 1,--compare $(m)=runs/table1/$(m)_s$(s)/model_final.pth))
