"""Run by test_train.py under torchrun: 3 DDP steps, then each rank prints its step count, a parameter checksum
and the samples it trained on (stdout only: rank 0 alone writes files)."""

import sys
from dataclasses import replace

from depthpose_core.train import Trainer, load_train_config

config = load_train_config(sys.argv[1], out_dir=sys.argv[2])
config = replace(config, optim=replace(config.optim, iterations=3, batch_size=6), data=replace(config.data, val=None),
                 log_every=1)  # fmt: skip
trainer = Trainer(config, progress=False)
seen: list[int] = []
step = trainer.run_step


def counting_step(batch):  # noqa: ANN001, ANN202
    seen.extend(batch["index"].tolist())
    return step(batch)


trainer.run_step = counting_step
trainer.train()
checksum = sum(float(p.double().sum()) for p in trainer.model.parameters())
samples = ",".join(str(i) for i in sorted(seen))
# One write of the whole line (print writes the text and the newline separately: the two ranks' lines, written to
# one pipe, interleaved as "...SAMPLES 0,2RANK 0 ...").
sys.stdout.write(f"RANK {trainer.rank} STEPS {trainer.iteration} CHECKSUM {checksum:.12e} SAMPLES {samples}\n")
sys.stdout.flush()
