//! The macros' semantics: TF-Slim's arg-scope precedence through `arg_scope!`, saved scopes, defaults reaching
//! helper functions, `#[slim::add_arg_scope]` layers (also under replay), an Inception-style block built with
//! `stack!`, and the macros' list of layers checked against the runtime.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use slim::arg_scope::ScopeArgs;
use slim::layers::*;
use slim::prelude::*;

mod common;
use common::zeros;

/// The macros' list of layer names: each names a layer of the runtime (its `name::Args` exists, or the table
/// would not compile) whose op is that name, and every layer of the runtime is listed.
#[test]
fn the_macros_list_every_runtime_layer_by_its_op_name() {
    let table = slim_macros::__op_table!();
    assert!(table.iter().all(|(name, op)| name == op), "{table:?}");
    let runtime = [
        conv2d::Args::OP_NAME,
        conv2d_transpose::Args::OP_NAME,
        conv2d_in_plane::Args::OP_NAME,
        conv1d::Args::OP_NAME,
        conv3d::Args::OP_NAME,
        conv3d_transpose::Args::OP_NAME,
        convolution::Args::OP_NAME,
        separable_conv2d::Args::OP_NAME,
        fully_connected::Args::OP_NAME,
        legacy_fully_connected::Args::OP_NAME,
        batch_norm::Args::OP_NAME,
        layer_norm::Args::OP_NAME,
        group_norm::Args::OP_NAME,
        instance_norm::Args::OP_NAME,
        gdn::Args::OP_NAME,
        spatial_softmax::Args::OP_NAME,
        bias_add::Args::OP_NAME,
        max_pool2d::Args::OP_NAME,
        avg_pool2d::Args::OP_NAME,
        max_pool3d::Args::OP_NAME,
        avg_pool3d::Args::OP_NAME,
        dropout::Args::OP_NAME,
        drop_path::Args::OP_NAME,
    ];
    assert_eq!(table.iter().map(|(name, _)| *name).collect::<Vec<_>>(), runtime);
}

/// Shapes tell which defaults applied: VALID shrinks a 3×3 conv's output by 2, stride 2 halves it.
#[test]
fn explicit_beats_inner_beats_outer_and_defaults_reach_helpers() -> slim::Result<()> {
    fn helper(x: &Tensor) -> slim::Result<Tensor> {
        conv2d(x, 4, 3).call()
    }
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let x = zeros(&[1, 3, 8, 8]);
    let (outer, inner, explicit, helped) = arg_scope!([conv2d], padding = Valid => {
        let outer = conv2d(&x, 4, 3).call()?;
        arg_scope!([conv2d, max_pool2d], stride = 2 => {
            let inner = conv2d(&x, 4, 3).call()?;
            let explicit = conv2d(&x, 4, 3).padding(Same).stride(1).call()?;
            (outer, inner, explicit, helper(&x)?)
        })
    });
    assert_eq!(outer.size(), [1, 4, 6, 6]);
    assert_eq!(inner.size(), [1, 4, 3, 3], "VALID from the outer scope, stride 2 from the inner");
    assert_eq!(explicit.size(), [1, 4, 8, 8]);
    assert_eq!(helped.size(), [1, 4, 3, 3], "defaults reach ops called in helper functions");
    assert_eq!(conv2d(&x, 4, 3).call()?.size(), [1, 4, 8, 8], "outside every scope: TF-Slim's defaults");
    Ok(())
}

#[test]
fn a_saved_scope_replaces_the_active_one() -> slim::Result<()> {
    fn valid_scope() -> ArgScope {
        arg_scope!([conv2d], padding = Valid => { ArgScope::current() })
    }
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let x = zeros(&[1, 3, 8, 8]);
    let saved = valid_scope();
    assert!(ArgScope::current().is_empty(), "leaving the macro leaves the scope");
    let out = arg_scope!([conv2d], stride = 2 => { arg_scope!(saved => { conv2d(&x, 4, 3).call()? }) });
    assert_eq!(out.size(), [1, 4, 6, 6], "VALID applies; the enclosing stride 2 is replaced, not merged");
    Ok(())
}

/// Upsamples by `factor` (nearest) then convolves; `factor` is a keyword an arg scope can set.
#[slim::add_arg_scope]
fn upsample_conv(inputs: &Tensor, filters: i64, #[default(2)] factor: i64) -> Result<Tensor> {
    let size = inputs.size();
    let up = inputs.upsample_nearest2d([size[2] * factor, size[3] * factor], None, None);
    conv2d(up, filters, [3, 3], activation_fn = None, scope = "conv")
}

#[slim::model]
struct Decoder;

#[slim::model]
impl Decoder {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        arg_scope!([upsample_conv], factor = 3 => {
            let net = upsample_conv(inputs, 8, scope = "up1");
            let net = upsample_conv(net, 4, factor = 1, scope = "up2");
            stack!(net, upsample_conv, [2, (2, factor = 2)], scope = "more")
        })
    }
}

#[test]
fn add_arg_scope_layers_take_keywords_scopes_and_replay_their_arguments() {
    let vs = VarStore::new(Device::Cpu);
    let net = Decoder.build(&vs, "decoder", &[1, 2, 2, 2]).unwrap();
    let names: Vec<String> = net.model_variables().iter().map(|v| v.name().to_string()).collect();
    assert_eq!(
        names,
        [
            "decoder/up1/conv/weights",
            "decoder/up1/conv/biases",
            "decoder/up2/conv/weights",
            "decoder/up2/conv/biases",
            "decoder/more/more_1/conv/weights",
            "decoder/more/more_1/conv/biases",
            "decoder/more/more_2/conv/weights",
            "decoder/more/more_2/conv/biases",
        ]
    );
    // 2 → ×3 (scope) → ×1 (explicit) → ×3 (scope) → ×2 (explicit) = 36, on every pass: the replay hands back
    // the arguments resolved when the model was built, though arg scopes are not entered then.
    for _ in 0..2 {
        let out = net.forward_t(&zeros(&[1, 2, 2, 2]), Mode::Train).unwrap();
        assert_eq!(out.output.size(), [1, 2, 36, 36]);
    }
}

#[test]
fn add_arg_scope_functions_are_builders_outside_models() -> slim::Result<()> {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let x = zeros(&[1, 2, 2, 2]);
    assert_eq!(upsample_conv(&x, 3).scope("a").call()?.size(), [1, 3, 4, 4]);
    assert_eq!(upsample_conv(&x, 3).factor(4).scope("b").call()?.size(), [1, 3, 8, 8]);
    let scoped = arg_scope!([upsample_conv], factor = 1 => { upsample_conv(&x, 3).scope("c").call()? });
    assert_eq!(scoped.size(), [1, 3, 2, 2]);
    assert_eq!(<upsample_conv::Args as ScopeArgs>::FIELDS, ["factor"]);
    Ok(())
}

/// Inception-v1's Mixed_3b, as TF-Slim writes it, with `stack!` for the two-layer branches.
#[slim::model]
struct Mixed3b;

#[slim::model]
impl Mixed3b {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        arg_scope!([conv2d, max_pool2d], stride = 1, padding = Same => {
            let branch_0 = conv2d(inputs, 64, [1, 1], scope = "Branch_0/Conv2d_0a_1x1");
            let branch_1 = stack!(inputs, conv2d, [(96, [1, 1]), (128, [3, 3])], scope = "Branch_1");
            let branch_2 = stack!(inputs, conv2d, [(16, [1, 1]), (32, [3, 3])], scope = "Branch_2");
            let branch_3 = max_pool2d(inputs, [3, 3], scope = "Branch_3/MaxPool_0a_3x3");
            let branch_3 = conv2d(branch_3, 32, [1, 1], scope = "Branch_3/Conv2d_0b_1x1");
            Tensor::f_cat(&[branch_0, branch_1, branch_2, branch_3], 1)?
        })
    }
}

#[test]
fn inception_block_concatenates_its_branches() {
    let vs = VarStore::new(Device::Cpu);
    let block = Mixed3b.build(&vs, "Mixed_3b", &[1, 192, 28, 28]).unwrap();
    assert_eq!(block.model_variables().len(), 12);
    assert_eq!(vs.variable("Mixed_3b/Branch_1/Branch_1_2/weights").unwrap().shape(), [128, 96, 3, 3]);
    assert_eq!(vs.variable("Mixed_3b/Branch_3/Conv2d_0b_1x1/weights").unwrap().shape(), [32, 192, 1, 1]);
    let out = block.forward_t(&zeros(&[2, 192, 28, 28]), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [2, 64 + 128 + 32 + 32, 28, 28]);
    assert_eq!(out.end_points.get("Mixed_3b/Branch_2/Branch_2_1").unwrap().size(), [2, 16, 28, 28]);
}

#[slim::model]
struct BuilderStyle {
    width: i64,
}

#[slim::model]
impl BuilderStyle {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = conv2d(inputs, self.width, 3).stride(2).scope("conv1").call()?;
        let net = flatten(net);
        let net = fully_connected(&net, 3, activation_fn = None, scope = "logits");
        softmax(net)
    }
}

#[test]
fn builder_calls_and_plain_functions_mix_with_keyword_calls() {
    let vs = VarStore::new(Device::Cpu);
    let net = BuilderStyle { width: 2 }.build(&vs, "mixed", &[1, 1, 4, 4]).unwrap();
    let out = net.forward_t(&zeros(&[5, 1, 4, 4]), Mode::Eval).unwrap();
    assert_eq!(out.output.size(), [5, 3]);
    let sums = out.output.sum_dim_intlist(&[1i64][..], false, Kind::Float);
    assert!(sums.allclose(&Tensor::ones([5], (Kind::Float, Device::Cpu)), 1e-6, 1e-6, false));
    assert_eq!(net.layer_names().collect::<Vec<_>>(), ["mixed/conv1", "mixed/logits"]);
}

/// Rows of four: fails on a tensor whose size is not a multiple of four, in its own code (not a layer's).
#[slim::add_arg_scope]
fn rows_of_four(inputs: &Tensor, #[default(1.0)] gain: f64) -> Result<Tensor> {
    Ok(inputs.f_reshape([-1, 4])? * gain)
}

#[slim::model]
struct Regrouper;

#[slim::model]
impl Regrouper {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = rows_of_four(inputs, scope = "regroup");
        let net = fully_connected(net, 2, scope = "fc");
        Ok(net.f_reshape([-1, 3])?)
    }
}

/// The scope a libtorch error converted by `?` was labelled with.
fn torch_error_scope(result: Result<impl std::fmt::Debug>) -> String {
    match result {
        Err(Error::Torch { context, .. }) => context,
        other => panic!("expected a libtorch error, got {other:?}"),
    }
}

#[test]
fn libtorch_errors_name_the_same_scope_in_a_replay_as_in_the_build() {
    let vs = VarStore::new(Device::Cpu);
    let net = Regrouper.build(&vs, "net", &[3, 4]).unwrap();
    let replayed = torch_error_scope(net.forward_t(&zeros(&[1, 6]), Mode::Train));
    let built = torch_error_scope(Regrouper.build(&VarStore::new(Device::Cpu), "net", &[1, 6]));
    assert_eq!((replayed.as_str(), built.as_str()), ("net/regroup", "net/regroup"));
    // In the model's own body: its scope, both ways.
    let replayed = torch_error_scope(net.forward_t(&zeros(&[2, 4]), Mode::Train));
    let built = torch_error_scope(Regrouper.build(&VarStore::new(Device::Cpu), "net", &[2, 4]));
    assert_eq!((replayed.as_str(), built.as_str()), ("net", "net"));
    // Outside any model, a replay's name is gone.
    assert_eq!(torch_error_scope(zeros(&[3]).f_reshape([2, -1]).map_err(Error::from)), "tensor op");
}

#[slim::model]
struct ScopedRegrouper;

#[slim::model]
impl ScopedRegrouper {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let _outer = VariableScope::new("outer").enter()?;
        let net = rows_of_four(inputs, scope = "regroup");
        let _inner = VariableScope::new("tail").enter()?;
        Ok(net.f_reshape([-1, 3])?)
    }
}

#[test]
fn scopes_a_forward_pass_enters_itself_are_named_once_in_a_replay() {
    let vs = VarStore::new(Device::Cpu);
    let net = ScopedRegrouper.build(&vs, "net", &[3, 4]).unwrap();
    for (shape, scope) in [([1, 6], "net/outer/regroup"), ([2, 4], "net/outer/tail")] {
        let replayed = torch_error_scope(net.forward_t(&zeros(&shape), Mode::Train));
        let built = torch_error_scope(ScopedRegrouper.build(&VarStore::new(Device::Cpu), "net", &shape));
        assert_eq!((replayed.as_str(), built.as_str()), (scope, scope));
    }
}
