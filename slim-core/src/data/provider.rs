//! The provider: batches of a dataset in a seeded, shuffled (or sequential) order over epochs, made on the
//! calling thread or ahead of time by reader threads into a bounded queue. The dataset is held in memory (a
//! [`Dataset`], shuffled whole, preprocessed a batch at a time) or streamed (a [`TfRecordSet`]: shards read in
//! turns through a shuffle buffer; an [`ImageFolder`]: files shuffled whole), each streamed example read,
//! decoded and preprocessed on its own, so images may differ in size. Batch `k` depends only on the seed, the
//! batch size and `k` ([`Plan`](super::plan)), so threads keep the order, and a [`Position`] (or the global
//! step) resumes the same stream.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use tch::{Kind, Tensor};

use super::batch::{Batch, Made};
use super::dataset::Dataset;
use super::image_folder::ImageFolder;
use super::plan::{Cursor, Plan, Position, Shard};
use super::preprocessing::Preprocessing;
use super::record_set::TfRecordSet;
use super::source::DataSource;
use crate::{Error, Result};

/// TF-Slim's `DatasetDataProvider` default `common_queue_min`: the records a streaming provider's shuffle buffer
/// holds unless [`Provider::shuffle_buffer`] says otherwise.
pub const DEFAULT_SHUFFLE_BUFFER: usize = 128;

/// Batches of a dataset; an iterator of `Result<Batch>` (an error when a record is bad and the set does not skip
/// bad records) that ends after `num_epochs` (never, by default).
pub struct Provider {
    plan: Plan,
    next: u64,
    cursor: Cursor,
}

impl Provider {
    /// A provider of an in-memory dataset, `batch_size` examples per batch (1 to the dataset's size), in the
    /// dataset's order, images scaled to [0, 1].
    pub fn new(dataset: &Dataset, batch_size: i64) -> Result<Self> {
        Self::from_source(&DataSource::InMemory(dataset.shallow_clone()), batch_size)
    }

    /// A provider streaming `set`, `batch_size` examples per batch, one reader, in the shards' order, images
    /// scaled to [0, 1]. Its images may differ in size: give a [`Preprocessing`] that resizes them
    /// ([`Provider::preprocess`]).
    pub fn streaming(set: Arc<TfRecordSet>, batch_size: i64) -> Result<Self> {
        Self::from_source(&DataSource::Records(set), batch_size)
    }

    /// A provider streaming the image files of `folder`, `batch_size` examples per batch, in the folder's order
    /// (by class, then by name), images scaled to [0, 1]; see [`Provider::streaming`].
    pub fn image_folder(folder: Arc<ImageFolder>, batch_size: i64) -> Result<Self> {
        Self::from_source(&DataSource::Folder(folder), batch_size)
    }

    /// A provider of any [`DataSource`] (its tensors and files shared, not copied).
    pub fn from_source(source: &DataSource, batch_size: i64) -> Result<Self> {
        let examples = source.len();
        if batch_size < 1 || batch_size > examples.max(1) {
            let message = format!("batch_size must be in 1..={examples}, got {batch_size}");
            return Err(Error::invalid(source.name(), message));
        }
        let source = source.shallow_clone();
        let plan = Plan {
            source,
            batch_size,
            shard: Shard::WHOLE,
            seed: None,
            num_epochs: None,
            drop_remainder: false,
            preprocess: Arc::new(|images: &Tensor| images.to_kind(Kind::Float) / 255.0),
            readers: 1,
            buffer: DEFAULT_SHUFFLE_BUFFER,
        };
        Ok(Provider { plan, next: 0, cursor: Cursor::default() })
    }

    /// Shuffles each epoch with an order drawn from `seed` and the epoch number: an in-memory dataset or an
    /// image folder whole, TFRecord shards by their order and a shuffle buffer.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.plan.seed = Some(seed);
        self
    }

    /// The records a streaming provider's shuffle buffer holds (TF-Slim's `common_queue_min`, tf.data's
    /// `buffer_size`; [`DEFAULT_SHUFFLE_BUFFER`] unless given). A record is given out from among the next this
    /// many; a larger buffer mixes more. In-memory datasets and image folders are shuffled whole.
    pub fn shuffle_buffer(mut self, records: usize) -> Self {
        self.plan.buffer = records.max(1);
        self
    }

    /// How many shards a streaming provider reads at once, taking turns record by record (TF-Slim's
    /// `num_readers`; 1 unless given). Shards are dealt to the readers in the epoch's shard order.
    pub fn num_readers(mut self, readers: usize) -> Self {
        self.plan.readers = readers.max(1);
        self
    }

    /// Makes this rank `rank`'s provider of a data-parallel run over `ranks` processes: the stream's batches
    /// grow to `ranks ×` the batch size (the global batch), and this provider gives the `rank`-th part of each,
    /// its batch size as before. Every rank (built the same way: same source, seed, batch size and
    /// preprocessing) thus reads the same global batch the same step, and the ranks together see what one process
    /// with the global batch would. A smaller last batch of an epoch, which the ranks could not share equally,
    /// is dropped. Positions ([`Provider::position`], [`Provider::starting_at_batch`]) count global batches, so a
    /// checkpoint's position resumes every rank. Streamed examples are preprocessed by their number in the stream,
    /// so random augmentation does not depend on the number of ranks; an in-memory batch's draws depend on its
    /// batch number and its part.
    pub fn shard(mut self, rank: usize, ranks: usize) -> Result<Self> {
        let name = self.plan.source.name().to_string();
        let (Ok(rank), Ok(ranks)) = (i64::try_from(rank), i64::try_from(ranks)) else {
            return Err(Error::invalid(name, format!("rank {rank} of {ranks} is out of range")));
        };
        if ranks < 1 || rank >= ranks || self.plan.shard != Shard::WHOLE {
            let message = format!("cannot shard rank {rank} of {ranks} (already sharded: {:?})", self.plan.shard);
            return Err(Error::invalid(name, message));
        }
        let position = self.position();
        let examples = self.plan.examples();
        let global = self.plan.batch_size.checked_mul(ranks).filter(|global| *global <= examples);
        let Some(global) = global else {
            let message = format!(
                "{ranks} ranks × batch size {} is more than the {examples} examples of an epoch",
                self.plan.batch_size
            );
            return Err(Error::invalid(name, message));
        };
        self.plan.batch_size = global;
        self.plan.shard = Shard { rank, ranks };
        self.next = self.plan.number_of(position);
        Ok(self)
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
    /// bytes, or a [`Preprocessing`] such as the `slim` crate's `InceptionPreprocessing`. A streaming provider
    /// applies it to each image on its own ([`Preprocessing::apply_decoded`]).
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
    /// at global step `n` continues with batch `n` when it takes one batch a step. A streaming provider
    /// replays its epoch's order to there without reading records.
    pub fn starting_at_batch(mut self, number: u64) -> Self {
        self.next = number;
        self
    }

    /// Where the next batch starts.
    pub fn position(&self) -> Position {
        self.plan.position_of(self.next)
    }

    /// The next batch; past the last epoch an [`Error::OutOfRange`], which ends a training loop cleanly (TF's
    /// `OutOfRangeError`).
    pub fn next_batch(&mut self) -> Result<Batch> {
        self.next().unwrap_or_else(|| Err(self.plan.out_of_range()))
    }

    /// The number of examples in an epoch.
    pub fn examples_per_epoch(&self) -> i64 {
        self.plan.examples()
    }

    /// Makes the batches ahead of time on `threads` reader threads (for a streaming set: reading, decoding and
    /// preprocessing), each keeping up to `capacity` ready batches; the order stays the same. Dropping the
    /// result stops the threads.
    pub fn prefetch(self, threads: usize, capacity: usize) -> Prefetch {
        let threads = threads.max(1);
        let (mut receivers, mut workers) = (Vec::with_capacity(threads), Vec::with_capacity(threads));
        for worker in 0..threads as u64 {
            let (sender, receiver) = sync_channel(capacity.max(1));
            let plan = self.plan.for_thread();
            let first = self.next + worker;
            let handle = std::thread::spawn(move || {
                // Reader threads run side by side: a libtorch operation here (a preprocessing closure's) keeps to
                // its thread rather than starting intra-op threads that would spin against the other readers.
                crate::native::set_calling_thread_threads(1, false);
                let mut cursor = Cursor::default();
                let mut number = first;
                while let Some(batch) = plan.batch(number, &mut cursor) {
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
    type Item = Result<Batch>;

    /// The next batch that holds an example (batches whose every record was skipped are passed over).
    fn next(&mut self) -> Option<Result<Batch>> {
        loop {
            let made = self.plan.batch(self.next, &mut self.cursor)?;
            self.next += 1;
            if !made.as_ref().is_ok_and(Made::is_empty) {
                return Some(made.and_then(|made| made.into_batch(self.plan.source.name())));
            }
        }
    }
}

/// A provider whose batches reader threads make ahead of time; see [`Provider::prefetch`].
pub struct Prefetch {
    plan: Plan,
    next: u64,
    start: u64,
    receivers: Vec<Receiver<Result<Made>>>,
    workers: Vec<JoinHandle<()>>,
}

impl Prefetch {
    /// Where the next batch starts.
    pub fn position(&self) -> Position {
        self.plan.position_of(self.next)
    }

    /// The next batch; past the last epoch an [`Error::OutOfRange`], which ends a training loop cleanly (TF's
    /// `OutOfRangeError`).
    pub fn next_batch(&mut self) -> Result<Batch> {
        self.next().unwrap_or_else(|| Err(self.plan.out_of_range()))
    }

    /// Whether batch `number` lies past the last epoch.
    fn is_past_the_end(&self, number: u64) -> bool {
        let epoch = self.plan.position_of(number).epoch;
        self.plan.batches_per_epoch() == 0 || self.plan.num_epochs.is_some_and(|epochs| epoch >= epochs)
    }
}

impl Iterator for Prefetch {
    type Item = Result<Batch>;

    /// The next batch that holds an example; an error when its reader thread stopped (a panic in a
    /// preprocessing closure) before the last epoch's end.
    fn next(&mut self) -> Option<Result<Batch>> {
        loop {
            let worker = ((self.next - self.start) % self.receivers.len() as u64) as usize;
            let made = match self.receivers.get(worker)?.recv() {
                Ok(made) => made,
                Err(_) if self.is_past_the_end(self.next) => return None,
                Err(_) => Err(Error::invalid(
                    "Provider::prefetch",
                    format!("reader thread {worker} stopped early (it panicked)"),
                )),
            };
            self.next += 1;
            if !made.as_ref().is_ok_and(Made::is_empty) {
                return Some(made.and_then(|made| made.into_batch(self.plan.source.name())));
            }
        }
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
