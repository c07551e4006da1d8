#!/usr/bin/env python3
"""Writes tests/fixtures/zoo/variables.json.gz: the model variables (name and shape, TF's layout) of TF-Slim's own
nets, built by tf_slim.nets under their arg scopes, so the tests can check slim's zoo against them without
TensorFlow. Run once with TF 2.21 and tf-slim 1.1 (shared/bench/setup-peers.sh tf makes such a venv):

    /tmp/venv-tf/bin/python scripts/make-zoo-names.py
"""
import gzip
import importlib
import json
import os
import sys

import tensorflow.compat.v1 as tf

# tf_slim's batch_norm imports tf_keras.legacy_tf_layers, which tf_keras 2.21 ships as
# tf_keras.src.legacy_tf_layers: alias it.
for module in ["legacy_tf_layers", "legacy_tf_layers.normalization"]:
    sys.modules[f"tf_keras.{module}"] = importlib.import_module(f"tf_keras.src.{module}")
import tf_slim as slim
from tf_slim.nets import alexnet, inception, overfeat, resnet_v1, resnet_v2, vgg

tf.disable_eager_execution()

# name → (builder, arg scope, image side, classes), as nets_factory defines them.
NETS = {
    "alexnet_v2": (alexnet.alexnet_v2, alexnet.alexnet_v2_arg_scope, 224, 1000),
    "overfeat": (overfeat.overfeat, overfeat.overfeat_arg_scope, 231, 1000),
    "vgg_a": (vgg.vgg_a, vgg.vgg_arg_scope, 224, 1000),
    "vgg_16": (vgg.vgg_16, vgg.vgg_arg_scope, 224, 1000),
    "vgg_19": (vgg.vgg_19, vgg.vgg_arg_scope, 224, 1000),
    "inception_v1": (inception.inception_v1, inception.inception_v1_arg_scope, 224, 1001),
    "inception_v2": (inception.inception_v2, inception.inception_v2_arg_scope, 224, 1001),
    "inception_v3": (inception.inception_v3, inception.inception_v3_arg_scope, 299, 1001),
    "resnet_v1_50": (resnet_v1.resnet_v1_50, resnet_v1.resnet_arg_scope, 224, 1000),
    "resnet_v1_101": (resnet_v1.resnet_v1_101, resnet_v1.resnet_arg_scope, 224, 1000),
    "resnet_v2_50": (resnet_v2.resnet_v2_50, resnet_v2.resnet_arg_scope, 224, 1001),
    "resnet_v2_152": (resnet_v2.resnet_v2_152, resnet_v2.resnet_arg_scope, 224, 1001),
}

out = {}
for name, (build, arg_scope, side, classes) in NETS.items():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, side, side, 3])
        with slim.arg_scope(arg_scope()):
            build(images, num_classes=classes, is_training=True)
        out[name] = [[v.op.name, v.shape.as_list()] for v in slim.get_model_variables()]
        print(name, len(out[name]), "model variables")

path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "zoo", "variables.json.gz")
with gzip.GzipFile(path, "wb", mtime=0) as f:
    f.write(json.dumps(out, separators=(",", ":")).encode())
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
