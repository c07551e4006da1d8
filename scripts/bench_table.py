#!/usr/bin/env python3
"""Tabulates the JSON lines of scripts/bench-workloads.sh: median ms per workload and framework, and slim's
ratios to raw tch (same memory layout) and to TF-Slim, in float32 and (slim-bf16) in bfloat16 autocast.
Standard library only.

    python3 scripts/bench_table.py target/bench/workloads.jsonl
"""
import datetime
import json
import os
import statistics
import sys

WORKLOADS = {
    "w1": "w1 LeNet train, batch 64",
    "w2": "w2 ResNet-32 v2 train, batch 128",
    "w3": "w3 MLP 784-128-10 train, batch 32",
    "w4": "w4 VGG-16 inference, batch 1",
}
COLUMNS = [
    ("slim", "slim (channels-last)"),
    ("slim-nchw", "slim NCHW"),
    ("slim-unchecked", "slim, check_numerics off"),
    ("slim-bf16", "slim bf16"),
    ("tch-cl", "raw tch NHWC"),
    ("tch", "raw tch NCHW"),
    ("pytorch", "PyTorch"),
    ("pytorch-cl", "PyTorch NHWC"),
    ("tfslim", "TF-Slim"),
]


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "?"


def main(path):
    medians = {}
    for line in open(path):
        if line.strip().startswith("{"):
            run = json.loads(line)
            medians[(run["wl"], run["fw"])] = statistics.median(run["times_ms"])
    when = datetime.datetime.fromtimestamp(os.path.getmtime(path), datetime.timezone.utc)
    print(f"{path}, {when:%Y-%m-%d %H:%M} UTC, {cpu_model()}, {os.cpu_count()} CPUs; median ms per step")
    print()
    print("| workload | " + " | ".join(name for _, name in COLUMNS) + " | slim / raw tch | slim / TF-Slim | slim bf16 / TF-Slim |")
    print("|---|" + "---:|" * (len(COLUMNS) + 3))
    for wl, title in WORKLOADS.items():
        cells = [medians.get((wl, fw)) for fw, _ in COLUMNS]
        if not any(cells):
            continue
        slim = medians.get((wl, "slim"))
        # w3 has no convolutions (one layout); compare like with like.
        raw = medians.get((wl, "tch-cl")) or medians.get((wl, "tch"))
        slim = slim or medians.get((wl, "slim-nchw"))
        tf = medians.get((wl, "tfslim"))
        bf16 = medians.get((wl, "slim-bf16"))
        ratio = lambda a, b: f"{a / b:.3f}" if a and b else "–"  # noqa: E731
        print(f"| {title} | " + " | ".join(f"{c:.3f}" if c else "–" for c in cells)
              + f" | {ratio(slim, raw)} | {ratio(slim, tf)} | {ratio(bf16, tf)} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/bench/workloads.jsonl")
