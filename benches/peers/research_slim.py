"""models/research/slim's nets_factory under TF 2.21 (used by scripts/make-zoo-names.py and
tf_slim_reads_slim_checkpoint.py). PyPI carries a copy of research/slim: `pip download --no-deps
123-object-detection==0.1`, then unpack the sdist; its slim/ folder (holding nets/) is research/slim as of 2021.
"""
import sys
import types

import numpy


class HParams:
    """What nasnet and pnasnet use of tf.contrib.training.HParams (gone with TF 1)."""

    def __init__(self, **values):
        self.__dict__.update(values)

    def set_hparam(self, name, value):
        setattr(self, name, value)


def nets_factory(research_slim):
    """research/slim's nets_factory module from the folder `research_slim` (holding nets/)."""
    import tensorflow as tf
    from tensorflow.python.framework import ops

    numpy.int = int  # research/slim's mobilenet_v3 still calls numpy.int, which numpy 1.24 removed
    if not hasattr(ops, "Tensor"):
        ops.Tensor = tf.Tensor  # tf_slim's non-fused batch_norm checks isinstance against it; TF 2.21 moved it
    contrib = types.ModuleType("tensorflow.contrib")
    contrib.training = types.ModuleType("tensorflow.contrib.training")
    contrib.training.HParams = HParams
    sys.modules.setdefault("tensorflow.contrib", contrib)
    sys.modules.setdefault("tensorflow.contrib.training", contrib.training)
    sys.path.insert(0, research_slim)
    from nets import nets_factory as factory

    return factory
