//! The cells of TF-Slim's NASNet-A and PNASNet (`nets/nasnet/nasnet_utils.py`): a cell takes the previous two
//! layers, runs five pairwise combinations of searched operations (stacked separable convs, pools, identity)
//! and concatenates the hidden states no combination used; `factorized_reduction` halves a map without losing
//! half its pixels.

use crate::prelude::*;

/// One of a cell's searched operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CellOp {
    /// `separable_KxK_N`: N times relu, a K×K separable conv, batch norm.
    Separable(i64, usize),
    /// `avg_pool_KxK` (SAME).
    AvgPool(i64),
    /// `max_pool_KxK` (SAME).
    MaxPool(i64),
    /// `none`: the input, projected only when the stride or the depth must change.
    Identity,
}

use CellOp::{AvgPool, Identity, MaxPool, Separable};

/// A cell's definition: ten operations applied pairwise to the hidden states `hidden` names (0 and 1 are the
/// cell's inputs, 2… the combinations so far), and which of the seven hidden states a combination used (the rest
/// are concatenated into the output).
#[derive(Debug)]
pub(super) struct CellDef {
    ops: [CellOp; 10],
    hidden: [usize; 10],
    used: [bool; 7],
}

/// `NasNetANormalCell`.
pub(super) const NASNET_A_NORMAL: CellDef = CellDef {
    ops: [
        Separable(5, 2),
        Separable(3, 2),
        Separable(5, 2),
        Separable(3, 2),
        AvgPool(3),
        Identity,
        AvgPool(3),
        AvgPool(3),
        Separable(3, 2),
        Identity,
    ],
    hidden: [0, 1, 1, 1, 0, 1, 1, 1, 0, 0],
    used: [true, false, false, false, false, false, false],
};

/// `NasNetAReductionCell`.
pub(super) const NASNET_A_REDUCTION: CellDef = CellDef {
    ops: [
        Separable(5, 2),
        Separable(7, 2),
        MaxPool(3),
        Separable(7, 2),
        AvgPool(3),
        Separable(5, 2),
        Identity,
        AvgPool(3),
        Separable(3, 2),
        MaxPool(3),
    ],
    hidden: [0, 1, 0, 1, 0, 1, 3, 2, 2, 0],
    used: [true, true, true, false, false, false, false],
};

/// `PNasNetNormalCell`.
pub(super) const PNASNET_NORMAL: CellDef = CellDef {
    ops: [
        Separable(5, 2),
        MaxPool(3),
        Separable(7, 2),
        MaxPool(3),
        Separable(5, 2),
        Separable(3, 2),
        Separable(3, 2),
        MaxPool(3),
        Separable(3, 2),
        Identity,
    ],
    hidden: [1, 1, 0, 0, 0, 0, 4, 0, 1, 0],
    used: [true, true, false, false, false, false, false],
};

/// A net's cell: its definition, the base filters, and drop path (`keep_prob` < 1 drops, scaled down by the cell's
/// depth among `total_cells` and annealed in over `total_training_steps`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Cell {
    pub def: &'static CellDef,
    pub num_conv_filters: i64,
    pub drop_path_keep_prob: f64,
    pub total_cells: usize,
    pub total_training_steps: i64,
}

/// Where one application of a cell sits in the net.
pub(super) struct CellSite<'a> {
    /// The cell's scope (`cell_3`, `reduction_cell_0`, `cell_stem_1`).
    pub scope: &'a str,
    /// Multiplies the base filters.
    pub filter_scaling: f64,
    /// The stride of the operations on the cell's inputs.
    pub stride: i64,
    /// The cell's number among all cells (stem cells first), for drop path.
    pub cell_num: usize,
}

/// The width of an NCHW map: what TF-Slim compares to tell maps apart (`shape[2]` of its NHWC tensors).
fn width(x: &Tensor) -> i64 {
    x.size()[3]
}

/// The channels of an NCHW map.
fn channels(x: &Tensor) -> i64 {
    x.size()[1]
}

/// `x` through relu, a 1×1 conv to `depth` at `stride` and batch norm, under `scope/{conv}` and `scope/{bn}`.
fn relu_conv_bn(x: &Tensor, depth: i64, stride: i64, scope: &str, [conv, bn]: [&str; 2]) -> Result<Tensor> {
    let net = conv2d(&x.f_relu()?, depth, 1).stride(stride).scope(format!("{scope}/{conv}")).call()?;
    batch_norm(&net).scope(format!("{scope}/{bn}")).call()
}

/// TF-Slim's `factorized_reduction(net, output_filters, stride)` under `scope`: at stride 1 a 1×1 conv
/// (`path_conv`) and batch norm (`path_bn`); at stride 2 two 1×1 convs over the even pixels and over the odd ones
/// (`path1_conv`, `path2_conv`, half the filters each, the odd one rounded up), concatenated and batch-normalized
/// (`final_path_bn`).
pub(super) fn factorized_reduction(net: &Tensor, output_filters: i64, stride: i64, scope: &str) -> Result<Tensor> {
    if stride == 1 {
        let net = conv2d(net, output_filters, 1).scope(format!("{scope}/path_conv")).call()?;
        return batch_norm(&net).scope(format!("{scope}/path_bn")).call();
    }
    let even = net.f_slice(2, 0, None, stride)?.f_slice(3, 0, None, stride)?;
    let path1 = conv2d(&even, output_filters / 2, 1).scope(format!("{scope}/path1_conv")).call()?;
    let shifted = net.f_constant_pad_nd([0, 1, 0, 1])?.f_slice(2, 1, None, 1)?.f_slice(3, 1, None, 1)?;
    let odd = shifted.f_slice(2, 0, None, stride)?.f_slice(3, 0, None, stride)?;
    let path2 = conv2d(&odd, output_filters / 2 + output_filters % 2, 1).scope(format!("{scope}/path2_conv")).call()?;
    batch_norm(&Tensor::f_cat(&[path1, path2], 1)?).scope(format!("{scope}/final_path_bn")).call()
}

impl Cell {
    /// Applies the cell to `net` (and the layer before it, `prev`) at `site`.
    pub(super) fn apply(&self, net: &Tensor, prev: Option<&Tensor>, site: &CellSite<'_>) -> Result<Tensor> {
        let filters = (self.num_conv_filters as f64 * site.filter_scaling) as i64;
        let scope = site.scope;
        let prev = match prev {
            None => net.shallow_clone(),
            Some(prev) if width(prev) != width(net) => factorized_reduction(&prev.f_relu()?, filters, 2, scope)?,
            Some(prev) if channels(prev) != filters => relu_conv_bn(prev, filters, 1, scope, ["prev_1x1", "prev_bn"])?,
            Some(prev) => prev.shallow_clone(),
        };
        let mut states = vec![relu_conv_bn(net, filters, 1, scope, ["1x1", "beginning_bn"])?, prev];
        for iteration in 0..5 {
            let mut sides = Vec::with_capacity(2);
            for (side, position) in [("left", 2 * iteration), ("right", 2 * iteration + 1)] {
                let index = self.def.hidden[position];
                let stride = if index < 2 { site.stride } else { 1 };
                let op_scope = format!("{scope}/comb_iter_{iteration}/{side}");
                sides.push(self.operation(&states[index], self.def.ops[position], stride, filters, site, &op_scope)?);
            }
            states.push(sides[0].f_add(&sides[1])?);
        }
        self.combine_unused(states, &format!("{scope}/cell_output"))
    }

    /// One searched operation on `net` under `scope`, with drop path after anything but the identity.
    fn operation(
        &self,
        net: &Tensor,
        op: CellOp,
        stride: i64,
        filters: i64,
        site: &CellSite<'_>,
        scope: &str,
    ) -> Result<Tensor> {
        let net = match op {
            Separable(kernel, layers) => (1..=layers).try_fold(net.shallow_clone(), |net, layer| {
                let layer_stride = if layer == 1 { stride } else { 1 };
                let name = format!("{kernel}x{kernel}_{layer}");
                let conv = separable_conv2d(&net.f_relu()?, filters, kernel).depth_multiplier(1).stride(layer_stride);
                let conv = conv.scope(format!("{scope}/separable_{name}")).call()?;
                batch_norm(&conv).scope(format!("{scope}/bn_sep_{name}")).call()
            })?,
            // TF-Slim's `none` is never dropped, projected or not.
            Identity if stride > 1 || channels(net) != filters => {
                return relu_conv_bn(net, filters, stride, scope, ["1x1", "bn_1"]);
            }
            Identity => return Ok(net.shallow_clone()),
            AvgPool(kernel) | MaxPool(kernel) => {
                let pooled = match op {
                    AvgPool(_) => avg_pool2d(net, kernel)
                        .stride(stride)
                        .padding(Same)
                        .scope(format!("{scope}/AvgPool2D"))
                        .call()?,
                    _ => max_pool2d(net, kernel)
                        .stride(stride)
                        .padding(Same)
                        .scope(format!("{scope}/MaxPool2D"))
                        .call()?,
                };
                match channels(net) != filters {
                    true => {
                        let projected = conv2d(&pooled, filters, 1).scope(format!("{scope}/1x1")).call()?;
                        batch_norm(&projected).scope(format!("{scope}/bn_1")).call()?
                    }
                    false => pooled,
                }
            }
        };
        self.drop_path(&net, site.cell_num, scope)
    }

    /// Drop path at the cell's keep probability, scaled down by its depth (`v3`: then annealed over the steps).
    fn drop_path(&self, net: &Tensor, cell_num: usize, scope: &str) -> Result<Tensor> {
        if self.drop_path_keep_prob >= 1.0 {
            return Ok(net.shallow_clone());
        }
        let layer_ratio = (cell_num + 1) as f64 / self.total_cells as f64;
        let keep_prob = 1.0 - layer_ratio * (1.0 - self.drop_path_keep_prob);
        let call = drop_path(net, keep_prob).burn_in_steps(self.total_training_steps);
        call.scope(format!("{scope}/drop_path")).call()
    }

    /// The hidden states no combination used, brought to the last one's size and depth by `factorized_reduction`
    /// (`scope/reduction_<i>`) where they differ, concatenated over the channels.
    fn combine_unused(&self, mut states: Vec<Tensor>, scope: &str) -> Result<Tensor> {
        let last = states.last().map(|last| (width(last), channels(last)));
        let Some((final_width, final_filters)) = last else {
            return Err(Error::invalid(scope, "a cell has hidden states"));
        };
        for (index, used) in self.def.used.iter().enumerate() {
            let (state_width, filters) = (width(&states[index]), channels(&states[index]));
            if !used && (state_width != final_width || filters != final_filters) {
                let stride = if state_width != final_width { 2 } else { 1 };
                let reduction = format!("{scope}/reduction_{index}");
                states[index] = factorized_reduction(&states[index], final_filters, stride, &reduction)?;
            }
        }
        let unused: Vec<Tensor> =
            states.into_iter().zip(self.def.used).filter(|(_, used)| !used).map(|(s, _)| s).collect();
        Ok(Tensor::f_cat(&unused, 1)?)
    }
}
