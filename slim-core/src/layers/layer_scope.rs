//! What every layer does around its computation: open its variable scope, check its input, publish its output.

use tch::Tensor;

use crate::variables::{Reuse, ScopeGuard, VarStore, VariableScope, current_store};
use crate::{Error, Result};

/// A layer's variable scope while [`BuildLayer::build`](super::BuildLayer::build) runs: its full name (the
/// alias of the layer's output) and the store its variables live in. Left when dropped.
pub struct LayerScope {
    pub(crate) _guard: ScopeGuard,
    pub(crate) name: String,
    pub(crate) store: VarStore,
}

/// Opens `scope` (or the unique default name) with the layer's reuse flag.
pub(crate) fn open(scope: Option<&str>, default_name: &str, reuse: bool) -> Result<LayerScope> {
    let store = current_store()?;
    let reuse = if reuse { Reuse::Yes } else { Reuse::Inherit };
    if reuse == Reuse::Yes && scope.is_none() {
        return Err(Error::invalid(default_name, "reuse=true needs an explicit scope to reuse"));
    }
    let guard = VariableScope::named_or_default(scope, default_name).reuse(reuse).enter()?;
    let name = guard.name();
    Ok(LayerScope { _guard: guard, name, store })
}

impl LayerScope {
    /// The scope's full name (`vgg_16/conv1/conv1_1`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Errors unless `x` has one of the `ranks`.
pub(crate) fn check_rank(scope: &str, op: &str, x: &Tensor, ranks: &[usize]) -> Result<()> {
    let rank = x.dim();
    if ranks.contains(&rank) {
        return Ok(());
    }
    let expected = ranks.iter().map(usize::to_string).collect::<Vec<_>>().join(" or ");
    Err(Error::invalid(scope, format!("{op} expects input with rank {expected}, got {rank} (shape {:?})", x.size())))
}

/// Errors unless the channel dimension of `x` (NCHW or [N, C]) equals what the layer was built for.
pub(crate) fn check_channels(scope: &str, x: &Tensor, expected: i64) -> Result<()> {
    let got = x.size()[1];
    if got != expected {
        return Err(Error::invalid(
            scope,
            format!(
                "expects {expected} input channels (as when its variables were created), got {got} (input shape {:?})",
                x.size()
            ),
        ));
    }
    Ok(())
}

/// Adds `out` under `alias` to each of the outputs collections.
pub(crate) fn collect(store: &VarStore, collections: &[String], alias: &str, out: &Tensor) {
    for collection in collections {
        store.collect_output(collection, alias, out);
    }
}
