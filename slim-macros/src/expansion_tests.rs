//! Expansion snapshots: the pretty-printed expansions of a few inputs, checked in under `tests/expansions/`.
//! Run with `SLIM_BLESS=1` to rewrite them after an intended change, then read the diff.

use proc_macro2::TokenStream;
use quote::quote;

fn pretty_item(tokens: TokenStream) -> String {
    prettyplease::unparse(&syn::parse2(tokens).expect("the expansion parses as items"))
}

fn pretty_expr(tokens: TokenStream) -> String {
    pretty_item(quote!(fn expansion() { let _ = #tokens; }))
}

fn check(name: &str, expanded: String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/expansions").join(format!("{name}.rs"));
    if std::env::var_os("SLIM_BLESS").is_some() {
        std::fs::write(&path, &expanded).expect("write the snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(expected == expanded, "{name}: expansion changed; run with SLIM_BLESS=1 and review\n{expanded}");
}

#[test]
fn model_impl() {
    let item = quote! {
        impl Vgg {
            fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
                arg_scope!([conv2d, fully_connected], weights_regularizer = l2_regularizer(0.0005) => {
                    let net = repeat!(inputs, 2, conv2d(64, [3, 3]), scope = "conv1");
                    let net = max_pool2d(net, [2, 2], scope = "pool1");
                    let net = flatten(net);
                    fully_connected(net, self.num_classes, activation_fn = None, scope = "fc8")
                })
            }
        }
    };
    check("model_impl", pretty_item(crate::expand::model::expand(TokenStream::new(), item)));
}

#[test]
fn saved_arg_scope() {
    let tokens = quote!(vgg_arg_scope(5e-4) => { conv2d(&x, 4, 3).call()? });
    check("saved_arg_scope", pretty_expr(crate::expand::arg_scope::expand(tokens)));
}

#[test]
fn stack() {
    let tokens = quote!(x, conv2d, [(32, [3, 3]), (64, [1, 1], padding = Valid)], scope = "core");
    check("stack", pretty_expr(crate::expand::repeat::standalone(tokens, crate::expand::repeat::expand_stack_in)));
}

#[test]
fn add_arg_scope() {
    let item = quote! {
        fn block(inputs: &Tensor, filters: i64, #[default(1)] stride: i64) -> Result<Tensor> {
            conv2d(inputs, filters, [3, 3], stride = stride, scope = "conv")
        }
    };
    check("add_arg_scope", pretty_item(crate::expand::add_arg_scope::expand(TokenStream::new(), item)));
}
