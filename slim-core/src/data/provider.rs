//! The provider: batches of a dataset in a seeded, shuffled (or sequential) order over epochs, made on the
//! calling thread or ahead of time by reader threads into a bounded queue. Batch `k` depends only on the seed,
//! the batch size and `k`, so threads keep the order, and a [`Position`] saved with a checkpoint resumes the
//! same stream.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use tch::{Kind, Tensor};

use super::dataset::Dataset;
use super::rng::SplitMix64;
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

type Preprocess = Arc<dyn Preprocessing>;

/// Everything needed to make batch number `k`, on any thread.
struct Plan {
    images: Tensor,
    labels: Tensor,
    batch_size: i64,
    seed: Option<u64>,
    num_epochs: Option<u64>,
    drop_remainder: bool,
    preprocess: Preprocess,
}

impl Plan {
    fn for_thread(&self) -> Plan {
        Plan {
            images: self.images.shallow_clone(),
            labels: self.labels.shallow_clone(),
            preprocess: self.preprocess.clone(),
            ..*self
        }
    }

    fn examples(&self) -> i64 {
        self.labels.size()[0]
    }

    fn batches_per_epoch(&self) -> u64 {
        let (n, b) = (self.examples(), self.batch_size);
        (if self.drop_remainder { n / b } else { (n + b - 1) / b }) as u64
    }

    fn position_of(&self, number: u64) -> Position {
        let per_epoch = self.batches_per_epoch().max(1);
        Position { epoch: number / per_epoch, index: (number % per_epoch) as i64 * self.batch_size }
    }

    fn number_of(&self, position: Position) -> u64 {
        position.epoch * self.batches_per_epoch() + (position.index / self.batch_size) as u64
    }

    /// The order of `epoch`: the identity, or a Fisher–Yates shuffle driven by SplitMix64 from the seed and epoch.
    fn order_of(&self, epoch: u64) -> Tensor {
        let mut order: Vec<i64> = (0..self.examples()).collect();
        if let Some(seed) = self.seed {
            let mut random = SplitMix64::new(seed, epoch);
            for i in (1..order.len()).rev() {
                order.swap(i, random.below(i as u64 + 1) as usize);
            }
        }
        Tensor::from_slice(&order)
    }

    /// Batch `number`, or `None` past the last epoch. `cache` keeps the latest epoch's order.
    fn batch(&self, number: u64, cache: &mut Option<(u64, Tensor)>) -> Option<Batch> {
        let Position { epoch, index } = self.position_of(number);
        if self.batches_per_epoch() == 0 || self.num_epochs.is_some_and(|epochs| epoch >= epochs) {
            return None;
        }
        if cache.as_ref().is_none_or(|(cached, _)| *cached != epoch) {
            *cache = Some((epoch, self.order_of(epoch)));
        }
        let order = &cache.as_ref()?.1;
        let indices = order.narrow(0, index, self.batch_size.min(self.examples() - index));
        let images = self.preprocess.apply(&self.images.index_select(0, &indices), number);
        Some(Batch { images, labels: self.labels.index_select(0, &indices) })
    }
}

/// Batches of a dataset; an iterator that ends after `num_epochs` (never, by default).
pub struct Provider {
    plan: Plan,
    next: u64,
    cache: Option<(u64, Tensor)>,
}

impl Provider {
    /// A provider of `batch_size` examples per batch (1 to the dataset's size), in the dataset's order, images
    /// scaled to [0, 1].
    pub fn new(dataset: &Dataset, batch_size: i64) -> Result<Self> {
        if batch_size < 1 || batch_size > dataset.len().max(1) {
            return Err(Error::invalid(
                &dataset.name,
                format!("batch_size must be in 1..={}, got {batch_size}", dataset.len()),
            ));
        }
        let plan = Plan {
            images: dataset.images.shallow_clone(),
            labels: dataset.labels.shallow_clone(),
            batch_size,
            seed: None,
            num_epochs: None,
            drop_remainder: false,
            preprocess: Arc::new(|images: &Tensor| images.to_kind(Kind::Float) / 255.0),
        };
        Ok(Provider { plan, next: 0, cache: None })
    }

    /// Shuffles each epoch with an order drawn from `seed` and the epoch number.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.plan.seed = Some(seed);
        self
    }

    /// Ends after this many epochs.
    pub fn num_epochs(mut self, epochs: u64) -> Self {
        self.plan.num_epochs = Some(epochs);
        self
    }

    /// Leaves out each epoch's last batch when it is smaller than the others (default: keep it).
    pub fn drop_remainder(mut self, drop: bool) -> Self {
        let position = self.position();
        self.plan.drop_remainder = drop;
        self.next = self.plan.number_of(position);
        self
    }

    /// Replaces the default preprocessing (unsigned bytes to floats in [0, 1]): a closure of the `[B, C, H, W]`
    /// bytes, or a [`Preprocessing`] such as the `slim` crate's `CifarnetPreprocessing`.
    pub fn preprocess(mut self, preprocess: impl Preprocessing + 'static) -> Self {
        self.plan.preprocess = Arc::new(preprocess);
        self
    }

    /// Continues from `position` (saved from [`Provider::position`]).
    pub fn starting_at(mut self, position: Position) -> Self {
        self.next = self.plan.number_of(position);
        self
    }

    /// Continues from batch number `number` of the stream (counting from 0 across epochs): training resumed
    /// at global step `n` continues with batch `n` when it takes one batch a step.
    pub fn starting_at_batch(mut self, number: u64) -> Self {
        self.next = number;
        self
    }

    /// Where the next batch starts.
    pub fn position(&self) -> Position {
        self.plan.position_of(self.next)
    }

    /// Makes the batches ahead of time on `threads` reader threads, each keeping up to `capacity` ready batches;
    /// the order stays the same. Dropping the result stops the threads.
    pub fn prefetch(self, threads: usize, capacity: usize) -> Prefetch {
        let threads = threads.max(1);
        let (mut receivers, mut workers) = (Vec::with_capacity(threads), Vec::with_capacity(threads));
        for worker in 0..threads as u64 {
            let (sender, receiver) = sync_channel(capacity.max(1));
            let plan = self.plan.for_thread();
            let first = self.next + worker;
            let handle = std::thread::spawn(move || {
                let mut cache = None;
                let mut number = first;
                while let Some(batch) = plan.batch(number, &mut cache) {
                    if sender.send(batch).is_err() {
                        return;
                    }
                    number += threads as u64;
                }
            });
            receivers.push(receiver);
            workers.push(handle);
        }
        Prefetch { plan: self.plan, next: self.next, start: self.next, receivers, workers }
    }
}

impl Iterator for Provider {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let batch = self.plan.batch(self.next, &mut self.cache)?;
        self.next += 1;
        Some(batch)
    }
}

/// A provider whose batches reader threads make ahead of time; see [`Provider::prefetch`].
pub struct Prefetch {
    plan: Plan,
    next: u64,
    start: u64,
    receivers: Vec<Receiver<Batch>>,
    workers: Vec<JoinHandle<()>>,
}

impl Prefetch {
    /// Where the next batch starts.
    pub fn position(&self) -> Position {
        self.plan.position_of(self.next)
    }
}

impl Iterator for Prefetch {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        let worker = ((self.next - self.start) % self.receivers.len() as u64) as usize;
        let batch = self.receivers.get(worker)?.recv().ok()?;
        self.next += 1;
        Some(batch)
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.receivers.clear(); // a worker blocked on a full queue now fails to send and returns
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// What a provider applies to each batch of `[B, C, H, W]` bytes. `batch` is the batch's number in the stream:
/// random preprocessing draws from it (and its own seed), so batches stay the same on any thread and after a
/// resume.
pub trait Preprocessing: Send + Sync {
    /// The float images of batch number `batch`.
    fn apply(&self, images: &Tensor, batch: u64) -> Tensor;
}

impl Preprocessing for Box<dyn Preprocessing> {
    fn apply(&self, images: &Tensor, batch: u64) -> Tensor {
        self.as_ref().apply(images, batch)
    }
}

impl<F: Fn(&Tensor) -> Tensor + Send + Sync> Preprocessing for F {
    fn apply(&self, images: &Tensor, _batch: u64) -> Tensor {
        self(images)
    }
}
