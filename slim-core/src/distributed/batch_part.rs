//! Which part of the global batch this thread's forward passes hold: rank r of N ranks holds the r-th of N equal
//! parts ([`Provider::shard`](crate::data::Provider::shard)). Dropout reads it, so that its masks depend on the
//! global batch and the step, not on the number of ranks.

use std::cell::Cell;

use super::World;

thread_local! {
    /// (rank, ranks) of the forward passes on this thread.
    static PART: Cell<(usize, usize)> = const { Cell::new((0, 1)) };
}

/// While alive, forward passes on this thread hold rank `world.rank()`'s part of each global batch; see
/// [`BatchPart::enter`].
#[must_use = "the part applies only while the guard is alive"]
pub struct BatchPart {
    previous: (usize, usize),
}

impl BatchPart {
    /// Declares that this thread's forward passes, until the guard drops, run on `world.rank()`'s part of each
    /// global batch of `world.size()` equal parts: dropout then draws the mask elements that part holds in the
    /// mask one process would draw for the whole global batch. [`TrainOp::step`](crate::learning::TrainOp::step)
    /// enters it around the forward pass of a distributed op; a program that runs its forward pass before
    /// [`TrainOp::run`](crate::learning::TrainOp::run) enters it itself.
    pub fn enter(world: World) -> BatchPart {
        let previous = PART.with(|part| part.replace((world.rank(), world.size())));
        BatchPart { previous }
    }
}

impl Drop for BatchPart {
    fn drop(&mut self) {
        PART.with(|part| part.set(self.previous));
    }
}

/// The index of the first element of a per-example tensor of `elements` elements in the global batch's tensor:
/// rank × elements (0 outside a data-parallel forward pass).
pub(crate) fn first_element(elements: i64) -> i64 {
    PART.with(|part| (part.get().0 as i64).saturating_mul(elements))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

    use super::*;

    #[test]
    fn the_part_is_scoped_and_nests() {
        assert_eq!(first_element(10), 0);
        {
            let _outer = BatchPart::enter(World::new(2, 4, 0).unwrap());
            assert_eq!(first_element(10), 20);
            {
                let _inner = BatchPart::enter(World::new(1, 2, 0).unwrap());
                assert_eq!(first_element(10), 10);
            }
            assert_eq!(first_element(10), 20);
        }
        assert_eq!(first_element(10), 0);
    }
}
