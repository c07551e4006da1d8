"""PyTorch runs a TorchScript module slim exported (tests/torchscript.rs runs this when SLIM_TORCH_PYTHON names
the Python of ../shared/bench/setup-peers.sh torch).

Usage: python torch_jit_runs_slim_export.py CASE.json
CASE.json holds "module" (the file Built::export_torchscript wrote), "input" with "input_shape", and "output"
(slim's eval-mode output for that input). Loads the module with torch.jit.load, runs the input, and exits
non-zero unless the output has slim's shape and values within 1e-5 (relative to the largest, at least 1).
"""
import json
import sys

import numpy as np
import torch


def main(case_path):
    case = json.load(open(case_path))
    module = torch.jit.load(case["module"])
    module.eval()
    image = torch.tensor(case["input"], dtype=torch.float32).reshape(case["input_shape"])
    with torch.no_grad():
        found = module(image).numpy().reshape(-1)
    expected = np.asarray(case["output"], np.float32)
    if found.shape != expected.shape:
        sys.exit(f"output of {found.shape} values, slim's has {expected.shape}")
    difference = float(np.max(np.abs(found - expected)))
    scale = max(float(np.max(np.abs(expected))), 1.0)
    print(f"torch.jit.load ran {case['module']}: max |output difference| against slim {difference:.3g}")
    sys.exit(0 if difference <= 1e-5 * scale else 1)


if __name__ == "__main__":
    main(sys.argv[1])
