//! TF-Slim's PNASNet-5 (`nets/nasnet/pnasnet.py`, Liu et al. 2018): `pnasnet_mobile` and `pnasnet_large`, one
//! searched cell stacked after NASNet's ImageNet stem, strided where NASNet puts its reduction cells.

use super::nasnet::{NasnetConfig, aux_head, final_layer, imagenet_stem, second_to_last};
use super::nasnet_cell::{CellSite, PNASNET_NORMAL};
use crate::prelude::*;

/// TF-Slim's PNASNet for `[N, 3, 331, 331]` (large) or `[N, 3, 224, 224]` (mobile) images. TF-Slim builds it in no
/// scope: build it in scope `""` inside [`nasnet_arg_scope`](super::nasnet_arg_scope) for its names (`conv0`,
/// `cell_stem_0`, `cell_0` …, `aux_<n>/aux_logits`, `final_layer/FC`). End points `Stem`, `Cell_<n>`,
/// `AuxLogits`, `global_pool`, `Logits`, `Predictions`.
#[crate::model]
#[derive(Clone, Debug)]
pub struct Pnasnet {
    /// Classes of the logits; `None` returns the pooled features `[N, C]` (and builds no auxiliary head).
    pub num_classes: Option<i64>,
    /// The hyper-parameters.
    pub config: NasnetConfig,
}

#[crate::model]
impl Pnasnet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = self.base(images)?;
        final_layer(&net, self.num_classes, self.config.dense_dropout_keep_prob)
    }
}

impl Pnasnet {
    /// `build_pnasnet_mobile`: 224×224 images.
    pub fn mobile(num_classes: Option<i64>) -> Self {
        Pnasnet { num_classes, config: NasnetConfig::pnasnet_mobile() }
    }

    /// `build_pnasnet_large`: 331×331 images.
    pub fn large(num_classes: Option<i64>) -> Self {
        Pnasnet { num_classes, config: NasnetConfig::pnasnet_large() }
    }

    /// TF-Slim's `_build_pnasnet_base` up to the last cell.
    fn base(&self, images: &Tensor) -> Result<Tensor> {
        let config = &self.config;
        config.check("PNASNet")?;
        let cell = config.cell(&PNASNET_NORMAL, config.num_cells + 2);
        let (net, mut outputs) = imagenet_stem(images, config, &cell)?;
        let mut net = end_point(&net, "Stem")?;
        let reductions = config.reduction_layers();
        let mut filter_scaling = 1.0;
        let mut prev = None;
        for layer in 0..config.num_cells {
            let reducing = reductions.contains(&layer);
            if reducing {
                filter_scaling *= config.filter_scaling_rate;
            }
            if config.skip_reduction_layer_input || !reducing {
                prev = second_to_last(&outputs).map(Tensor::shallow_clone);
            }
            let scope = format!("cell_{layer}");
            let stride = if reducing { 2 } else { 1 };
            let site = CellSite { scope: &scope, filter_scaling, stride, cell_num: layer + 2 };
            net = end_point(&cell.apply(&net, prev.as_ref(), &site)?, &format!("Cell_{layer}"))?;
            outputs.push(Some(net.shallow_clone()));
            if let (Some(classes), Some(true)) = (self.num_classes, config.aux_head_cell().map(|at| at == layer)) {
                aux_head(&net, classes, &format!("aux_{layer}"))?;
            }
        }
        Ok(net)
    }
}
