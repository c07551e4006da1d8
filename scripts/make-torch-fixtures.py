#!/usr/bin/env python3
"""Writes the PyTorch state-dict fixtures of tests/fixtures/torch (run once; the tests need no Python).

A tiny torchvision-style net, NCHW: features.0 = Conv2d(2, 3, 3, padding=1), ReLU, a spatial mean, classifier =
Linear(3, 4). Its state dict is written twice:
  * tiny.pt in torch.save's zip format (archive/data.pkl, a protocol-2 pickle naming storages, and
    archive/data/<key>), written here with Python's pickle exactly as torch.save lays it out, because the PyPI
    torch wheel cannot be imported on a machine without its CUDA libraries;
  * tiny.safetensors with the safetensors package.
The .pt also holds an int64 buffer, a float64 tensor, and a transposed view sharing another tensor's storage (so
readers must honour offsets and strides). expected.json holds the input and the output computed with numpy.

    /tmp/tb/bin/pip install numpy safetensors && /tmp/tb/bin/python scripts/make-torch-fixtures.py
"""
import collections
import io
import json
import os
import pickle
import sys
import types
import zipfile

import numpy as np
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "torch")
rng = np.random.default_rng(11)
weights = {
    "features.0.weight": rng.standard_normal((3, 2, 3, 3)).astype(np.float32),
    "features.0.bias": rng.standard_normal(3).astype(np.float32),
    "classifier.weight": rng.standard_normal((4, 3)).astype(np.float32),
    "classifier.bias": rng.standard_normal(4).astype(np.float32),
}
x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)

# The reference forward pass: SAME (padding 1) cross-correlation, relu, mean, linear.
padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
conv = np.zeros((1, 3, 5, 5), dtype=np.float64)
for o in range(3):
    for i in range(5):
        for j in range(5):
            conv[0, o, i, j] = np.sum(padded[0, :, i:i + 3, j:j + 3] * weights["features.0.weight"][o])
conv += weights["features.0.bias"][None, :, None, None]
hidden = np.maximum(conv, 0).mean(axis=(2, 3))
logits = hidden @ weights["classifier.weight"].T + weights["classifier.bias"]

# Stand-ins named as torch's, so pickle writes the globals torch.save writes.
torch_module = types.ModuleType("torch")
utils_module = types.ModuleType("torch._utils")
sys.modules["torch"], sys.modules["torch._utils"] = torch_module, utils_module
for name in ["FloatStorage", "LongStorage", "DoubleStorage"]:
    setattr(torch_module, name, type(name, (), {"__module__": "torch"}))
def _rebuild_tensor_v2(*args):
    raise NotImplementedError
_rebuild_tensor_v2.__module__ = "torch._utils"
utils_module._rebuild_tensor_v2 = _rebuild_tensor_v2


class Storage:
    def __init__(self, key, kind, data):
        self.key, self.kind, self.data = key, kind, data


class FakeTensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, size, stride

    def __reduce_ex__(self, protocol):
        return (_rebuild_tensor_v2, (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


def contiguous(key, kind, array):
    strides = tuple(s // array.itemsize for s in array.strides)
    return FakeTensor(Storage(key, kind, array.tobytes()), 0, tuple(array.shape), strides)


storage_types = {"float32": torch_module.FloatStorage, "int64": torch_module.LongStorage, "float64": torch_module.DoubleStorage}
state = collections.OrderedDict()
for index, (name, array) in enumerate(weights.items()):
    state[name] = contiguous(str(index), storage_types["float32"], array)
state["counts"] = contiguous("4", storage_types["int64"], np.array([3, -4, 5], dtype=np.int64))
state["scale"] = contiguous("5", storage_types["float64"], np.array([0.25, 1e-300]))
shared = state["classifier.weight"].storage  # a [3, 4] view of classifier.weight's storage, transposed, offset 0
state["classifier.weight_t"] = FakeTensor(shared, 0, (3, 4), (1, 3))
state._metadata = collections.OrderedDict()  # torch keeps module metadata here; readers skip it


class Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            numel = len(obj.data) // {"FloatStorage": 4, "LongStorage": 8, "DoubleStorage": 8}[obj.kind.__name__]
            return ("storage", obj.kind, obj.key, "cpu", numel)
        return None


buffer = io.BytesIO()
Pickler(buffer, protocol=2).dump(state)
storages = {t.storage.key: t.storage.data for t in state.values()}
with zipfile.ZipFile(os.path.join(OUT, "tiny.pt"), "w", zipfile.ZIP_STORED) as archive:
    archive.writestr("tiny/data.pkl", buffer.getvalue())
    archive.writestr("tiny/byteorder", "little")
    for key, data in storages.items():
        archive.writestr(f"tiny/data/{key}", data)
    archive.writestr("tiny/version", "3\n")
save_file(weights, os.path.join(OUT, "tiny.safetensors"))
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump({"input": x.flatten().tolist(), "logits": logits.flatten().tolist(),
               "classifier_weight": weights["classifier.weight"].flatten().tolist()}, f)
print("wrote", sorted(os.listdir(OUT)))
