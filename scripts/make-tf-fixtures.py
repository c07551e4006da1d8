#!/usr/bin/env python3
"""Writes the TensorFlow checkpoint fixtures of tests/fixtures/tf (run once; the tests need no Python).

A tiny TF-Slim-style net, NHWC: conv1 (3x3, 2 -> 3 channels, SAME, relu), a spatial mean, logits (3 -> 4).
Variables carry TF-Slim's names and layouts (conv weights HWIO, fully connected [in, out]); the checkpoint is
TF1's V2 bundle format (.index + .data-00000-of-00001), as tf.compat.v1.train.Saver writes it. expected.json
holds the input (NHWC), the output TensorFlow computes, and a few extra variables of other dtypes.

flat.ckpt is a LeNet-shaped net built with tf_slim's own layers (conv1 3x3 2 -> 3 channels, max_pool2d 2x2,
flatten, fully_connected 27 -> 4 logits) on a 6x6 input: its logits hold only if the flatten's rows come in
TF's H, W, C order. flat.json holds its input (NHWC) and logits.

    ../shared/bench/setup-peers.sh tf && /tmp/venv-tf/bin/python scripts/make-tf-fixtures.py
"""
import json
import os

import numpy as np
import tensorflow as tf

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tf")
tf.compat.v1.disable_eager_execution()
rng = np.random.default_rng(7)
x_value = rng.standard_normal((1, 5, 5, 2)).astype(np.float32)

with tf.compat.v1.Graph().as_default():
    with tf.compat.v1.variable_scope("tiny"):
        conv_w = tf.compat.v1.get_variable("conv1/weights", initializer=rng.standard_normal((3, 3, 2, 3)).astype(np.float32))
        conv_b = tf.compat.v1.get_variable("conv1/biases", initializer=rng.standard_normal(3).astype(np.float32))
        fc_w = tf.compat.v1.get_variable("logits/weights", initializer=rng.standard_normal((3, 4)).astype(np.float32))
        fc_b = tf.compat.v1.get_variable("logits/biases", initializer=rng.standard_normal(4).astype(np.float32))
        counts = tf.compat.v1.get_variable("counts", initializer=np.array([3, -4, 5], dtype=np.int64))
        scale = tf.compat.v1.get_variable("scale", initializer=np.array([0.25, 1e-300], dtype=np.float64))
    step = tf.compat.v1.train.get_or_create_global_step()
    x = tf.constant(x_value)
    net = tf.nn.relu(tf.nn.conv2d(x, conv_w, strides=1, padding="SAME") + conv_b)
    net = tf.reduce_mean(net, axis=[1, 2])
    logits = tf.matmul(net, fc_w) + fc_b
    saver = tf.compat.v1.train.Saver()
    with tf.compat.v1.Session() as session:
        session.run(tf.compat.v1.global_variables_initializer())
        session.run(step.assign(42))
        output = session.run(logits)
        saver.save(session, os.path.join(OUT, "tiny.ckpt"), write_meta_graph=False, write_state=False)

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump({"input_nhwc": x_value.flatten().tolist(), "input_shape": list(x_value.shape),
               "logits": output.flatten().tolist(), "global_step": 42,
               "counts": [3, -4, 5], "scale": [0.25, 1e-300]}, f)

flat_input = rng.standard_normal((1, 6, 6, 2)).astype(np.float32)
with tf.compat.v1.Graph().as_default():
    import tf_slim as slim

    tf.compat.v1.set_random_seed(11)
    with tf.compat.v1.variable_scope("flat"):
        net = slim.conv2d(tf.constant(flat_input), 3, [3, 3], scope="conv1")
        net = slim.max_pool2d(net, [2, 2], 2, scope="pool1")
        net = slim.flatten(net)
        flat_logits = slim.fully_connected(net, 4, activation_fn=None, scope="logits")
    saver = tf.compat.v1.train.Saver()
    with tf.compat.v1.Session() as session:
        session.run(tf.compat.v1.global_variables_initializer())
        flat_output = session.run(flat_logits)
        saver.save(session, os.path.join(OUT, "flat.ckpt"), write_meta_graph=False, write_state=False)

with open(os.path.join(OUT, "flat.json"), "w") as f:
    json.dump({"input_nhwc": flat_input.flatten().tolist(), "input_shape": list(flat_input.shape),
               "logits": flat_output.flatten().tolist()}, f)
print("wrote", sorted(os.listdir(OUT)))
