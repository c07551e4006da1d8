"""TF-Slim reads a checkpoint slim exported for TensorFlow (tests/tf_checkpoints.rs runs this when
SLIM_TF_PYTHON names the Python of ../shared/bench/setup-peers.sh tf).

Usage: python tf_slim_reads_slim_checkpoint.py CASE.json
CASE.json holds "prefix" (the checkpoint), "net" ("inception_v1", "lenet", or with "research_slim" any name of
models/research/slim's nets_factory), "input_nchw" (one image or clip, flattened, channels first), "input_shape"
(its shape) and "logits" (slim's 10 logits for it). Builds TF-Slim's net with 10 classes in evaluation
(inception_v1 from tf_slim.nets; LeNet as TF-Slim's nets/lenet.py declares it, which tf_slim does not ship; the
others from research/slim's nets_factory in the folder "research_slim" names), restores every variable it has
from the prefix with tf.compat.v1.train.Saver (which fails on any missing name or wrong shape), runs the input
(channels last), and exits non-zero unless its logits match slim's within "tolerance" (default 1e-4) of their
largest magnitude (or of 1, if that is smaller): a deep net drawn at random can reach logits of 1e8, where float32
round-off alone is 10.
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


def lenet(images):
    """TF-Slim's nets/lenet.py in evaluation: conv1, pool1, conv2, pool2, flatten, fc3, dropout3, fc4."""
    with tf.compat.v1.variable_scope("LeNet"):
        net = slim.conv2d(images, 32, [5, 5], scope="conv1")
        net = slim.max_pool2d(net, [2, 2], 2, scope="pool1")
        net = slim.conv2d(net, 64, [5, 5], scope="conv2")
        net = slim.max_pool2d(net, [2, 2], 2, scope="pool2")
        net = slim.fully_connected(slim.flatten(net), 1024, scope="fc3")
        net = slim.dropout(net, 0.5, is_training=False, scope="dropout3")
        return slim.fully_connected(net, 10, activation_fn=None, scope="fc4")


def inception(images):
    """tf_slim.nets' inception_v1 in evaluation, in its own arg scope."""
    with slim.arg_scope(inception_v1.inception_v1_arg_scope()):
        return inception_v1.inception_v1(images, num_classes=10, is_training=False)[0]


NETS = {"inception_v1": inception, "lenet": lenet}


def research(name, research_slim):
    """research/slim's `name` of 10 classes in evaluation, from its nets_factory."""
    from research_slim import nets_factory

    network_fn = nets_factory(research_slim).get_network_fn(name, 10, is_training=False)
    return lambda inputs: network_fn(inputs)[0]


def main(case_path):
    case = json.load(open(case_path))
    prefix = case["prefix"]
    build = NETS.get(case["net"]) or research(case["net"], case["research_slim"])
    shape = case["input_shape"]
    channels_last = [0] + list(range(2, len(shape))) + [1]
    image = np.asarray(case["input_nchw"], np.float32).reshape(shape).transpose(channels_last)
    expected = np.asarray(case["logits"], np.float32)
    inputs = tf.compat.v1.placeholder(tf.float32, image.shape)
    logits = build(inputs)
    saver = tf.compat.v1.train.Saver(tf.compat.v1.global_variables())
    with tf.compat.v1.Session() as session:
        saver.restore(session, prefix)
        found = session.run(logits, {inputs: image}).reshape(-1)
    difference = float(np.max(np.abs(found - expected)))
    scale = max(1.0, float(np.max(np.abs(expected))))
    print(f"TF-Slim's {case['net']} restored {len(tf.compat.v1.global_variables())} variables from {prefix}; "
          f"max |logit difference| against slim: {difference:.3g} (largest |logit| {scale:.3g})")
    sys.exit(0 if difference < case.get("tolerance", 1e-4) * scale else 1)


if __name__ == "__main__":
    main(sys.argv[1])
