# Newcomer entry points; each target creates .venv first (scripts/setup_env.sh) when needed.
VENV := .venv

.PHONY: setup demo test bench demo-weights table1 ingress-compare lift3d

$(VENV)/.installed: setup.py scripts/setup_env.sh scripts/ros-requirements.txt CMakeLists.txt package.xml $(wildcard msg/*.msg)
	bash scripts/setup_env.sh
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(VENV)/bin/depthpose_demo_live --out demo_out

test: setup
	$(VENV)/bin/python -m pytest -n 2 -m "not isolated" test
	$(VENV)/bin/python -m pytest -m isolated test

bench: setup
	$(VENV)/bin/python bench/bench_decode.py
	$(VENV)/bin/python bench/bench_inference.py
	$(VENV)/bin/python bench/bench_backends.py
	$(VENV)/bin/python bench/bench_node.py
	$(VENV)/bin/python bench/bench_cameras.py
	$(VENV)/bin/python bench/bench_synth.py
	$(VENV)/bin/python bench/bench_mesh_world.py
	$(VENV)/bin/python bench/bench_data.py
	$(VENV)/bin/python bench/bench_replay.py
	$(VENV)/bin/python bench/bench_train.py

# Rebuild the shipped default weights (DepthPose-Lite 64x48, MODEL_CARD.md): synthetic training data, then about
# 100 minutes of training on 2 AVX-512 cores, about 50 on 2 AMX cores, 200 on 2 AVX2 cores
# (config/train/lite_64x48.yaml: 3600 iterations; resumable: run it again after an interruption). The earlier DepthPose w0.125 weights: config/train/demo_depthpose_w0125_64x48.yaml.
demo-weights: setup
	rm -rf data/synth_train data/synth_val
	$(MAKE) data/synth_train/annotations.json data/synth_val/annotations.json
	$(VENV)/bin/depthpose train config/train/lite_64x48.yaml --resume
	cp runs/lite_64x48/model_final.pth depthpose_core/weights/depthpose_lite_64x48_synth.pth

# The synthetic sets (depthpose synth): training and validation (seeds 100, 200; camera poses jittered by up to
# 5 degrees / 150 mm), and the held-out test sets (seeds 999 and 998, poses up to 8 degrees / 300 mm; the crowded
# one with 7-8 people per scene), never used for a choice.
data/synth_train/annotations.json: | setup
	$(VENV)/bin/depthpose synth data/synth_train --sequences 1800 --frames 1 --seed 100 --camera-jitter 5 150
data/synth_val/annotations.json: | setup
	$(VENV)/bin/depthpose synth data/synth_val --sequences 40 --frames 1 --seed 200 --camera-jitter 5 150
data/synth_test/annotations.json: | setup
	$(VENV)/bin/depthpose synth data/synth_test --sequences 40 --frames 1 --seed 999 --camera-jitter 8 300
data/synth_test_crowded/annotations.json: | setup
	$(VENV)/bin/depthpose synth data/synth_test_crowded --sequences 40 --frames 1 --seed 998 --camera-jitter 8 300 --people 7-8
SYNTH_SETS := data/synth_train/annotations.json data/synth_val/annotations.json data/synth_test/annotations.json

# Re-run the paper's Table 1 at this machine's scale (docs/training.md): DepthPose-Lite 64x48, SR+RTPose-Lite and
# RTPose-Lite on bicubic-upsampled input (compute within 25 %), DepthPose-Lite 80x60; seeds 0 and 1, the same
# data, budget and augmentation (the data of `make demo-weights`). About 1.1 s per iteration per run here.
TABLE1 := depthpose_lite_64x48 sr_rtpose_lite_64x48 rtpose_lite_bicubic_64x48 depthpose_lite_80x60
table1: setup $(SYNTH_SETS)
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
	$(VENV)/bin/python scripts/table1_report.py runs/table1/eval/pck.json docs/table1.png

# How invalid readings reach the network (docs/training.md, "Invalid readings"): Table 1's row (a) recipe with
# the paper's bicubic reduction, valid_area (shipped: holes get their own value) and valid_area_filled (holes take
# their farther row neighbour), seeds in INGRESS_SEEDS; chosen on the validation set, confirmed on the test set.
INGRESS_SEEDS ?= 0 1
ingress-compare: setup $(SYNTH_SETS)
	for s in $(INGRESS_SEEDS); do \
	  $(VENV)/bin/depthpose train config/train/table1_depthpose_lite_64x48.yaml --seed $$s --out-dir runs/table1/depthpose_lite_64x48_s$$s --resume && \
	  for m in bicubic filled; do \
	    $(VENV)/bin/depthpose train config/train/ingress_$${m}_64x48.yaml --seed $$s --out-dir runs/ingress/$${m}_64x48_s$$s --resume || exit 1; \
	  done || exit 1; \
	done
	for d in val test; do \
	  $(VENV)/bin/depthpose eval data/synth_$$d/annotations.json --precision fp32 --out runs/ingress/eval_$$d \
	    $(foreach s,$(INGRESS_SEEDS),--compare bicubic=runs/ingress/bicubic_64x48_s$(s)/model_final.pth \
	      --compare valid_area=runs/table1/depthpose_lite_64x48_s$(s)/model_final.pth \
	      --compare valid_area_filled=runs/ingress/filled_64x48_s$(s)/model_final.pth) || exit 1; \
	done

# 3D lift accuracy against the synthetic world's exact joint centres (docs/lift3d.md): depth sampling rules on the
# validation set (where the default was chosen) and on the held-out test set, with the shipped lite weights
# (valid_area reduction) and the DepthPose w0.125 weights (bicubic reduction). A few minutes.
LIFT_RULES := --reach 0 1 2 --quantiles 0 0.5
lift3d: setup data/synth_val/annotations.json data/synth_test/annotations.json
	$(VENV)/bin/python bench/bench_lift.py data/synth_val/annotations.json $(LIFT_RULES) > docs/lift3d/synth_val_demo.txt
	$(VENV)/bin/python bench/bench_lift.py data/synth_test/annotations.json $(LIFT_RULES) > docs/lift3d/synth_test_demo.txt
	$(VENV)/bin/python bench/bench_lift.py data/synth_test/annotations.json --model depthpose_w0125 $(LIFT_RULES) \
	  > docs/lift3d/synth_test_w0125.txt
