//! The seeds' VGG-16 written with `#[slim::model]`, `arg_scope!` and `repeat!`: TF-Slim's exact variable names,
//! 32 model variables and 138,357,544 parameters at 1000 classes.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::prelude::*;

#[slim::model]
struct Vgg16 {
    num_classes: i64,
    dropout_keep_prob: f64,
}

#[slim::model]
impl Vgg16 {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        arg_scope!([conv2d, fully_connected],
                   activation_fn = relu,
                   weights_initializer = truncated_normal(0.0, 0.01),
                   weights_regularizer = l2_regularizer(0.0005) => {
            let net = repeat!(inputs, 2, conv2d(64, [3, 3]), scope = "conv1");
            let net = max_pool2d(net, [2, 2], scope = "pool1");
            let net = repeat!(net, 2, conv2d(128, [3, 3]), scope = "conv2");
            let net = max_pool2d(net, [2, 2], scope = "pool2");
            let net = repeat!(net, 3, conv2d(256, [3, 3]), scope = "conv3");
            let net = max_pool2d(net, [2, 2], scope = "pool3");
            let net = repeat!(net, 3, conv2d(512, [3, 3]), scope = "conv4");
            let net = max_pool2d(net, [2, 2], scope = "pool4");
            let net = repeat!(net, 3, conv2d(512, [3, 3]), scope = "conv5");
            let net = max_pool2d(net, [2, 2], scope = "pool5");
            let net = flatten(net);
            let net = fully_connected(net, 4096, scope = "fc6");
            let net = dropout(net, self.dropout_keep_prob, scope = "dropout6");
            let net = fully_connected(net, 4096, scope = "fc7");
            let net = dropout(net, self.dropout_keep_prob, scope = "dropout7");
            fully_connected(net, self.num_classes, activation_fn = None, scope = "fc8")
        })
    }
}

#[test]
fn vgg16_has_tf_slims_names_and_parameter_count() {
    let vs = VarStore::new(Device::Cpu);
    let net = Vgg16 { num_classes: 1000, dropout_keep_prob: 0.5 }.build(&vs, "vgg_16", &[1, 3, 224, 224]).unwrap();
    let model_variables = net.model_variables();
    assert_eq!(model_variables.len(), 32);
    assert_eq!(net.num_parameters(), 138_357_544);
    let mut expected = Vec::new();
    for (block, convs) in [(1, 2), (2, 2), (3, 3), (4, 3), (5, 3)] {
        for i in 1..=convs {
            for kind in ["weights", "biases"] {
                expected.push(format!("vgg_16/conv{block}/conv{block}_{i}/{kind}"));
            }
        }
    }
    for fc in ["fc6", "fc7", "fc8"] {
        expected.push(format!("vgg_16/{fc}/weights"));
        expected.push(format!("vgg_16/{fc}/biases"));
    }
    let names: Vec<&str> = model_variables.iter().map(|v| v.name()).collect();
    assert_eq!(names, expected);
    assert_eq!(vs.variable("vgg_16/conv1/conv1_1/weights").unwrap().shape(), [64, 3, 3, 3]);
    assert_eq!(vs.variable("vgg_16/fc6/weights").unwrap().shape(), [4096, 512 * 7 * 7]);
    assert_eq!(vs.variable("vgg_16/fc8/biases").unwrap().shape(), [1000]);
    assert_eq!(vs.regularization_losses().len(), 16, "one l2 loss per weights tensor");
    let layers: Vec<&str> = net.layer_names().collect();
    assert_eq!(layers.len(), 13 + 5 + 3 + 2);
    assert_eq!(layers[..3], ["vgg_16/conv1/conv1_1", "vgg_16/conv1/conv1_2", "vgg_16/pool1"]);
    assert!(layers.contains(&"vgg_16/dropout7"));
}

#[test]
fn vgg16_forward_gives_logits_and_end_points() {
    let vs = VarStore::new(Device::Cpu);
    let net = Vgg16 { num_classes: 10, dropout_keep_prob: 0.5 }.build(&vs, "vgg_16", &[1, 3, 32, 32]).unwrap();
    let images = Tensor::rand([2, 3, 32, 32], (Kind::Float, Device::Cpu));
    let out = net.forward_t(&images, Mode::Train).unwrap();
    assert_eq!(out.output.size(), [2, 10]);
    assert_eq!(out.end_points.get("vgg_16/conv1/conv1_1").unwrap().size(), [2, 64, 32, 32]);
    assert_eq!(out.end_points.get("vgg_16/pool5").unwrap().size(), [2, 512, 1, 1]);
    assert!(out.end_points.get("vgg_16/fc8").unwrap().equal(&out.output));
    let eval = net.forward_t(&images, Mode::Eval).unwrap();
    let again = net.forward_t(&images, Mode::Eval).unwrap();
    assert!(eval.output.equal(&again.output), "eval mode is deterministic: dropout is off");
}
