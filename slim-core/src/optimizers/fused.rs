//! Optimizer updates for all variables in one call: momentum, plain gradient descent, Adam, RMSProp and Adadelta
//! (with TF's formulas) through slim's own kernels. Each variable is updated in one pass over its
//! memory, where the step-by-step rules take three (momentum) to seven (Adam) tensor operations per variable.
//! Variables whose tensors a fused kernel cannot index (another device or dtype, a layout the gradient or a slot
//! does not share) keep the step-by-step rule; the results are the same either way, to float rounding — and for
//! values below the smallest normal float, which the fused kernels flush to zero as TF's kernels do (slots that
//! decay under zero gradients would otherwise stay subnormal, where each arithmetic instruction on x86 takes a
//! microcode assist: an Adam update over LeNet's fc3 ran up to 10× slower).

use tch::{Device, Kind, TchError, Tensor};

use super::{GradientAndVariable, gradients_are_finite};
use crate::backend::CpuPath;
use crate::native::{self, AdadeltaStep, AdamStep, RmsPropSlots, RmsPropStep};
use crate::{Error, Result};

/// The positions in `updates` whose update a fused kernel can take: dense float32 or float64 CPU variables
/// whose gradient and slots (`slots` holds one list per slot, each with one tensor per update) match them in
/// dtype and memory layout. Empty when the fused update is off.
pub(crate) fn fusable_positions(updates: &[GradientAndVariable], slots: &[&[Tensor]]) -> Vec<usize> {
    if !CpuPath::FusedOptimizer.enabled() {
        return Vec::new();
    }
    let fusable: Vec<usize> = (0..updates.len())
        .filter(|&i| {
            let variable = updates[i].variable.tensor();
            let alike = |other: &Tensor| other.kind() == variable.kind() && same_layout(variable, other);
            covered(variable) && alike(&updates[i].gradient) && slots.iter().all(|slot| slot.get(i).is_some_and(alike))
        })
        .collect();
    if fusable.len() < updates.len() {
        CpuPath::FusedOptimizer.switch().decline(|| {
            "the fused update covers dense float32 and float64 CPU variables whose gradients and slots share their \
             memory layout; the others are updated step by step (same results)"
                .into()
        });
    }
    fusable
}

/// The positions below `count` that are not in `fused` (ascending, as `fusable_positions` returns them): the
/// variables left to the step-by-step rule.
fn unfused_positions(fused: &[usize], count: usize) -> impl Iterator<Item = usize> + '_ {
    let mut fused = fused.iter().copied().peekable();
    (0..count).filter(move |&index| fused.next_if_eq(&index).is_none())
}

/// One step split between a fused kernel for the variables at `fused` (`apply_fused(check_finite)`, answering
/// whether it applied) and the step-by-step rule for the others (`step_one(position)`), in the order that keeps
/// a refusal whole: with `check_finite`, the step-by-step variables' gradients are scanned first, the kernel
/// scans its own before writing, and only then are the others updated. Answers whether the step was applied.
pub(crate) fn fused_then_step_by_step(
    updates: &[GradientAndVariable],
    fused: &[usize],
    check_finite: bool,
    apply_fused: impl FnOnce(bool) -> Result<bool>,
    step_one: impl FnMut(usize) -> Result<()>,
) -> Result<bool> {
    let unfused: Vec<usize> = unfused_positions(fused, updates.len()).collect();
    if check_finite && !gradients_are_finite(unfused.iter().map(|&index| &updates[index]))? {
        return Ok(false);
    }
    if !apply_fused(check_finite)? {
        return Ok(false);
    }
    unfused.into_iter().try_for_each(step_one)?;
    Ok(true)
}

/// Applies the fused SGD step to the variables of `updates` at `positions`: momentum with `accumulations` (one per
/// update), plain descent without. With `check_finite` their gradients are scanned first and nothing changes if
/// one is not finite; the answer says whether the step was applied. Errors name `optimizer` and the variables.
pub(crate) fn apply_fused_sgd(
    optimizer: &str,
    positions: &[usize],
    updates: &[GradientAndVariable],
    accumulations: Option<&[Tensor]>,
    (momentum, learning_rate, nesterov): (f64, f64, bool),
    check_finite: bool,
) -> Result<bool> {
    if positions.is_empty() {
        return Ok(true);
    }
    let (variables, gradients) = variables_and_gradients(positions, updates);
    let accumulations = accumulations.map(|a| pick(positions, a));
    let rule = (momentum, learning_rate, nesterov);
    native::fused_sgd(&variables, &gradients, accumulations.as_deref(), rule, check_finite)
        .map_err(|error| fused_error(optimizer, positions, updates, error))
}

/// Applies slim's fused Adam step to the variables of `updates` at `positions`, with their first and second
/// moment slots (one per update). With `check_finite` their gradients are scanned first and nothing changes if
/// one is not finite; the answer says whether the step was applied. Errors name `optimizer` and the variables.
pub(crate) fn apply_fused_adam(
    optimizer: &str,
    positions: &[usize],
    updates: &[GradientAndVariable],
    (first_moments, second_moments): (&[Tensor], &[Tensor]),
    step: AdamStep,
    check_finite: bool,
) -> Result<bool> {
    if positions.is_empty() {
        return Ok(true);
    }
    let (variables, gradients) = variables_and_gradients(positions, updates);
    let (firsts, seconds) = (pick(positions, first_moments), pick(positions, second_moments));
    native::fused_adam(&variables, &gradients, &firsts, &seconds, step, check_finite)
        .map_err(|error| fused_error(optimizer, positions, updates, error))
}

/// Applies slim's fused RMSProp step to the variables of `updates` at `positions`, with their mean-square,
/// (centered: mean-gradient) and momentum slots (one per update). With `check_finite` their gradients are scanned
/// first and nothing changes if one is not finite; the answer says whether the step was applied. Errors name
/// the optimizer and the variables.
pub(crate) fn apply_fused_rmsprop(
    positions: &[usize],
    updates: &[GradientAndVariable],
    (mean_squares, mean_gradients, momenta): (&[Tensor], Option<&[Tensor]>, &[Tensor]),
    step: RmsPropStep,
    check_finite: bool,
) -> Result<bool> {
    if positions.is_empty() {
        return Ok(true);
    }
    let (variables, gradients) = variables_and_gradients(positions, updates);
    let (squares, moms) = (pick(positions, mean_squares), pick(positions, momenta));
    let means = mean_gradients.map(|tensors| pick(positions, tensors));
    let slots = RmsPropSlots { mean_squares: &squares, mean_gradients: means.as_deref(), momenta: &moms };
    native::fused_rmsprop(&variables, &gradients, &slots, step, check_finite)
        .map_err(|error| fused_error("RMSProp", positions, updates, error))
}

/// Applies slim's fused Adadelta step to the variables of `updates` at `positions`, with their accumulator and
/// accumulated-update slots (one per update). With `check_finite` their gradients are scanned first and nothing
/// changes if one is not finite; the answer says whether the step was applied. Errors name the optimizer and the
/// variables.
pub(crate) fn apply_fused_adadelta(
    positions: &[usize],
    updates: &[GradientAndVariable],
    (accumulators, accumulated_updates): (&[Tensor], &[Tensor]),
    step: AdadeltaStep,
    check_finite: bool,
) -> Result<bool> {
    if positions.is_empty() {
        return Ok(true);
    }
    let (variables, gradients) = variables_and_gradients(positions, updates);
    let slots = (pick(positions, accumulators), pick(positions, accumulated_updates));
    native::fused_adadelta(&variables, &gradients, (&slots.0, &slots.1), step, check_finite)
        .map_err(|error| fused_error("Adadelta", positions, updates, error))
}

/// The variables and gradients at `positions`.
fn variables_and_gradients<'a>(
    positions: &[usize],
    updates: &'a [GradientAndVariable],
) -> (Vec<&'a Tensor>, Vec<&'a Tensor>) {
    positions.iter().map(|&i| (updates[i].variable.tensor(), &updates[i].gradient)).unzip()
}

/// The tensors of one slot list at `positions`.
fn pick<'a>(positions: &[usize], tensors: &'a [Tensor]) -> Vec<&'a Tensor> {
    positions.iter().map(|&i| &tensors[i]).collect()
}

/// A failed fused call, naming the optimizer and the variables it was given.
fn fused_error(optimizer: &str, positions: &[usize], updates: &[GradientAndVariable], error: TchError) -> Error {
    let names: Vec<&str> = positions.iter().map(|&i| updates[i].variable.name()).collect();
    Error::Torch { context: format!("{optimizer}, fused update of {}", names.join(", ")), source: error }
}

/// Whether the fused kernel covers `variable`: float32 or float64 on the CPU, laid out densely (every element
/// once, no gaps), as contiguous and channels-last tensors are.
fn covered(variable: &Tensor) -> bool {
    let kind_ok = matches!(variable.kind(), Kind::Float | Kind::Double);
    kind_ok && variable.device() == Device::Cpu && is_dense(&variable.size(), &variable.stride())
}

/// Whether `a` and `b` have the same sizes and put each element at the same offset (strides may differ only
/// along dimensions of size 1, which no index steps along).
fn same_layout(a: &Tensor, b: &Tensor) -> bool {
    let (size, a_stride, b_stride) = (a.size(), a.stride(), b.stride());
    size == b.size() && (0..size.len()).all(|d| size[d] == 1 || a_stride[d] == b_stride[d])
}

/// Whether strides `stride` lay out `size` densely in some dimension order.
fn is_dense(size: &[i64], stride: &[i64]) -> bool {
    let mut dims: Vec<(i64, i64)> = size.iter().zip(stride).filter(|(s, _)| **s != 1).map(|(s, t)| (*t, *s)).collect();
    dims.sort_unstable();
    let mut expected = 1;
    for (stride, size) in dims {
        if stride != expected {
            return false;
        }
        expected *= size;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::variables::Variable;

    #[test]
    fn unfused_positions_are_the_rest() {
        assert_eq!(unfused_positions(&[0, 2, 3], 6).collect::<Vec<_>>(), vec![1, 4, 5]);
        assert_eq!(unfused_positions(&[], 2).collect::<Vec<_>>(), vec![0, 1]);
        assert_eq!(unfused_positions(&[0, 1], 2).count(), 0);
    }

    #[test]
    fn dense_layouts_are_recognised() {
        assert!(is_dense(&[2, 3, 4], &[12, 4, 1]));
        assert!(is_dense(&[8, 3, 5, 5], &[75, 1, 15, 3]), "channels-last");
        assert!(is_dense(&[3, 1, 4], &[4, 99, 1]), "a size-1 dimension's stride does not matter");
        assert!(is_dense(&[], &[]));
        assert!(!is_dense(&[4, 4], &[8, 2]), "every other column");
        assert!(!is_dense(&[4, 4], &[0, 1]), "broadcast rows");
    }

    fn update(variable: &Tensor, gradient: Tensor) -> GradientAndVariable {
        GradientAndVariable { gradient, variable: Variable::new("v".into(), variable.shallow_clone(), Vec::new()) }
    }

    #[test]
    fn mismatched_layouts_and_dtypes_are_left_to_the_step_by_step_rule() {
        let options = (Kind::Float, Device::Cpu);
        let weights = Tensor::zeros([4, 4], options);
        let halves = Tensor::zeros([4, 4], (Kind::Half, Device::Cpu));
        let updates = [
            update(&weights, Tensor::zeros([4, 4], options)),
            update(&weights, Tensor::zeros([4, 4], options).tr()),
            update(&weights, Tensor::zeros([4, 4], (Kind::Double, Device::Cpu))),
            update(&halves, halves.zeros_like()),
        ];
        let fused = crate::backend::Config { fused_optimizer: Some(true), ..Default::default() };
        fused.scoped(|| {
            assert_eq!(fusable_positions(&updates, &[]), vec![0]);
            assert_eq!(fusable_positions(&updates[..1], &[&[weights.tr()]]), Vec::<usize>::new());
            assert_eq!(fusable_positions(&updates[..1], &[&[weights.zeros_like()]]), vec![0]);
            let (good, bad) = ([weights.zeros_like()], [weights.tr()]);
            assert_eq!(fusable_positions(&updates[..1], &[&good, &bad]), Vec::<usize>::new(), "every slot counts");
            let pointwise = Tensor::zeros([16, 8, 1, 1], options);
            let channels_last = crate::backend::memory_format::to_channels_last(&pointwise).unwrap();
            assert_ne!(channels_last.stride(), pointwise.stride());
            assert_eq!(fusable_positions(&[update(&channels_last, pointwise.zeros_like())], &[]), vec![0]);
        });
    }
}
