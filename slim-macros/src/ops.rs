//! The ops slim's macros know: their positional parameters, keywords, and the runtime types they expand to.
//! `tests/model_macros.rs` checks this table against the runtime's `ScopeArgs::FIELDS`.

/// How an op runs.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OpKind {
    /// A layer with a call builder (`conv2d(…).padding(…).call()`), arg-scopable, repeatable.
    Layer {
        /// Whether it takes `reuse = true`.
        reuse: bool,
    },
    /// A plain function of tensors (`flatten`): positional arguments only.
    Function,
}

/// One op.
pub(crate) struct Op {
    pub(crate) name: &'static str,
    pub(crate) kind: OpKind,
    /// Positional parameters, the input first.
    pub(crate) positional: &'static [&'static str],
    /// Keywords that arg scopes can set (the fields of `args_type`).
    pub(crate) keywords: &'static [&'static str],
    /// `Conv2d` for `Conv2dArgs` / `Conv2dCall`.
    pub(crate) type_stem: &'static str,
}

/// A layer's own keywords followed by those every layer with weights and biases takes (the runtime's
/// `weighted_layer_args!`).
macro_rules! weighted_layer_keywords {
    ($($own:literal),* $(,)?) => {
        &[
            $($own,)*
            "activation_fn",
            "normalizer_fn",
            "weights_initializer",
            "weights_regularizer",
            "biases_initializer",
            "biases_regularizer",
            "variables_collections",
            "outputs_collections",
            "trainable",
        ]
    };
}

const CONV: &[&str] = weighted_layer_keywords!["stride", "padding", "data_format", "rate"];
const CONV_TRANSPOSE: &[&str] = weighted_layer_keywords!["stride", "padding", "data_format"];
const SEPARABLE: &[&str] =
    weighted_layer_keywords!["depth_multiplier", "stride", "padding", "data_format", "rate", "pointwise_initializer"];
const DENSE: &[&str] = weighted_layer_keywords![];
const BATCH_NORM: &[&str] = &[
    "decay",
    "center",
    "scale",
    "epsilon",
    "activation_fn",
    "param_initializers",
    "param_regularizers",
    "updates_collections",
    "is_training",
    "data_format",
    "variables_collections",
    "outputs_collections",
    "trainable",
];
const LAYER_NORM: &[&str] = &[
    "center",
    "scale",
    "activation_fn",
    "begin_norm_axis",
    "begin_params_axis",
    "variables_collections",
    "outputs_collections",
    "trainable",
];
const BIAS_ADD: &[&str] =
    &["activation_fn", "initializer", "regularizer", "variables_collections", "outputs_collections", "trainable"];
const POOL: &[&str] = &["stride", "padding", "data_format", "outputs_collections"];
const DROPOUT: &[&str] = &["keep_prob", "noise_shape", "is_training", "outputs_collections"];

const fn layer(
    name: &'static str,
    positional: &'static [&'static str],
    keywords: &'static [&'static str],
    type_stem: &'static str,
    reuse: bool,
) -> Op {
    Op { name, kind: OpKind::Layer { reuse }, positional, keywords, type_stem }
}

const fn function(name: &'static str, positional: &'static [&'static str]) -> Op {
    Op { name, kind: OpKind::Function, positional, keywords: &[], type_stem: "" }
}

/// Every op, in the order error messages list them.
pub(crate) const OPS: &[Op] = &[
    layer("conv2d", &["inputs", "num_outputs", "kernel_size"], CONV, "Conv2d", true),
    layer("conv2d_transpose", &["inputs", "num_outputs", "kernel_size"], CONV_TRANSPOSE, "Conv2dTranspose", true),
    layer("separable_conv2d", &["inputs", "num_outputs", "kernel_size"], SEPARABLE, "SeparableConv2d", true),
    layer("fully_connected", &["inputs", "num_outputs"], DENSE, "FullyConnected", true),
    layer("batch_norm", &["inputs"], BATCH_NORM, "BatchNorm", true),
    layer("layer_norm", &["inputs"], LAYER_NORM, "LayerNorm", true),
    layer("bias_add", &["inputs"], BIAS_ADD, "BiasAdd", true),
    layer("max_pool2d", &["inputs", "kernel_size"], POOL, "MaxPool2d", false),
    layer("avg_pool2d", &["inputs", "kernel_size"], POOL, "AvgPool2d", false),
    layer("dropout", &["inputs", "keep_prob"], DROPOUT, "Dropout", false),
    function("flatten", &["inputs"]),
    function("softmax", &["logits"]),
    function("one_hot_encoding", &["labels", "num_classes", "on_value", "off_value"]),
    function("unit_norm", &["inputs", "dim", "epsilon"]),
];

/// The op called `name`.
pub(crate) fn find(name: &str) -> Option<&'static Op> {
    OPS.iter().find(|op| op.name == name)
}

impl Op {
    /// Whether arg scopes can list it.
    pub(crate) fn is_layer(&self) -> bool {
        matches!(self.kind, OpKind::Layer { .. })
    }

    /// Whether `keyword` is accepted at a call site (the arg-scope keywords plus `scope` and maybe `reuse`).
    pub(crate) fn accepts_at_call(&self, keyword: &str) -> bool {
        match self.kind {
            OpKind::Layer { reuse } => {
                self.keywords.contains(&keyword) || keyword == "scope" || (reuse && keyword == "reuse")
            }
            OpKind::Function => false,
        }
    }

    /// The keywords accepted at a call site, for error messages.
    pub(crate) fn call_keywords(&self) -> String {
        match self.kind {
            OpKind::Layer { reuse } => {
                let mut all: Vec<&str> = self.keywords.to_vec();
                all.push("scope");
                if reuse {
                    all.push("reuse");
                }
                all.join(", ")
            }
            OpKind::Function => String::new(),
        }
    }
}

/// The names of the arg-scopable ops, for error messages.
pub(crate) fn layer_names() -> String {
    OPS.iter().filter(|op| op.is_layer()).map(|op| op.name).collect::<Vec<_>>().join(", ")
}

/// What a call or list entry names: one of slim's ops, or a function made with `#[slim::add_arg_scope]`
/// (whose keywords rustc checks against its generated `Args`).
pub(crate) enum Callee {
    /// One of slim's ops.
    Builtin(&'static Op),
    /// A user function, by the path it was named with.
    User(syn::Path),
}

/// `" (did you mean `x`?)"` when one of `candidates` is within two edits of `name`, else nothing.
pub(crate) fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| format!(" (did you mean `{candidate}`?)"))
        .unwrap_or_default()
}

/// Levenshtein distance between two short words.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_come_from_close_names_only() {
        assert_eq!(did_you_mean("paddin", ["stride", "padding"]), " (did you mean `padding`?)");
        assert_eq!(did_you_mean("strides", ["stride", "padding"]), " (did you mean `stride`?)");
        assert_eq!(did_you_mean("keep_prob", ["stride", "padding"]), "");
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
