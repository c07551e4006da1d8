"""The PyTorch DDP peer of `cargo bench --features mpi --bench distributed -- scaling`: the shared benchmark's
w1 (LeNet, batch 64 per rank) and w2 (CIFAR ResNet-32 v2, batch 128 per rank) training steps under
DistributedDataParallel with the gloo backend, RANKS processes of one thread each on this machine (loopback),
momentum SGD, softmax cross-entropy. Prints one line on rank 0: `ddp <workload> <ranks> <median step ms>`.

    python torch_ddp.py w1 2 STEPS WARMUP
"""
import os
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F


def lenet():  # w1, as shared/bench/py/torch_bench.py
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(7 * 7 * 64, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 10))


class Block(nn.Module):  # w2's pre-activation basic block
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, momentum=0.1, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, momentum=0.1, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.shortcut = nn.Conv2d(cin, cout, 1, stride, bias=False) if stride != 1 or cin != cout else None

    def forward(self, x):
        pre = F.relu(self.bn1(x))
        short = self.shortcut(pre) if self.shortcut is not None else x
        return short + self.conv2(F.relu(self.bn2(self.conv1(pre))))


class ResNet32(nn.Module):  # w2: CIFAR ResNet-32 v2
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        blocks, cin = [], 16
        for stage, cout in enumerate([16, 32, 64]):
            for block in range(5):
                blocks.append(Block(cin, cout, 2 if stage > 0 and block == 0 else 1))
                cin = cout
        self.blocks = nn.Sequential(*blocks)
        self.bn = nn.BatchNorm2d(64)
        self.fc = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.bn(self.blocks(self.conv(x))))
        return self.fc(x.mean((2, 3)))


WORKLOADS = {"w1": (lenet, 64, (1, 28, 28), 0.01, 0.0), "w2": (ResNet32, 128, (3, 32, 32), 0.1, 2e-4)}


def run(rank, ranks, workload, steps, warmup):
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29533")
    dist.init_process_group("gloo", rank=rank, world_size=ranks)
    make, batch, shape, lr, wd = WORKLOADS[workload]
    torch.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(make())
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
    images = torch.randn(batch, *shape)
    labels = torch.randint(10, (batch,))
    times = []
    for step in range(warmup + steps):
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        loss.item()
        if step >= warmup:
            times.append((time.perf_counter() - start) * 1e3)
    if rank == 0:
        print(f"ddp {workload} {ranks} {statistics.median(times):.3f}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    workload, ranks, steps, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    mp.spawn(run, args=(ranks, workload, steps, warmup), nprocs=ranks)
