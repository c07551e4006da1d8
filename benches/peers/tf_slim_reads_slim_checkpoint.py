"""TF-Slim reads a checkpoint slim exported for TensorFlow (tests/tf_checkpoints.rs runs this when
SLIM_TF_PYTHON names the Python of ../shared/bench/setup-peers.sh tf).

Usage: python tf_slim_reads_slim_checkpoint.py PREFIX CASE.json
CASE.json holds "input_nchw" (a 1x3x224x224 image, flattened) and "logits" (slim's 10 logits for it). Builds
TF-Slim's inception_v1 with 10 classes, restores every variable from PREFIX with
tf.compat.v1.train.Saver (which fails on any missing name or wrong shape), runs the image, and exits non-zero
unless its logits match slim's within 1e-4.
"""
import importlib
import json
import sys

import numpy as np
import tensorflow as tf

# tf_slim's batch_norm imports tf_keras.legacy_tf_layers, which tf_keras 2.21 ships as
# tf_keras.src.legacy_tf_layers: alias it (as scripts/make-zoo-names.py does).
for module in ["legacy_tf_layers", "legacy_tf_layers.normalization"]:
    sys.modules[f"tf_keras.{module}"] = importlib.import_module(f"tf_keras.src.{module}")
import tf_slim as slim  # noqa: E402
from tf_slim.nets import inception_v1  # noqa: E402

tf.compat.v1.disable_eager_execution()


def main(prefix, case_path):
    case = json.load(open(case_path))
    image = np.asarray(case["input_nchw"], np.float32).reshape(1, 3, 224, 224).transpose(0, 2, 3, 1)
    expected = np.asarray(case["logits"], np.float32)
    inputs = tf.compat.v1.placeholder(tf.float32, [1, 224, 224, 3])
    with slim.arg_scope(inception_v1.inception_v1_arg_scope()):
        logits, _ = inception_v1.inception_v1(inputs, num_classes=10, is_training=False)
    saver = tf.compat.v1.train.Saver(tf.compat.v1.global_variables())
    with tf.compat.v1.Session() as session:
        saver.restore(session, prefix)
        found = session.run(logits, {inputs: image}).reshape(-1)
    difference = float(np.max(np.abs(found - expected)))
    print(f"TF-Slim restored {len(tf.compat.v1.global_variables())} variables from {prefix}; "
          f"max |logit difference| against slim: {difference:.3g}")
    sys.exit(0 if difference < 1e-4 else 1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
