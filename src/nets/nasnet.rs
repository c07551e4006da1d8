//! TF-Slim's NASNet-A (`nets/nasnet/nasnet.py`, Zoph et al. 2018): `nasnet_cifar`, `nasnet_mobile` and
//! `nasnet_large`, stacks of searched normal and reduction cells after a stem, with an auxiliary head and
//! drop path; and the pieces PNASNet shares with it (hyper-parameters, ImageNet stem, heads, arg scope).

use super::logits::predictions_end_point;
use super::nasnet_cell::{Cell, CellDef, CellSite, NASNET_A_NORMAL, NASNET_A_REDUCTION};
use crate::prelude::*;

/// The hyper-parameters of a NASNet or PNASNet (TF-Slim's `HParams` configs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NasnetConfig {
    /// Multiplies the stem's filters.
    pub stem_multiplier: f64,
    /// Normal cells (reduction cells come on top in NASNet, in their place in PNASNet).
    pub num_cells: usize,
    /// The first cells' filters, doubled (`filter_scaling_rate`) at each reduction.
    pub num_conv_filters: i64,
    /// How the filters grow at each reduction.
    pub filter_scaling_rate: f64,
    /// Drop path's keep probability for the last cell (deeper cells drop more); 1 turns it off.
    pub drop_path_keep_prob: f64,
    /// Dropout's keep probability before the logits.
    pub dense_dropout_keep_prob: f64,
    /// Build the auxiliary classifier (end point `AuxLogits`) after the cell before the second reduction.
    pub use_aux_head: bool,
    /// Reductions in the stack (2).
    pub num_reduction_layers: usize,
    /// Feed each cell the layer before the previous reduction instead of the reduction's input.
    pub skip_reduction_layer_input: bool,
    /// Global steps over which drop path is annealed in.
    pub total_training_steps: i64,
}

impl NasnetConfig {
    /// `nasnet.cifar_config()`.
    pub fn nasnet_cifar() -> Self {
        NasnetConfig {
            stem_multiplier: 3.0,
            num_cells: 18,
            num_conv_filters: 32,
            filter_scaling_rate: 2.0,
            drop_path_keep_prob: 0.6,
            dense_dropout_keep_prob: 1.0,
            use_aux_head: true,
            num_reduction_layers: 2,
            skip_reduction_layer_input: false,
            total_training_steps: 937_500,
        }
    }

    /// `nasnet.mobile_imagenet_config()`.
    pub fn nasnet_mobile() -> Self {
        NasnetConfig {
            stem_multiplier: 1.0,
            num_cells: 12,
            num_conv_filters: 44,
            drop_path_keep_prob: 1.0,
            dense_dropout_keep_prob: 0.5,
            total_training_steps: 250_000,
            ..NasnetConfig::nasnet_cifar()
        }
    }

    /// `nasnet.large_imagenet_config()`.
    pub fn nasnet_large() -> Self {
        NasnetConfig {
            num_conv_filters: 168,
            drop_path_keep_prob: 0.7,
            skip_reduction_layer_input: true,
            stem_multiplier: 3.0,
            num_cells: 18,
            ..NasnetConfig::nasnet_mobile()
        }
    }

    /// `pnasnet.mobile_imagenet_config()`.
    pub fn pnasnet_mobile() -> Self {
        NasnetConfig {
            num_cells: 9,
            num_conv_filters: 54,
            skip_reduction_layer_input: true,
            ..NasnetConfig::nasnet_mobile()
        }
    }

    /// `pnasnet.large_imagenet_config()`.
    pub fn pnasnet_large() -> Self {
        NasnetConfig {
            stem_multiplier: 3.0,
            num_cells: 12,
            num_conv_filters: 216,
            drop_path_keep_prob: 0.6,
            ..NasnetConfig::pnasnet_mobile()
        }
    }

    /// TF-Slim's `calc_reduction_layers`: the cell numbers where the reductions go.
    pub(super) fn reduction_layers(&self) -> Vec<usize> {
        let reductions = self.num_reduction_layers;
        (1..=reductions).map(|pool| (pool as f64 / (reductions + 1) as f64 * self.num_cells as f64) as usize).collect()
    }

    /// The cell after which the auxiliary head goes: the one before the second reduction.
    pub(super) fn aux_head_cell(&self) -> Option<usize> {
        let reductions = self.reduction_layers();
        match (self.use_aux_head, reductions.get(1)) {
            (true, Some(second)) => second.checked_sub(1),
            _ => None,
        }
    }

    /// A cell of `def` with these filters and drop path, among `total_cells`.
    pub(super) fn cell(&self, def: &'static CellDef, total_cells: usize) -> Cell {
        Cell {
            def,
            num_conv_filters: self.num_conv_filters,
            drop_path_keep_prob: self.drop_path_keep_prob,
            total_cells,
            total_training_steps: self.total_training_steps,
        }
    }

    /// An error naming `net` for a configuration no net can be built from.
    pub(super) fn check(&self, net: &str) -> Result<()> {
        let fine = self.num_cells > 0
            && self.num_conv_filters > 0
            && self.stem_multiplier > 0.0
            && self.filter_scaling_rate > 0.0
            && self.total_training_steps > 0
            && self.drop_path_keep_prob > 0.0
            && self.drop_path_keep_prob <= 1.0;
        match fine {
            true => Ok(()),
            false => Err(Error::invalid(net, format!("no net can be built from {self:?}"))),
        }
    }
}

/// Which stem a NASNet starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NasnetStem {
    /// `_cifar_stem`: one 3×3 conv (`l1_stem_3x3`) and batch norm.
    Cifar,
    /// `_imagenet_stem`: a 3×3 stride-2 VALID conv (`conv0`), batch norm, then two stride-2 cells
    /// (`cell_stem_0`, `cell_stem_1`) at a quarter and half the filters.
    Imagenet,
}

/// The layers so far, for the cells that take the layer before the previous one (`cell_outputs`).
pub(super) type CellOutputs = Vec<Option<Tensor>>;

/// The output before the last in `outputs`.
pub(super) fn second_to_last(outputs: &CellOutputs) -> Option<&Tensor> {
    outputs.len().checked_sub(2).and_then(|index| outputs[index].as_ref())
}

/// TF-Slim's `_imagenet_stem` with `stem_cell` (cell numbers 0 and 1).
pub(super) fn imagenet_stem(images: &Tensor, config: &NasnetConfig, stem_cell: &Cell) -> Result<(Tensor, CellOutputs)> {
    let filters = (32.0 * config.stem_multiplier) as i64;
    let net = conv2d(images, filters, 3).stride(2).padding(Valid).scope("conv0").call()?;
    let mut net = batch_norm(&net).scope("conv0_bn").call()?;
    let mut outputs = vec![None, Some(net.shallow_clone())];
    let mut filter_scaling = 1.0 / config.filter_scaling_rate.powi(2);
    for cell_num in 0..2 {
        let scope = format!("cell_stem_{cell_num}");
        let site = CellSite { scope: &scope, filter_scaling, stride: 2, cell_num };
        net = stem_cell.apply(&net, second_to_last(&outputs), &site)?;
        outputs.push(Some(net.shallow_clone()));
        filter_scaling *= config.filter_scaling_rate;
    }
    Ok((net, outputs))
}

/// TF-Slim's `_build_aux_head` on the cell output `net` under `scope` (`aux_<cell>`): relu, a 5×5 stride-3 VALID
/// average pool, a 1×1 conv of 128 (`aux_logits/proj`) and batch norm, relu, a VALID conv of 768 over the whole
/// map (`aux_logits/Conv`) and batch norm, relu, flattened fully connected logits (`aux_logits/FC`); end point
/// `AuxLogits`.
pub(super) fn aux_head(net: &Tensor, num_classes: i64, scope: &str) -> Result<()> {
    let scope = format!("{scope}/aux_logits");
    let net = avg_pool2d(&net.f_relu()?, 5).stride(3).padding(Valid).scope(format!("{scope}/AvgPool2D")).call()?;
    let net = conv2d(&net, 128, 1).scope(format!("{scope}/proj")).call()?;
    let net = batch_norm(&net).scope(format!("{scope}/aux_bn0")).call()?.f_relu()?;
    let whole = [net.size()[2], net.size()[3]];
    let net = conv2d(&net, 768, whole).padding(Valid).scope(format!("{scope}/Conv")).call()?;
    let net = batch_norm(&net).scope(format!("{scope}/aux_bn1")).call()?.f_relu()?;
    let logits = fully_connected(&flatten(&net)?, num_classes).activation_fn(None).scope(format!("{scope}/FC"));
    end_point(&logits.call()?, "AuxLogits").map(drop)
}

/// TF-Slim's `final_layer`: relu, the map averaged to `[N, C]` (end point `global_pool`), then with `num_classes`
/// dropout (`final_layer/dropout`) and fully connected logits (`final_layer/FC`), end points `Logits` and
/// `Predictions`.
pub(super) fn final_layer(net: &Tensor, num_classes: Option<i64>, keep_prob: f64) -> Result<Tensor> {
    let pooled = end_point(&net.f_relu()?.f_mean_dim(&[2i64, 3][..], false, None)?, "global_pool")?;
    let Some(num_classes) = num_classes else { return Ok(pooled) };
    let net = dropout(&pooled, keep_prob).scope("final_layer/dropout").call()?;
    let logits = fully_connected(&net, num_classes).activation_fn(None).scope("final_layer/FC").call()?;
    let logits = end_point(&logits, "Logits")?;
    predictions_end_point(&logits, "Predictions")?;
    Ok(logits)
}

/// TF-Slim's NASNet-A for `[N, 3, 331, 331]` (large), `[N, 3, 224, 224]` (mobile) or `[N, 3, 32, 32]` (cifar)
/// images. TF-Slim builds it in no scope: build it in scope `""` inside [`nasnet_arg_scope`] for its names
/// (`conv0`, `cell_stem_0`, `cell_0` … `reduction_cell_0` …, `aux_<n>/aux_logits`, `final_layer/FC`). End points
/// `Stem`, `Cell_<n>`, `Reduction_Cell_<n>`, `AuxLogits`, `global_pool`, `Logits`, `Predictions`.
#[crate::model]
#[derive(Clone, Debug)]
pub struct Nasnet {
    /// Classes of the logits; `None` returns the pooled features `[N, C]` (and builds no auxiliary head).
    pub num_classes: Option<i64>,
    /// The hyper-parameters.
    pub config: NasnetConfig,
    /// The stem.
    pub stem: NasnetStem,
}

#[crate::model]
impl Nasnet {
    fn forward(&self, images: &Tensor) -> Result<Tensor> {
        let net = self.base(images)?;
        final_layer(&net, self.num_classes, self.config.dense_dropout_keep_prob)
    }
}

impl Nasnet {
    /// `build_nasnet_cifar`: 32×32 images.
    pub fn cifar(num_classes: Option<i64>) -> Self {
        Nasnet { num_classes, config: NasnetConfig::nasnet_cifar(), stem: NasnetStem::Cifar }
    }

    /// `build_nasnet_mobile`: 224×224 images.
    pub fn mobile(num_classes: Option<i64>) -> Self {
        Nasnet { num_classes, config: NasnetConfig::nasnet_mobile(), stem: NasnetStem::Imagenet }
    }

    /// `build_nasnet_large`: 331×331 images.
    pub fn large(num_classes: Option<i64>) -> Self {
        Nasnet { num_classes, config: NasnetConfig::nasnet_large(), stem: NasnetStem::Imagenet }
    }

    /// TF-Slim's `_build_nasnet_base` up to the last cell.
    fn base(&self, images: &Tensor) -> Result<Tensor> {
        let config = &self.config;
        config.check("NASNet")?;
        let stem_cells = match self.stem {
            NasnetStem::Cifar => 0,
            NasnetStem::Imagenet => 2,
        };
        let total_cells = config.num_cells + 2 + stem_cells;
        let normal = config.cell(&NASNET_A_NORMAL, total_cells);
        let reduction = config.cell(&NASNET_A_REDUCTION, total_cells);
        let (mut net, mut outputs) = match self.stem {
            NasnetStem::Cifar => {
                let filters = (config.num_conv_filters as f64 * config.stem_multiplier) as i64;
                let net = conv2d(images, filters, 3).scope("l1_stem_3x3").call()?;
                let net = batch_norm(&net).scope("l1_stem_bn").call()?;
                (net.shallow_clone(), vec![None, Some(net)])
            }
            NasnetStem::Imagenet => imagenet_stem(images, config, &reduction)?,
        };
        net = end_point(&net, "Stem")?;
        let reductions = config.reduction_layers();
        let mut filter_scaling = 1.0;
        let mut cell_num = stem_cells;
        for layer in 0..config.num_cells {
            let mut prev = second_to_last(&outputs).map(Tensor::shallow_clone);
            if let Some(index) = reductions.iter().position(|at| *at == layer) {
                filter_scaling *= config.filter_scaling_rate;
                let scope = format!("reduction_cell_{index}");
                let site = CellSite { scope: &scope, filter_scaling, stride: 2, cell_num };
                net = end_point(
                    &reduction.apply(&net, second_to_last(&outputs), &site)?,
                    &format!("Reduction_Cell_{index}"),
                )?;
                cell_num += 1;
                outputs.push(Some(net.shallow_clone()));
            }
            if !config.skip_reduction_layer_input {
                prev = second_to_last(&outputs).map(Tensor::shallow_clone);
            }
            let scope = format!("cell_{layer}");
            let site = CellSite { scope: &scope, filter_scaling, stride: 1, cell_num };
            net = end_point(&normal.apply(&net, prev.as_ref(), &site)?, &format!("Cell_{layer}"))?;
            cell_num += 1;
            if let (Some(classes), Some(true)) = (self.num_classes, config.aux_head_cell().map(|at| at == layer)) {
                aux_head(&net, classes, &format!("aux_{layer}"))?;
            }
            outputs.push(Some(net.shallow_clone()));
        }
        Ok(net)
    }
}

/// TF-Slim's `nasnet_{cifar,mobile,large}_arg_scope(weight_decay, batch_norm_decay, batch_norm_epsilon)` (also
/// PNASNet's): l2-decayed, variance-scaling (fan out) weights for convs, separable convs and fully connected
/// layers, all without activation, convs without biases, batch norm with gamma. TF-Slim's defaults: cifar
/// (5e-4, 0.9, 1e-5), mobile (4e-5, 0.9997, 1e-3), large (5e-5, 0.9997, 1e-3), pnasnet (4e-5, 0.9997, 1e-3).
/// (Its `scope='FC'` for fully connected layers is given by the nets: an arg scope sets no scope in slim.)
pub fn nasnet_arg_scope(weight_decay: f64, batch_norm_decay: f64, batch_norm_epsilon: f64) -> ArgScope {
    let initializer = variance_scaling_initializer(2.0, FanMode::FanOut, false);
    crate::arg_scope!([fully_connected, conv2d, separable_conv2d],
                      weights_regularizer = l2_regularizer(weight_decay),
                      weights_initializer = initializer.clone(),
                      activation_fn = None => {
        crate::arg_scope!([conv2d, separable_conv2d], biases_initializer = None => {
            crate::arg_scope!([batch_norm], decay = batch_norm_decay, epsilon = batch_norm_epsilon, scale = true => {
                ArgScope::current()
            })
        })
    })
}
