#!/usr/bin/env python3
"""Writes tests/fixtures/torch/tiny_torch.pt with torch.save itself (run once; the tests need no Python).

It rebuilds the tiny torchvision-style net of make-torch-fixtures.py (features.0 = Conv2d(2, 3, 3, padding=1),
ReLU, spatial mean, classifier = Linear(3, 4)) from tiny.safetensors, checks that torch's own forward pass gives
expected.json's logits, and saves the module's state dict, plus a registered int64 buffer and a transposed view
sharing classifier.weight's storage, as torch.save writes them (a legacy-free zip archive). Needs the PyPI torch
wheel with its CUDA runtime wheels installed (shared/bench/setup-peers.sh torch makes such a venv):

    /tmp/venv-torch/bin/pip install safetensors && /tmp/venv-torch/bin/python scripts/make-torch-save-fixture.py
"""
import json
import os

import torch
from safetensors.torch import load_file

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "torch")


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.features = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.ReLU())
        self.classifier = torch.nn.Linear(3, 4)
        self.register_buffer("counts", torch.tensor([3, -4, 5], dtype=torch.int64))

    def forward(self, x):
        return self.classifier(self.features(x).mean(dim=(2, 3)))


net = Tiny()
net.load_state_dict(load_file(os.path.join(OUT, "tiny.safetensors")), strict=False)
with open(os.path.join(OUT, "expected.json")) as f:
    expected = json.load(f)
x = torch.tensor(expected["input"], dtype=torch.float32).view(1, 2, 5, 5)
with torch.no_grad():
    logits = net(x)
want = torch.tensor(expected["logits"]).view(1, 4)
assert torch.allclose(logits, want, atol=1e-5), (logits, want)
state = net.state_dict()
state["classifier.weight_t"] = state["classifier.weight"].t()  # a strided view of the same storage
torch.save(state, os.path.join(OUT, "tiny_torch.pt"))
print("torch", torch.__version__, "logits", logits.flatten().tolist())
