//! The provider: batches of a dataset in a seeded, shuffled (or sequential) order over epochs. The order of an
//! epoch depends only on the seed and the epoch number, so a [`Position`] saved with a checkpoint resumes the
//! same stream of batches.

use tch::{Kind, Tensor};

use super::dataset::Dataset;
use crate::{Error, Result};

/// Where a provider is: the epoch and the first example of its next batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// Epochs completed.
    pub epoch: u64,
    /// The next example's place in this epoch's order.
    pub index: i64,
}

/// One batch: float images `[B, C, H, W]` (preprocessed) and int64 labels `[B]`.
#[derive(Debug)]
pub struct Batch {
    /// The images.
    pub images: Tensor,
    /// The labels.
    pub labels: Tensor,
}

type Preprocess = Box<dyn Fn(&Tensor) -> Tensor + Send>;

/// Batches of a dataset; an iterator that ends after `num_epochs` (never, by default).
pub struct Provider<'a> {
    dataset: &'a Dataset,
    batch_size: i64,
    seed: Option<u64>,
    num_epochs: Option<u64>,
    drop_remainder: bool,
    preprocess: Preprocess,
    position: Position,
    order: Option<(u64, Tensor)>,
}

impl<'a> Provider<'a> {
    /// A provider of `batch_size` (positive) examples per batch, in the dataset's order, images scaled to [0, 1].
    pub fn new(dataset: &'a Dataset, batch_size: i64) -> Result<Self> {
        if batch_size < 1 || batch_size > dataset.len().max(1) {
            return Err(Error::invalid(
                &dataset.name,
                format!("batch_size must be in 1..={}, got {batch_size}", dataset.len()),
            ));
        }
        Ok(Provider {
            dataset,
            batch_size,
            seed: None,
            num_epochs: None,
            drop_remainder: false,
            preprocess: Box::new(|images| images.to_kind(Kind::Float) / 255.0),
            position: Position::default(),
            order: None,
        })
    }

    /// Shuffles each epoch with an order drawn from `seed` and the epoch number.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Ends after this many epochs.
    pub fn num_epochs(mut self, epochs: u64) -> Self {
        self.num_epochs = Some(epochs);
        self
    }

    /// Leaves out each epoch's last batch when it is smaller than the others (default: keep it).
    pub fn drop_remainder(mut self, drop: bool) -> Self {
        self.drop_remainder = drop;
        self
    }

    /// Replaces the default preprocessing (unsigned bytes to floats in [0, 1]); it receives `[B, C, H, W]` bytes.
    pub fn preprocess(mut self, preprocess: impl Fn(&Tensor) -> Tensor + Send + 'static) -> Self {
        self.preprocess = Box::new(preprocess);
        self
    }

    /// Continues from `position` (saved from [`Provider::position`]).
    pub fn starting_at(mut self, position: Position) -> Self {
        self.position = position;
        self
    }

    /// Where the next batch starts.
    pub fn position(&self) -> Position {
        self.position
    }

    /// The order of `epoch`: the identity, or a Fisher–Yates shuffle driven by SplitMix64 from the seed and epoch.
    fn order_of(&self, epoch: u64) -> Tensor {
        let n = self.dataset.len();
        let mut order: Vec<i64> = (0..n).collect();
        if let Some(seed) = self.seed {
            let mut state = seed ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let mut next = move || {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            };
            for i in (1..order.len()).rev() {
                order.swap(i, (next() % (i as u64 + 1)) as usize);
            }
        }
        Tensor::from_slice(&order)
    }
}

impl Iterator for Provider<'_> {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let n = self.dataset.len();
        loop {
            if self.num_epochs.is_some_and(|epochs| self.position.epoch >= epochs) || n == 0 {
                return None;
            }
            let remaining = n - self.position.index;
            let short = remaining < self.batch_size;
            if remaining <= 0 || (short && self.drop_remainder) {
                self.position = Position { epoch: self.position.epoch + 1, index: 0 };
                continue;
            }
            let epoch = self.position.epoch;
            if self.order.as_ref().is_none_or(|(cached, _)| *cached != epoch) {
                self.order = Some((epoch, self.order_of(epoch)));
            }
            let order = &self.order.as_ref()?.1;
            let take = remaining.min(self.batch_size);
            let indices = order.narrow(0, self.position.index, take);
            self.position.index += take;
            let images = (self.preprocess)(&self.dataset.images.index_select(0, &indices));
            return Some(Batch { images, labels: self.dataset.labels.index_select(0, &indices) });
        }
    }
}

/// TF-Slim's `lenet` preprocessing: unsigned bytes to floats in [−1, 1].
pub fn lenet_preprocessing(images: &Tensor) -> Tensor {
    images.to_kind(Kind::Float) / 127.5 - 1.0
}
