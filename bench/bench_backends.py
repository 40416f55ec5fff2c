"""Runtime backend benchmark: the same frames through eager PyTorch NCHW fp32 (the baseline, the path before the
backends existed) and through every installed backend and precision, in one process.

Usage (from the repository root)::

    python bench/bench_backends.py [--repeats 30] [--full-repeats 4] [--skip-full] [--skip-node]

1. Network only: the earlier demo weights (DepthPose 64x48, width 0.125), DepthPose-Lite at 64x48 and 80x60 and the
   full-size DepthPose at 64x48 and 80x60 (random weights: the cost does not depend on them), batch 1 (no flip test)
   and batch 2 (the flip test's frame and mirror), p50 / p95 ms and the ratio of p50 to the baseline's. Inputs are
   real frames of the synthetic demo world reduced to the model input (random tensors are slower in fp32:
   denormals).
2. End to end on the shipped weights, the default (DepthPose-Lite) next to the earlier default (DepthPose w0.125):
   ``PoseEstimator.estimate`` (ingress from 640x480, network with the flip test, fast decoder), p50 / p95 ms,
   frames/s, ratio to the earlier default's eager NCHW fp32 run.
3. Through the node process (console script, ``config/depthpose.yaml``, flip test), both shipped weights: backend
   torch fp32 and ``auto``, at 5 Hz and 30 Hz input (dropped frames counted by the node); inference p50 from
   ``/diagnostics``, end-to-end latency from the image stamp to the skeletons' arrival.

4. With ``--int8``: the demo weights' graph quantised to int8 (ONNX Runtime static quantisation, QDQ, per-channel
   weights, activations calibrated on 64 frames of the training world's seed range, not the test set's), run by
   ONNX Runtime and by OpenVINO (which executes QDQ graphs in int8 on VNNI / AMX-INT8 CPUs): network p50 with the
   flip test, and MVOR PCK@0.2 on the model card's held-out synthetic test set (needs ``--test-set DIR``, from
   ``depthpose synth DIR --sequences 40 --frames 1 --seed 999 --camera-jitter 8 300``) next to fp32 and bf16.
   An experiment: int8 is not a product setting.

The baseline's module is never converted to channels-last, and flush-to-zero is off while it runs. Figures only
mean something on a quiet machine; docs/benchmarks.md records them with date and machine.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depthpose_core.backends import Network, available_backends, open_backend, select_backend  # noqa: E402
from depthpose_core.backends.export import onnx_bytes  # noqa: E402
from depthpose_core.config import RuntimeConfig  # noqa: E402
from depthpose_core.demo_scene import make_demo_frame  # noqa: E402
from depthpose_core.inference import PoseEstimator  # noqa: E402
from depthpose_core.models import build_model  # noqa: E402
from depthpose_core.preprocess import Preprocessing, to_lowres, to_model_input  # noqa: E402
from depthpose_core.runtime import cpu_has_bf16  # noqa: E402
from depthpose_core.weights import resolve_model  # noqa: E402

CPU = torch.device("cpu")


def settings() -> list[tuple[str, str]]:
    """(backend, precision) pairs this machine can run, the baseline's backend first."""
    out = [("torch", "fp32")]
    if cpu_has_bf16():
        out.append(("torch", "bf16"))
    if "onnxruntime" in available_backends():
        out.append(("onnxruntime", "fp32"))
    if "openvino" in available_backends():
        out += [("openvino", "fp32")] + ([("openvino", "bf16")] if cpu_has_bf16() else [])
    return out


def frames_input(size: tuple[int, int], batch: int) -> torch.Tensor:
    """``batch`` demo-world frames reduced to ``size`` and normalised: a (batch, 1, h, w) float32 tensor."""
    pre = Preprocessing(size, size)
    images = [to_model_input(to_lowres(make_demo_frame(seed=s)[0], pre), pre) for s in range(batch)]
    return torch.from_numpy(np.stack(images)[:, None])


def times_ms(fn: Callable[[], object], repeats: int, warmup: int = 2) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1e3)
    p50, p95 = np.percentile(out, [50, 95])
    return float(p50), float(p95)


def baseline(module: torch.nn.Module, size: tuple[int, int]) -> Network:
    """Eager NCHW fp32, no CPU tuning."""
    return open_backend("torch", CPU, "fp32", module=module, input_size=size, tune_cpu=False)


def timed_baseline(net: Network, x: torch.Tensor, repeats: int) -> tuple[float, float]:
    torch.set_flush_denormal(False)
    try:
        return times_ms(lambda: net(x), repeats)
    finally:
        torch.set_flush_denormal(True)


def network_table(repeats: int, full_repeats: int, skip_full: bool) -> None:
    demo = resolve_model("depthpose_w0125")
    cases: list[tuple[str, Callable[[], torch.nn.Module], tuple[int, int], int]] = [
        ("demo w0.125 64x48", demo.build, (64, 48), repeats),
        ("lite 64x48", lambda: build_model("depthpose_lite").eval(), (64, 48), repeats),
        ("lite 80x60", lambda: build_model("depthpose_lite").eval(), (80, 60), repeats),
    ]
    if not skip_full:
        cases += [("full-size 64x48", lambda: build_model("depthpose").eval(), (64, 48), full_repeats),
                  ("full-size 80x60", lambda: build_model("depthpose").eval(), (80, 60), full_repeats)]  # fmt: skip
    print("1. Network only (ms per forward pass; batch 2 = one frame with the flip test)")
    print(f"{'model':<18} {'batch':>5} {'setting':<28} {'p50 ms':>9} {'p95 ms':>9} {'x eager':>8}")
    for label, make, size, reps in cases:
        torch.manual_seed(0)
        module = make()
        graph = onnx_bytes(module, size)
        for batch in (1, 2):
            x = frames_input(size, batch)
            base = timed_baseline(baseline(module, size), x, reps)
            row = f"{label:<18} {batch:>5} {'eager NCHW fp32':<28} {base[0]:9.1f} {base[1]:9.1f} {1.0:8.2f}"
            print(row, flush=True)
            for backend, precision in settings():
                if backend == "torch":
                    net = open_backend("torch", CPU, precision, module=make_copy(module), input_size=size)
                else:
                    net = open_backend(backend, CPU, precision, onnx=graph, input_size=size)
                p50, p95 = times_ms(lambda: net(x), reps)
                name = f"{backend} {net.precision}" + (" (channels-last)" if backend == "torch" else "")
                print(f"{label:<18} {batch:>5} {name:<28} {p50:9.1f} {p95:9.1f} {base[0] / p50:8.2f}", flush=True)
            chosen = select_backend("auto", CPU)
            print(f"{'':<18} {'':>5} auto = {chosen}")


def make_copy(module: torch.nn.Module) -> torch.nn.Module:
    """A copy for a tuned backend (channels-last conversion is in place; the baseline keeps NCHW)."""
    import copy

    return copy.deepcopy(module)


#: The shipped entries compared end to end: the default (DepthPose-Lite) and the earlier default (DepthPose w0.125).
SHIPPED_CASES = (("default (lite)", "demo"), ("depthpose_w0125", "depthpose_w0125"))


def end_to_end_table(repeats: int) -> None:
    frames = [make_demo_frame(seed=s)[0] for s in range(8)]
    print("\n2. End to end on the shipped weights: estimate() = ingress 640x480 -> 64x48, network with flip, decode;"
          " x eager = against the earlier default's eager NCHW fp32")  # fmt: skip
    print(f"{'weights':<16} {'setting':<26} {'p50 ms':>9} {'p95 ms':>9} {'frames/s':>9} {'x eager':>8}")
    cycle = iter(range(10**9))

    def run(est: PoseEstimator) -> Callable[[], object]:
        return lambda: est.estimate(frames[next(cycle) % len(frames)])

    reference = None
    for label, model in reversed(SHIPPED_CASES):  # the earlier default first: its eager run is the baseline
        resolved = resolve_model(model)
        eager = PoseEstimator.from_resolved(resolved, device="cpu", backend="torch", precision="fp32")
        eager.network = baseline(resolved.build(), resolved.preprocessing.model_size)
        torch.set_flush_denormal(False)
        base = times_ms(run(eager), repeats)
        torch.set_flush_denormal(True)
        reference = reference or base[0]
        print(f"{label:<16} {'eager NCHW fp32':<26} {base[0]:9.1f} {base[1]:9.1f} {1e3 / base[0]:9.1f} "
              f"{reference / base[0]:8.2f}", flush=True)  # fmt: skip
        for backend, precision in [*settings(), ("auto", "auto")]:
            est = PoseEstimator.from_request(model, RuntimeConfig(device="cpu", backend=backend, precision=precision))
            p50, p95 = times_ms(run(est), repeats)
            name = f"{est.info.backend} {est.info.precision}" + (" (auto)" if backend == "auto" else "")
            print(f"{label:<16} {name:<26} {p50:9.1f} {p95:9.1f} {1e3 / p50:9.1f} {reference / p50:8.2f}", flush=True)


def node_table(frames: int) -> None:
    from bench_node import end_to_end  # sibling script: starts the node process like users do

    auto = select_backend("auto", CPU)
    print(f"\n3. Through the node process (demo weights, flip test, 640x480 16UC1 input); auto = {auto}")
    print(f"{'model':<36} {'sent':>5} {'answered':>8} {'dropped':>7} {'lost':>5} {'inference p50 ms':>16} "
          f"{'e2e p50 ms':>10} {'e2e p95 ms':>10}")  # fmt: skip
    for label, model in SHIPPED_CASES:
        for rate in (5.0, 30.0):
            for backend, precision in (("torch", "fp32"), ("auto", "auto")):
                args = ("device:=cpu", f"backend:={backend}", f"precision:={precision}", f"model:={model}")
                end_to_end(f"{label} {backend} {precision} @ {rate:g} Hz", args, frames, rate)


def int8_table(repeats: int, test_set: Path | None) -> None:
    import tempfile

    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    from depthpose_core.backends.ort_backend import OrtNetwork
    from depthpose_core.backends.ov_backend import OpenVinoNetwork
    from depthpose_core.eval.runner import run_dataset

    resolved = resolve_model("")
    pre = resolved.preprocessing
    graph = onnx_bytes(resolved.build(), pre.model_size)
    calibration = [to_model_input(to_lowres(make_demo_frame(seed=s)[0], pre), pre) for s in range(100, 164)]

    class Frames(CalibrationDataReader):
        def __init__(self) -> None:
            self._frames = iter(calibration)

        def get_next(self) -> dict[str, np.ndarray] | None:
            frame = next(self._frames, None)
            return None if frame is None else {"depth": frame[None, None]}

    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        source.write_bytes(graph)
        quantize_static(source, target, Frames(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)  # fmt: skip
        quantised = target.read_bytes()
    x = frames_input(pre.model_size, 2)
    networks: list[tuple[str, Network]] = [
        ("eager NCHW fp32", baseline(resolved.build(), pre.model_size)),
        ("openvino bf16", OpenVinoNetwork(graph, "bf16" if cpu_has_bf16() else "fp32")),
        ("onnxruntime int8 (QDQ)", OrtNetwork(quantised, CPU, "fp32")),
        ("openvino int8 (QDQ)", OpenVinoNetwork(quantised, "fp32")),
    ]
    print("\n4. int8 experiment on the demo weights (network with the flip test; PCK on the held-out test set)")
    print(f"{'setting':<26} {'p50 ms':>9} {'p95 ms':>9} {'x eager':>8} {'PCK@0.2':>8}")
    base = None
    for name, net in networks:
        p50, p95 = timed_baseline(net, x, repeats) if base is None else times_ms(lambda: net(x), repeats)
        base = base or p50
        pck = float("nan")
        if test_set is not None:
            est = PoseEstimator.from_resolved(resolved, device="cpu", backend="torch", precision="fp32")
            est.network = net
            pck = run_dataset(est, test_set / "annotations.json", progress=False).pck.groups["Average"]
        print(f"{name:<26} {p50:9.1f} {p95:9.1f} {base / p50:8.2f} {pck:8.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed runs per demo-weights case")
    parser.add_argument("--full-repeats", type=int, default=4, help="timed runs per full-size case")
    parser.add_argument("--skip-full", action="store_true", help="leave out the full-size DepthPose")
    parser.add_argument("--skip-node", action="store_true", help="leave out the node process runs")
    parser.add_argument("--node-frames", type=int, default=60)
    parser.add_argument("--int8", action="store_true", help="also the int8 experiment (section 4)")
    parser.add_argument("--only-int8", action="store_true", help="only the int8 experiment")
    parser.add_argument("--test-set", type=Path, help="held-out synthetic test set for the int8 PCK column")
    args = parser.parse_args()
    print(f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads, torch "
          f"{torch.__version__}, backends: {available_backends()}, native bf16: {cpu_has_bf16()}")  # fmt: skip
    if not args.only_int8:
        network_table(args.repeats, args.full_repeats, args.skip_full)
        end_to_end_table(args.repeats)
        if not args.skip_node:
            node_table(args.node_frames)
    if args.int8 or args.only_int8:
        int8_table(args.repeats, args.test_set)


if __name__ == "__main__":
    main()
