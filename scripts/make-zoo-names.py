#!/usr/bin/env python3
"""Writes tests/fixtures/zoo/variables.json.gz: the model variables (name and shape, TF's layout) of TF-Slim's own
nets, built by tf_slim.nets under their arg scopes, so the tests can check slim's zoo against them without
TensorFlow. Run once with TF 2.21 and tf-slim 1.1 (shared/bench/setup-peers.sh tf makes such a venv):

    /tmp/venv-tf/bin/python scripts/make-zoo-names.py [--research-slim DIR]

With --research-slim, also the nets tf_slim does not ship, built by models/research/slim's own nets_factory
from DIR (its `slim` folder, holding `nets/`; benches/peers/research_slim.py says where PyPI has one).
"""
import argparse
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

# name → classes of the models/research/slim nets, built by its nets_factory at its default image size (videos:
# 64 frames).
RESEARCH_NETS = {
    "lenet": 10,
    "cifarnet": 10,
    "mobilenet_v1": 1001,
    "mobilenet_v1_075": 1001,
    "mobilenet_v1_050": 1001,
    "mobilenet_v1_025": 1001,
    "resnet_v1_152": 1000,
    "resnet_v1_200": 1000,
    "resnet_v2_101": 1001,
    "resnet_v2_200": 1001,
    "inception_v4": 1001,
    "inception_resnet_v2": 1001,
    "mobilenet_v2": 1001,
    "mobilenet_v2_140": 1001,
    "mobilenet_v2_035": 1001,
    "mobilenet_v3_large": 1001,
    "mobilenet_v3_small": 1001,
    "mobilenet_v3_large_minimalistic": 1001,
    "mobilenet_v3_small_minimalistic": 1001,
    "mobilenet_edgetpu": 1001,
    "mobilenet_edgetpu_075": 1001,
    "nasnet_cifar": 10,
    "nasnet_mobile": 1001,
    "nasnet_large": 1001,
    "pnasnet_mobile": 1001,
    "pnasnet_large": 1001,
    "i3d": 400,
    "s3dg": 400,
}

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--research-slim", help="models/research/slim: the folder holding nets/")
args = parser.parse_args()

out = {}
for name, (build, arg_scope, side, classes) in NETS.items():
    with tf.Graph().as_default():
        images = tf.placeholder(tf.float32, [1, side, side, 3])
        with slim.arg_scope(arg_scope()):
            build(images, num_classes=classes, is_training=True)
        out[name] = [[v.op.name, v.shape.as_list()] for v in slim.get_model_variables()]
        print(name, len(out[name]), "model variables")

if args.research_slim:
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benches", "peers"))
    from research_slim import nets_factory as research_nets_factory

    nets_factory = research_nets_factory(args.research_slim)

    for name, classes in RESEARCH_NETS.items():
        with tf.Graph().as_default():
            network_fn = nets_factory.get_network_fn(name, classes, weight_decay=4e-5, is_training=True)
            side = network_fn.default_image_size
            shape = [1, 64, side, side, 3] if name in ("i3d", "s3dg") else [1, side, side, 3]
            network_fn(tf.placeholder(tf.float32, shape))
            out[name] = [[v.op.name, v.shape.as_list()] for v in slim.get_model_variables()]
            print(name, len(out[name]), "model variables")

    # The generative nets, not in nets_factory: each built once at its published defaults.
    from nets import cyclegan, dcgan, pix2pix

    def pix2pix_in_scope(build):
        with slim.arg_scope(pix2pix.pix2pix_arg_scope()):
            return build()

    GENERATIVE = {
        "dcgan_generator": lambda: dcgan.generator(tf.placeholder(tf.float32, [1, 64])),
        "dcgan_discriminator": lambda: dcgan.discriminator(tf.placeholder(tf.float32, [1, 32, 32, 3])),
        "cyclegan_generator": lambda: cyclegan.cyclegan_generator_resnet(tf.placeholder(tf.float32, [1, 32, 32, 3])),
        "pix2pix_generator": lambda: pix2pix_in_scope(
            lambda: pix2pix.pix2pix_generator(tf.placeholder(tf.float32, [1, 256, 256, 3]), num_outputs=3)),
        "pix2pix_discriminator": lambda: pix2pix_in_scope(
            lambda: pix2pix.pix2pix_discriminator(tf.placeholder(tf.float32, [1, 256, 256, 3]), [64, 128, 256, 512])),
    }
    for name, build in GENERATIVE.items():
        with tf.Graph().as_default():
            build()
            out[name] = [[v.op.name, v.shape.as_list()] for v in slim.get_model_variables()]
            print(name, len(out[name]), "model variables")

path = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "zoo", "variables.json.gz")
with gzip.GzipFile(path, "wb", mtime=0) as f:
    f.write(json.dumps(out, separators=(",", ":")).encode())
print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")
