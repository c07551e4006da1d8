"""torchvision loads a state dict slim exported (tests/nets_vgg.rs and tests/nets_resnet.rs run this when
SLIM_TORCH_PYTHON names the Python of ../shared/bench/setup-peers.sh torch).

Usage: python torchvision_loads_slim_state_dict.py CASE.json
CASE.json holds "net" (a torchvision.models constructor: "vgg16", "resnet50"), "num_classes", "state" (the
safetensors file slim's export_state_dict wrote) and, optionally, "input_nchw" with "input_shape" and "logits"
(slim's output for that input). Builds the torchvision model, loads the file with load_state_dict(strict=True)
(which fails on any missing or unexpected key and any other shape), checks each tensor arrived unchanged, and,
when the case has logits, runs the input in eval mode and exits non-zero unless torchvision's logits match
slim's within 1e-4 (relative to the largest). The safetensors file is parsed here (an 8-byte header size, a
JSON header, the data), so the venv needs no safetensors package.
"""
import json
import struct
import sys

import numpy as np
import torch
import torchvision

DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + header_size])
    body = data[8 + header_size:]
    state = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        values = np.frombuffer(body[begin:end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
        state[name] = torch.from_numpy(values.copy())
    return state


def main(case_path):
    case = json.load(open(case_path))
    model = getattr(torchvision.models, case["net"])(weights=None, num_classes=case["num_classes"])
    state = read_safetensors(case["state"])
    model.load_state_dict(state, strict=True)
    own = model.state_dict()
    changed = [name for name, value in state.items() if not torch.equal(own[name], value.to(own[name].dtype))]
    if changed:
        sys.exit(f"tensors changed on the way in: {changed[:5]}")
    print(f"torchvision's {case['net']} loaded {len(state)} tensors strictly from {case['state']}")
    if "logits" not in case:
        return
    model.eval()
    image = torch.tensor(case["input_nchw"], dtype=torch.float32).reshape(case["input_shape"])
    with torch.no_grad():
        found = model(image).reshape(-1).numpy()
    expected = np.asarray(case["logits"], np.float32)
    difference = float(np.max(np.abs(found - expected)))
    scale = float(np.max(np.abs(expected)))
    print(f"max |logit difference| against slim: {difference:.3g} (largest logit {scale:.3g})")
    sys.exit(0 if difference <= 1e-4 * max(scale, 1e-6) else 1)


if __name__ == "__main__":
    main(sys.argv[1])
