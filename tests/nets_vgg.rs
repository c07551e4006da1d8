//! `slim::nets::Vgg`: TF-Slim's vgg_16 under `vgg_arg_scope` (its exact variable names and checkpoint shapes, the
//! fully connected layers as convolutions), and the torchvision name map.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::nets::{Vgg, VggDepth, torchvision_vgg_names, vgg_arg_scope};
use slim::prelude::*;

/// torchvision's vgg16 state-dict shapes, in its order.
fn torchvision_vgg16_shapes() -> Vec<Vec<i64>> {
    let mut shapes = Vec::new();
    let mut channels = 3;
    for (convs, width) in [(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)] {
        for _ in 0..convs {
            shapes.push(vec![width, channels, 3, 3]);
            shapes.push(vec![width]);
            channels = width;
        }
    }
    for (outputs, inputs) in [(4096, 512 * 7 * 7), (4096, 4096), (1000, 4096)] {
        shapes.push(vec![outputs, inputs]);
        shapes.push(vec![outputs]);
    }
    shapes
}

#[test]
fn vgg_16_has_tf_slims_checkpoint_names_and_shapes_and_maps_from_torchvision() {
    let vs = VarStore::new(Device::Cpu);
    let definition =
        Vgg { depth: VggDepth::D16, num_classes: Some(1000), dropout_keep_prob: 0.5, spatial_squeeze: true };
    let net = arg_scope!(vgg_arg_scope(5e-4) => { definition.build(&vs, "vgg_16", &[1, 3, 224, 224]).unwrap() });
    assert_eq!(net.model_variables().len(), 32);
    assert_eq!(net.num_parameters(), 138_357_544);
    assert_eq!(vs.regularization_losses().len(), 16);
    assert_eq!(vs.variable("vgg_16/conv5/conv5_3/weights").unwrap().shape(), [512, 512, 3, 3]);
    assert_eq!(vs.variable("vgg_16/fc6/weights").unwrap().shape(), [4096, 512, 7, 7]);
    assert_eq!(vs.variable("vgg_16/fc8/weights").unwrap().shape(), [1000, 4096, 1, 1]);
    let layers: Vec<&str> = net.layer_names().collect();
    assert!(layers.contains(&"vgg_16/conv3/conv3_3") && layers.contains(&"vgg_16/pool5"));
    let names = torchvision_vgg_names(VggDepth::D16, "vgg_16");
    assert_eq!(names.len(), 32);
    assert_eq!(names[4], ("features.5.weight".to_string(), "vgg_16/conv2/conv2_1/weights".to_string()));
    assert_eq!(names[25], ("features.28.bias".to_string(), "vgg_16/conv5/conv5_3/biases".to_string()));
    assert_eq!(names[26].0, "classifier.0.weight");
    for ((_, slim), torch_shape) in names.iter().zip(torchvision_vgg16_shapes()) {
        let variable = vs.variable(slim).unwrap_or_else(|| panic!("no {slim}"));
        assert_eq!(variable.numel(), torch_shape.iter().product::<i64>(), "{slim} vs torchvision {torch_shape:?}");
    }
    let logits = net.forward_t(&Tensor::zeros([1, 3, 224, 224], (Kind::Float, Device::Cpu)), Mode::Eval).unwrap();
    assert_eq!(logits.output.size(), [1, 1000]);
}
