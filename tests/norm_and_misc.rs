//! TF-Slim's batch_norm, dropout, pooling, flatten, one_hot, softmax, unit_norm, layer_norm and bias_add cases.
#![allow(unused_must_use)] // layers are called for the variables they create
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::prelude::*;
use slim::variables::UpdateOp;

mod common;
use common::rand;

fn close(a: &Tensor, b: &Tensor, tol: f64) -> bool {
    a.allclose(b, tol, tol, false)
}

#[test]
fn batch_norm_variable_names_and_collections() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    batch_norm(&rand(&[5, 3, 3, 3])).scale(true).call().unwrap();
    let model: Vec<String> = get_model_variables(None, None).unwrap().iter().map(|v| v.name().to_string()).collect();
    assert_eq!(model, ["BatchNorm/beta", "BatchNorm/gamma", "BatchNorm/moving_mean", "BatchNorm/moving_variance"]);
    let trainable: Vec<String> =
        get_trainable_variables(None, None).unwrap().iter().map(|v| v.name().to_string()).collect();
    assert_eq!(trainable, ["BatchNorm/beta", "BatchNorm/gamma"]);
    batch_norm(&rand(&[5, 3, 3, 3])).call().unwrap();
    assert!(vs.variable("BatchNorm_1/gamma").is_none(), "scale is off by default");
}

#[test]
fn batch_norm_defers_two_updates_per_call_mean_first() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[5, 3, 3, 3]);
    batch_norm(&x).scope("bn").call().unwrap();
    let ops = vs.take_update_ops();
    assert_eq!(ops.iter().map(UpdateOp::name).collect::<Vec<_>>(), ["bn/moving_mean", "bn/moving_variance"]);
    batch_norm(&x).scope("bn").reuse(true).call().unwrap();
    assert_eq!(vs.update_op_count(), 2);
    batch_norm(&x).scope("bn").reuse(true).call().unwrap();
    assert_eq!(vs.update_op_count(), 4);
    assert_eq!(vs.variables().len(), 3);
}

#[test]
fn delayed_updates_converge_to_the_batch_statistics() {
    tch::manual_seed(1);
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[10, 3, 2, 2]);
    let (layer, _) = batch_norm(&x).decay(0.1).build().unwrap();
    vs.run_update_ops();
    for _ in 0..9 {
        layer.forward(&x).unwrap();
        vs.run_update_ops();
    }
    let (mean, variance) = layer.moving_statistics();
    let (batch_var, batch_mean) = x.var_mean_correction(Some([0i64, 2, 3].as_slice()), 0, false);
    assert!(close(mean, &batch_mean, 1e-5));
    // Unbiased, as TF's fused kernel: var · n / (n - 1) with n = 10·2·2.
    assert!(close(variance, &(batch_var * 40.0 / 39.0), 1e-5));
}

#[test]
fn eval_mode_records_no_updates_and_keeps_the_statistics() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let _eval = Mode::Eval.enter();
    let x = rand(&[10, 3, 2, 2]);
    let (layer, _) = batch_norm(&x).decay(0.1).build().unwrap();
    for _ in 0..10 {
        layer.forward(&x).unwrap();
    }
    assert_eq!(vs.update_op_count(), 0);
    let (mean, variance) = layer.moving_statistics();
    assert_eq!(mean.sum(Kind::Float).double_value(&[]), 0.0);
    assert_eq!(variance.sum(Kind::Float).double_value(&[]), 3.0);
}

#[test]
fn in_place_updates_normalize_every_step() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[10, 32, 7, 7]) + 256.0;
    let (layer, _) = batch_norm(&x).decay(0.2).updates_collections(None).build().unwrap();
    let axes = [0i64, 2, 3];
    let (batch_var, _) = x.var_mean_correction(Some(axes.as_slice()), 0, false);
    let expected_var = &batch_var / (&batch_var + 0.001);
    for _ in 0..10 {
        let y = layer.forward(&x).unwrap();
        let (var, mean) = y.var_mean_correction(Some(axes.as_slice()), 0, false);
        assert!(mean.abs().max().double_value(&[]) < 1e-3);
        assert!(close(&var, &expected_var, 1e-3), "normalized variance is var / (var + epsilon)");
    }
    assert_eq!(vs.update_op_count(), 0);
    let (mean, _) = layer.moving_statistics();
    let batch_mean = x.mean_dim(Some([0i64, 2, 3].as_slice()), false, Kind::Float);
    assert!(close(mean, &batch_mean, 1e-3));
}

#[test]
fn custom_param_initializers_make_the_output_equal_the_input() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = Tensor::full([5, 3, 2, 2], 9.0, (Kind::Float, Device::Cpu));
    let inits = BatchNormParams {
        beta: Some(constant_initializer(5.0)),
        gamma: Some(constant_initializer(2.0)),
        moving_mean: Some(constant_initializer(5.0)),
        moving_variance: Some(constant_initializer(4.0)),
    };
    let y = batch_norm(&x).scale(true).epsilon(0.0).is_training(false).param_initializers(inits).call().unwrap();
    assert!(close(&y, &x, 1e-6));
}

#[test]
fn batch_norm_errors() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let err = batch_norm(&rand(&[5])).scope("bn").call().unwrap_err().to_string();
    assert!(err.contains("bn") && err.contains("rank 2 or more"), "{err}");
}

#[test]
fn dropout_is_identity_in_eval_and_keeps_about_keep_prob() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[5, 3, 10, 10]) + 0.1;
    let y = dropout(&x, 0.5).is_training(false).call().unwrap();
    assert!(y.equal(&x));
    let y = dropout(&x, 0.5).call().unwrap();
    let kept = y.gt(0.0).to_kind(Kind::Float).mean(Kind::Float).double_value(&[]);
    assert!((kept - 0.5).abs() < 0.1, "kept fraction {kept}");
    let kept_values = y.masked_select(&y.gt(0.0));
    let originals = x.masked_select(&y.gt(0.0));
    assert!(close(&kept_values, &(originals * 2.0), 1e-5), "inverted dropout scales by 1/keep_prob");
    assert!(dropout(&x, 0.0).call().is_err());
    let _eval = Mode::Eval.enter();
    assert!(dropout(&x, 0.5).call().unwrap().equal(&x));
}

#[test]
fn dropout_noise_shape_drops_whole_feature_maps() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[8, 16, 5, 5]) + 0.1;
    let y = dropout(&x, 0.5).noise_shape(vec![8, 16, 1, 1]).scope("maps").call().unwrap();
    let kept_per_map = y.gt(0.0).to_kind(Kind::Float).mean_dim(&[2i64, 3][..], false, Kind::Float);
    assert!(kept_per_map.eq(0.0).logical_or(&kept_per_map.eq(1.0)).all().int64_value(&[]) == 1, "all or nothing");
    let kept = kept_per_map.mean(Kind::Float).double_value(&[]);
    assert!((kept - 0.5).abs() < 0.15, "kept fraction {kept}");
    assert!(close(&y.masked_select(&y.gt(0.0)), &(x.masked_select(&y.gt(0.0)) * 2.0), 1e-5));
    let err = dropout(&x, 0.5).noise_shape(vec![8, 3, 1, 1]).scope("bad").call().unwrap_err().to_string();
    assert!(err.contains("bad") && err.contains("noise_shape [8, 3, 1, 1]"), "{err}");
}

#[test]
fn pools_default_to_stride_two_valid() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[5, 3, 3, 6]);
    assert_eq!(max_pool2d(&x, 3).call().unwrap().size(), [5, 3, 1, 2]);
    assert_eq!(avg_pool2d(&x, 3).call().unwrap().size(), [5, 3, 1, 2]);
    let nhwc = rand(&[5, 3, 6, 3]);
    assert_eq!(max_pool2d(&nhwc, 3).data_format(DataFormat::Nhwc).call().unwrap().size(), [5, 1, 2, 3]);
    assert_eq!(max_pool2d(&x, 3).padding(Padding::Same).call().unwrap().size(), [5, 3, 2, 3]);
    let err = max_pool2d(&rand(&[3, 3]), 2).scope("pool9").call().unwrap_err().to_string();
    assert!(err.contains("pool9"), "{err}");
}

#[test]
fn same_pools_ignore_padding() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    // A 2×2 input, 2×2 window, stride 2: no padding; a 3×3 input pads one pixel at the end.
    let x = Tensor::from_slice(&[1.0f32, 2., 3., 4., 5., 6., 7., 8., 9.]).view([1, 1, 3, 3]);
    let avg = avg_pool2d(&x, 2).padding(Padding::Same).call().unwrap();
    let avg: Vec<f32> = avg.flatten(0, -1).try_into().unwrap();
    assert_eq!(avg, [3.0, 4.5, 7.5, 9.0]);
    let neg = -&x;
    let max = max_pool2d(&neg, 2).padding(Padding::Same).call().unwrap();
    let max: Vec<f32> = max.flatten(0, -1).try_into().unwrap();
    assert_eq!(max, [-1.0, -3.0, -7.0, -9.0]);
}

#[test]
fn flatten_one_hot_softmax_unit_norm() {
    assert_eq!(flatten(&rand(&[5])).unwrap().size(), [5, 1]);
    assert_eq!(flatten(&rand(&[4, 3, 3, 3])).unwrap().size(), [4, 27]);
    assert_eq!(flatten(&rand(&[2, 3, 4])).unwrap().size(), [2, 12]);
    // A [1, c=3, h=2, w=2] feature map: rows in TF's H, W, C order (the NHWC tensor's memory order).
    let map = Tensor::arange(12, (Kind::Int64, Device::Cpu)).view([1, 3, 2, 2]);
    let rows: Vec<i64> = flatten(&map).unwrap().view([-1]).try_into().unwrap();
    assert_eq!(rows, [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    let rank3: Vec<i64> = flatten(&map.view([1, 3, 4])).unwrap().view([-1]).try_into().unwrap();
    assert_eq!(rank3, (0..12).collect::<Vec<_>>(), "other ranks keep their order");
    let hot = one_hot_encoding(&Tensor::from_slice(&[0i64, 1, 2]), 3, 1.0, 0.0).unwrap();
    assert!(hot.equal(&Tensor::eye(3, (Kind::Float, Device::Cpu))));
    assert!(one_hot_encoding(&Tensor::from_slice(&[3i64]), 3, 1.0, 0.0).is_err());
    let logits = Tensor::from_slice(&[0.0f32, 1., 1., 1., 1., 0.]).view([3, 2]);
    let e = std::f32::consts::E;
    let expected =
        Tensor::from_slice(&[1. / (1. + e), e / (1. + e), 0.5, 0.5, e / (1. + e), 1. / (1. + e)]).view([3, 2]);
    assert!(close(&softmax(&logits).unwrap(), &expected, 1e-6));
    let x = rand(&[3, 4, 5]);
    for dim in 0..3 {
        let norms = unit_norm(&x, dim, 1e-7)
            .unwrap()
            .square()
            .sum_dim_intlist(Some([dim].as_slice()), false, Kind::Float)
            .sqrt();
        assert!(close(&norms, &norms.ones_like(), 1e-4));
    }
    assert!(unit_norm(&x, 3, 1e-7).is_err());
}

#[test]
fn layer_norm_and_bias_add() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[4, 6]) * 10.0;
    let y = layer_norm(&x).call().unwrap();
    assert_eq!(vs.variable("LayerNorm/gamma").unwrap().shape(), [6]);
    let (var, mean) = y.var_mean_correction(Some([1i64].as_slice()), 0, false);
    assert!(mean.abs().max().double_value(&[]) < 1e-5 && (var - 1.0).abs().max().double_value(&[]) < 1e-4);
    let b = bias_add(&rand(&[2, 5, 3, 3])).call().unwrap();
    assert_eq!(b.size(), [2, 5, 3, 3]);
    assert_eq!(vs.variable("BiasAdd/biases").unwrap().shape(), [5]);
}

/// TF-Slim's `testZeroDebiasMovingMean` (NCHW here): with `zero_debias_moving_mean` the moving mean is the batch
/// mean after every update, `local_step` counts the updates and `biased` converges to the mean; and its
/// `testMovingAverageVariablesZeroDebias`: the extra variables are model variables (six with gamma) named under
/// the scope twice, `BatchNorm/BatchNorm/moving_mean/biased`. Deferred, the updates stay two per call.
#[test]
fn zero_debiased_moving_means_equal_the_batch_mean_from_the_first_update() {
    tch::manual_seed(1);
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[10, 3, 3, 3]);
    let (batch_var, batch_mean) = x.var_mean_correction(Some([0i64, 2, 3].as_slice()), 1, false);
    let call = batch_norm(&x).decay(0.1).scale(true).updates_collections(None).zero_debias_moving_mean(true);
    let (layer, _) = call.build().unwrap();
    let variable = |name: &str| vs.variable(name).unwrap().tensor().shallow_clone();
    let biased = variable("BatchNorm/BatchNorm/moving_mean/biased");
    let local_step = variable("BatchNorm/BatchNorm/moving_mean/local_step");
    assert_eq!(local_step.double_value(&[]), 1.0, "the build's pass was the first update");
    for i in 1..10 {
        assert_eq!(local_step.double_value(&[]), i as f64);
        let (mean, _) = layer.moving_statistics();
        assert!(close(mean, &batch_mean, 1e-5), "step {i}: {mean:?}");
        layer.forward(&x).unwrap();
    }
    let (mean, variance) = layer.moving_statistics();
    assert!(close(mean, &batch_mean, 1e-5) && close(&biased, &batch_mean, 1e-5));
    assert!(close(variance, &batch_var, 1e-5), "the unbiased variance, as slim's batch norm averages it");
    let model: Vec<String> = get_model_variables(None, None).unwrap().iter().map(|v| v.name().to_string()).collect();
    assert_eq!(model.len(), 6, "{model:?}");
    assert!(vs.collection(TRAINABLE_VARIABLES).len() == 2, "beta and gamma");

    let deferred = batch_norm(&x).decay(0.1).zero_debias_moving_mean(true).scope("deferred").build().unwrap().0;
    assert_eq!(vs.update_op_count(), 2, "biased and local_step move with the mean's update");
    vs.run_update_ops();
    assert!(close(deferred.moving_statistics().0, &batch_mean, 1e-5));
}

/// TF's `testRenorm` (Keras' BatchNormalization, which TF-Slim's `renorm` runs), features on axis 1: training
/// outputs `((x − μ_B)/σ_B · r + d) · γ + β` with clipped corrections against the renorm averages; inference uses
/// the moving mean and the moving standard deviation.
#[test]
fn batch_renorm_follows_keras_corrections_and_moving_standard_deviation() {
    tch::manual_seed(3);
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let (momentum, renorm_momentum, epsilon, gamma, beta) = (0.99, 0.8, 0.001, 2.0, 3.0);
    let clipping = RenormClipping { rmin: Some(0.9), rmax: Some(1.1), dmax: Some(0.1) };
    let x = rand(&[4, 3]);
    let params = BatchNormParams {
        gamma: Some(constant_initializer(gamma)),
        beta: Some(constant_initializer(beta)),
        ..BatchNormParams::default()
    };
    let call = || {
        batch_norm(&x)
            .scale(true)
            .decay(momentum)
            .epsilon(epsilon)
            .param_initializers(params.clone())
            .renorm(true)
            .renorm_clipping(clipping)
            .renorm_decay(renorm_momentum)
            .scope("bn")
    };
    let (layer, _) = {
        let _eval = Mode::Eval.enter();
        call().build().unwrap()
    };
    let (mut moving_mean, mut moving_stddev) =
        (Tensor::zeros([3], (Kind::Double, Device::Cpu)), Tensor::ones([3], (Kind::Double, Device::Cpu)));
    let (mut renorm_mean, mut renorm_stddev) = (moving_mean.copy(), moving_stddev.copy());
    for step in 0..5 {
        let x = rand(&[4, 3]);
        let xd = x.to_kind(Kind::Double);
        let (variance, mean) = xd.var_mean_correction(Some([0i64].as_slice()), 0, false);
        let stddev = (&variance + epsilon).sqrt();
        let r = (&stddev / &renorm_stddev).clamp(0.9, 1.1);
        let d = ((&mean - &renorm_mean) / &renorm_stddev).clamp(-0.1, 0.1);
        let y_train = ((&xd - &mean) / &stddev * &r + &d) * gamma + beta;
        renorm_mean += (&mean - &renorm_mean) * (1.0 - renorm_momentum);
        renorm_stddev += (&stddev - &renorm_stddev) * (1.0 - renorm_momentum);
        moving_mean += (&mean - &moving_mean) * (1.0 - momentum);
        moving_stddev += (&stddev - &moving_stddev) * (1.0 - momentum);
        let y_test = (&xd - &moving_mean) / &moving_stddev * gamma + beta;

        let trained = {
            let _train = Mode::Train.enter();
            layer.forward(&x).unwrap()
        };
        assert_eq!(vs.update_op_count(), 2, "step {step}: the mean's and the variance's");
        vs.run_update_ops();
        let tested = {
            let _eval = Mode::Eval.enter();
            layer.forward(&x).unwrap()
        };
        assert!(close(&trained.to_kind(Kind::Double), &y_train, 1e-5), "step {step}: {trained:?} vs {y_train:?}");
        assert!(close(&tested.to_kind(Kind::Double), &y_test, 1e-5), "step {step}: {tested:?} vs {y_test:?}");
    }
    for name in ["bn/renorm_mean", "bn/renorm_stddev", "bn/moving_stddev"] {
        assert!(vs.variable(name).is_some_and(|v| !v.is_model_variable()), "{name}");
    }
    let refused = batch_norm(&x).renorm(true).updates_collections(None).call();
    assert!(refused.err().map(|e| e.to_string()).unwrap_or_default().contains("renorm needs updates_collections"));
}

/// TF-Slim's `variables_collections` dict: each parameter named in `param_collections` joins those collections
/// instead of `variables_collections`.
#[test]
fn batch_norm_parameters_join_their_own_collections() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let collections = BatchNormParams {
        beta: Some(Collections::from("offsets")),
        moving_mean: Some(Collections::from("statistics")),
        moving_variance: Some(Collections::from("statistics")),
        ..BatchNormParams::default()
    };
    batch_norm(&rand(&[4, 3]))
        .scale(true)
        .variables_collections(Collections::from("all"))
        .param_collections(collections)
        .call()
        .unwrap();
    let names = |collection: &str| vs.collection(collection).iter().map(|v| v.name().to_string()).collect::<Vec<_>>();
    assert_eq!(names("offsets"), ["BatchNorm/beta"]);
    assert_eq!(names("statistics"), ["BatchNorm/moving_mean", "BatchNorm/moving_variance"]);
    assert_eq!(names("all"), ["BatchNorm/gamma"]);
}

/// The reference: each (example, group of channels) standardized over its channels and spatial positions with
/// the biased variance, computed slice by slice.
fn grouped_reference(x: &Tensor, groups: i64, epsilon: f64) -> Tensor {
    let (n, c) = (x.size()[0], x.size()[1]);
    let per = c / groups;
    let mut rows = Vec::new();
    for example in 0..n {
        let mut parts = Vec::new();
        for group in 0..groups {
            let part = x.get(example).narrow(0, group * per, per).to_kind(Kind::Double);
            let mean = part.mean(Kind::Double);
            let variance = (&part - &mean).square().mean(Kind::Double);
            parts.push((&part - &mean) / (variance + epsilon).sqrt());
        }
        rows.push(Tensor::cat(&parts, 0));
    }
    Tensor::stack(&rows, 0).to_kind(Kind::Float)
}

/// TF-Slim's `group_norm` (channels on axis 1 here): per example and group, over the group's channels and the
/// spatial axes; `beta` and `gamma` per channel; groups that do not divide the channels are refused.
#[test]
fn group_norm_standardizes_each_group_of_each_example() {
    tch::manual_seed(4);
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[3, 8, 5, 4]) * 3.0 + 1.0;
    let y = group_norm(&x).groups(4).call().unwrap();
    assert!(close(&y, &grouped_reference(&x, 4, 1e-6), 1e-4));
    assert_eq!(vs.variable("GroupNorm/beta").unwrap().shape(), [8]);
    assert_eq!(vs.variable("GroupNorm/gamma").unwrap().shape(), [8]);
    let gamma = vs.variable("GroupNorm/gamma").unwrap().tensor().shallow_clone();
    tch::no_grad(|| gamma.shallow_clone().copy_(&Tensor::arange(8, (Kind::Float, Device::Cpu))));
    let scaled = group_norm(&x).groups(4).scope("GroupNorm").reuse(true).call().unwrap();
    assert!(close(&scaled, &(grouped_reference(&x, 4, 1e-6) * gamma.view([1, 8, 1, 1])), 1e-4));
    let single = arg_scope!([group_norm], groups = 1, scale = false => { group_norm(&x).call() }).unwrap();
    assert!(close(&single, &grouped_reference(&x, 1, 1e-6), 1e-4), "one group: layer norm over C, H, W");
    assert!(vs.variable("GroupNorm_2/gamma").is_none());
    for (groups, expected) in [(3, "invalid groups 3 for 8 channels"), (16, "invalid groups 16 for 8 channels")] {
        let message = group_norm(&x).groups(groups).call().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains(expected), "{message}");
    }
    let message = group_norm(&x).groups(2).reduction_axes(vec![1]).call().err().map(|e| e.to_string());
    assert!(message.unwrap_or_default().contains("reduction_axes"));
}

/// TF-Slim's `instance_norm`: each channel of each example over its spatial axes; `beta` only by default; inputs
/// below rank 3 refused.
#[test]
fn instance_norm_standardizes_each_channel_of_each_example() {
    tch::manual_seed(5);
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = rand(&[2, 3, 6, 5]) * 2.0 - 0.5;
    let y = instance_norm(&x).call().unwrap();
    assert!(close(&y, &grouped_reference(&x, 3, 1e-6), 1e-4));
    assert!(vs.variable("InstanceNorm/beta").is_some() && vs.variable("InstanceNorm/gamma").is_none());
    let message = instance_norm(&rand(&[4, 3])).call().err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("rank 3 or more"), "{message}");
}

/// TF-Slim's `maxout`: consecutive groups of channels replaced by their maximum; the units must divide them.
#[test]
fn maxout_takes_the_maximum_of_each_group_of_channels() {
    let x = Tensor::from_slice(&[1.0f32, 5., 2., -1., 0., 3., 9., 8., 7., 6., 5., 4.]).view([2, 6]);
    let y = maxout(&x, 3, -1).unwrap();
    assert!(y.equal(&Tensor::from_slice(&[5.0f32, 2., 3., 9., 7., 5.]).view([2, 3])));
    let maps = rand(&[2, 4, 3, 3]);
    let pooled = maxout(&maps, 2, 1).unwrap();
    assert_eq!(pooled.size(), [2, 2, 3, 3]);
    assert!(pooled.narrow(1, 1, 1).equal(&maps.narrow(1, 2, 2).amax([1].as_slice(), true)));
    let message = maxout(&x, 4, -1).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("not a multiple of num_units (4)"), "{message}");
}

/// TF-Slim's `scale_gradient`: the identity forward; backward, the gradient times the multiplier.
#[test]
fn scale_gradient_scales_only_the_gradient() {
    let x = Tensor::from_slice(&[1.0f32, -2., 3.]).set_requires_grad(true);
    let k = Tensor::from_slice(&[2.0f32, 3., 4.]);
    for multiplier in [0.3, 0.0, -1.0, 1.0] {
        let y = scale_gradient(&x, multiplier).unwrap();
        assert!(y.equal(&x.detach()));
        let grad = Tensor::run_backward(&[(&y * &k).sum(Kind::Float)], &[&x], false, false).remove(0);
        assert!(close(&grad, &(&k * multiplier), 1e-6), "{multiplier}: {grad:?}");
    }
}

/// TF-Slim's `images_to_sequence` / `sequence_to_images`: `[N, C, H, W]` maps as a `[W, N·H, C]` sequence along
/// the width (step w of row n·H + h holds the pixel (h, w) of image n), and back.
#[test]
fn images_become_sequences_along_their_width_and_back() {
    let x = Tensor::arange(2 * 5 * 3 * 4, (Kind::Float, Device::Cpu)).view([2, 5, 3, 4]);
    let sequence = images_to_sequence(&x).unwrap();
    assert_eq!(sequence.size(), [4, 6, 5]);
    let (n, c, h, w) = (1, 3, 2, 1);
    assert_eq!(sequence.double_value(&[w, n * 3 + h, c]), x.double_value(&[n, c, h, w]));
    assert!(sequence_to_images(&sequence, 3).unwrap().equal(&x));
    assert!(sequence_to_images(&sequence, 4).is_err());
    assert!(images_to_sequence(&rand(&[2, 3])).is_err());
}

/// TF-Slim's `spatial_softmax` on the same `[2, 3, 4, 5]` features at temperature 0.5, against tf_slim 1.1 on TF
/// 2.21 (NCHW there too): `[2, 6]` keypoints, the temperature a model variable `spatial_softmax/temperature`.
#[test]
fn spatial_softmax_gives_tf_slims_keypoints() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let features = ((Tensor::arange(120, (Kind::Float, Device::Cpu)) * 0.37).sin() * 2.0).view([2, 3, 4, 5]);
    let keypoints = spatial_softmax(&features).temperature(Some(0.5)).call().unwrap();
    let expected = Tensor::from_slice(&[
        -0.5463030338287354f64,
        0.13289031386375427,
        -0.03660297393798828,
        0.049540430307388306,
        0.524968147277832,
        -0.23889772593975067,
        0.3416377902030945,
        0.0355989933013916,
        -0.0671859160065651,
        0.079191654920578,
        -0.39403581619262695,
        -0.15181511640548706,
    ])
    .to_kind(Kind::Float)
    .view([2, 6]);
    assert!(close(&keypoints, &expected, 1e-5), "{keypoints:?}");
    let temperature = vs.variable("spatial_softmax/temperature").unwrap();
    assert!(temperature.is_model_variable() && temperature.shape().is_empty());
    assert_eq!(temperature.tensor().double_value(&[]), 0.5);
    assert!(spatial_softmax(&rand(&[2, 3])).call().is_err());
}

/// TF-Slim's `dense_to_sparse`: the entries other than the end token, with their coordinates in row-major order
/// and the dense shape; the COO tensor densifies back.
#[test]
fn dense_to_sparse_keeps_the_entries_that_are_not_the_end_token() {
    use slim::layers::dense_to_sparse;
    let dense = Tensor::from_slice(&[1i64, 0, 3, 0, 5, 0]).view([2, 3]);
    let sparse = dense_to_sparse(&dense, 0.0).unwrap();
    assert!(sparse.indices.equal(&Tensor::from_slice(&[0i64, 0, 0, 2, 1, 1]).view([3, 2])));
    assert!(sparse.values.equal(&Tensor::from_slice(&[1i64, 3, 5])));
    assert_eq!(sparse.dense_shape, [2, 3]);
    assert!(sparse.to_sparse_coo().unwrap().to_dense(None, false).equal(&dense));
    let other = dense_to_sparse(&dense, 3.0).unwrap();
    assert!(other.values.equal(&Tensor::from_slice(&[1i64, 0, 0, 5, 0])));
}

/// TF-Slim's `conv2d_in_plane`: one 3×3 kernel shared by the three channels, stride 2, SAME, biases 0.25 and
/// relu, against tf_slim 1.1 on TF 2.21 for the same input and weights (NHWC there); variables
/// `ConvInPlane/weights` `[1, 1, 3, 3]` (TF's `[3, 3, 1, 1]`) and `ConvInPlane/biases` `[3]`.
#[test]
fn conv2d_in_plane_matches_tf_slim() {
    let vs = VarStore::new(Device::Cpu);
    let _g = vs.as_default();
    let x = (Tensor::arange(180, (Kind::Float, Device::Cpu)) * 0.41).sin().view([2, 3, 5, 6]);
    let (layer, _) = conv2d_in_plane(&x, [3, 3]).stride(2).build().unwrap();
    let kernel = (Tensor::arange(9, (Kind::Float, Device::Cpu)) * 0.7).cos().view([1, 1, 3, 3]);
    tch::no_grad(|| {
        vs.variable("ConvInPlane/weights").unwrap().tensor().shallow_clone().copy_(&kernel);
        let _ = vs.variable("ConvInPlane/biases").unwrap().tensor().shallow_clone().fill_(0.25);
    });
    assert_eq!(vs.variable("ConvInPlane/biases").unwrap().shape(), [3]);
    let expected = Tensor::from_slice(&[
        0.0f64,
        0.0,
        0.0,
        3.2874653339385986,
        0.0,
        0.0,
        3.8430516719818115,
        4.059155464172363,
        1.6763803958892822,
        0.0,
        0.0,
        0.0,
        4.130072116851807,
        0.936747670173645,
        0.0,
        3.227454423904419,
        4.282814025878906,
        2.324671745300293,
        0.32933124899864197,
        0.0,
        0.0,
        4.698999404907227,
        2.1407790184020996,
        0.0,
        2.4018430709838867,
        4.222019195556641,
        2.826626777648926,
        1.1010736227035522,
        0.0,
        0.0,
        4.9541168212890625,
        3.211444616317749,
        0.0,
        1.4244521856307983,
        3.881058931350708,
        3.1468400955200195,
        1.8127856254577637,
        0.0,
        0.0,
        4.8774309158325195,
        4.073225021362305,
        0.5101205706596375,
        0.36422136425971985,
        3.283982753753662,
        3.262725591659546,
        2.414267063140869,
        0.2678564786911011,
        0.0,
        4.4743499755859375,
        4.6653361320495605,
        1.28998601436615,
        0.0,
        2.472904920578003,
        3.1661088466644287,
    ])
    .to_kind(Kind::Float)
    .view([2, 3, 3, 3]);
    let y = layer.forward(&x).unwrap();
    assert!(close(&y, &expected, 1e-5), "{y:?}");
    assert!(conv2d_in_plane(&rand(&[2, 3]), [3, 3]).call().is_err());
}
