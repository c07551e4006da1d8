//! The plan of a provider's stream: which examples batch number `k` holds (an in-memory or image folder's epoch
//! permuted whole by the seed; a TFRecord set's epoch in its readers' and shuffle buffer's order, replayed to
//! any position), read, decoded and preprocessed on whichever thread asks. Batch `k` depends only on the seed,
//! the batch size and `k`.

use std::sync::Arc;

use tch::Tensor;

use super::batch::{Batch, Made};
use super::dataset::Dataset;
use super::preprocessing::Preprocessing;
use super::record_order::{EpochOrder, Interleave, RecordRef};
use super::record_set::{Example, OpenFiles, TfRecordSet};
use super::rng::SplitMix64;
use super::source::DataSource;
use crate::{Error, Result};

/// Where a provider is: the epoch and the first example of its next batch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    /// Epochs completed.
    pub epoch: u64,
    /// The next example's place in this epoch's order.
    pub index: i64,
}

/// What a thread keeps from one batch to the next: the epoch's order and its open files.
#[derive(Default)]
pub(super) struct Cursor {
    /// An in-memory (or image folder's) epoch's permutation.
    permutation: Option<(u64, Tensor)>,
    /// A streaming epoch's order, where the last batch left it.
    records: Option<EpochOrder>,
    files: OpenFiles,
}

pub(super) type Preprocess = Arc<dyn Preprocessing>;

/// Which part of each batch of the stream this provider gives: the `rank`-th of `ranks` equal parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Shard {
    pub(super) rank: i64,
    pub(super) ranks: i64,
}

impl Shard {
    /// The whole batch.
    pub(super) const WHOLE: Shard = Shard { rank: 0, ranks: 1 };

    /// This part of the `count` examples from `index`: its first example and count.
    fn part(&self, index: i64, count: i64) -> (i64, i64) {
        let each = count / self.ranks;
        (index + self.rank * each, each)
    }
}

/// Everything needed to make batch number `k`, on any thread.
pub(super) struct Plan {
    pub(super) source: DataSource,
    /// The stream's batch size: the global batch of a sharded provider, whose part is `batch_size / ranks`.
    pub(super) batch_size: i64,
    pub(super) shard: Shard,
    pub(super) seed: Option<u64>,
    pub(super) num_epochs: Option<u64>,
    pub(super) drop_remainder: bool,
    pub(super) preprocess: Preprocess,
    pub(super) readers: usize,
    pub(super) buffer: usize,
}

impl Plan {
    pub(super) fn for_thread(&self) -> Plan {
        Plan { source: self.source.shallow_clone(), preprocess: self.preprocess.clone(), ..*self }
    }

    pub(super) fn examples(&self) -> i64 {
        self.source.len()
    }

    /// Batches of the stream per epoch; a sharded stream drops a smaller last batch, which the ranks could not
    /// share equally.
    pub(super) fn batches_per_epoch(&self) -> u64 {
        let (n, b) = (self.examples(), self.batch_size);
        let drop = self.drop_remainder || self.shard.ranks > 1;
        (if drop { n / b } else { (n + b - 1) / b }) as u64
    }

    /// The error past the last epoch.
    pub(super) fn out_of_range(&self) -> Error {
        let epochs = self.num_epochs.map_or("every".to_string(), |epochs| epochs.to_string());
        Error::OutOfRange(format!("{}: {epochs} epochs read", self.source.name()))
    }

    pub(super) fn position_of(&self, number: u64) -> Position {
        let per_epoch = self.batches_per_epoch().max(1);
        Position { epoch: number / per_epoch, index: (number % per_epoch) as i64 * self.batch_size }
    }

    pub(super) fn number_of(&self, position: Position) -> u64 {
        position.epoch * self.batches_per_epoch() + (position.index / self.batch_size) as u64
    }

    /// The order of `epoch`: the identity, or a Fisher–Yates shuffle driven by SplitMix64 from the seed and epoch.
    fn order_of(&self, epoch: u64) -> Tensor {
        let mut order: Vec<i64> = (0..self.examples()).collect();
        if let Some(seed) = self.seed {
            let mut random = SplitMix64::new(seed, epoch);
            random.shuffle(&mut order);
        }
        Tensor::from_slice(&order)
    }

    /// Batch `number` (possibly empty, when every record of it was skipped), or `None` past the last epoch.
    pub(super) fn batch(&self, number: u64, cursor: &mut Cursor) -> Option<Result<Made>> {
        let Position { epoch, index } = self.position_of(number);
        if self.batches_per_epoch() == 0 || self.num_epochs.is_some_and(|epochs| epoch >= epochs) {
            return None;
        }
        let (index, count) = self.shard.part(index, self.batch_size.min(self.examples() - index));
        let first = epoch * self.examples() as u64 + index as u64;
        Some(match &self.source {
            DataSource::InMemory(dataset) => {
                self.memory_batch(dataset, (number, first), (epoch, index, count), cursor).map(Made::Ready)
            }
            DataSource::Records(set) => self.record_refs(set, (epoch, index), count, cursor).and_then(|refs| {
                let files = &mut cursor.files;
                self.image_batch(number, first, refs.into_iter().map(|at| set.example(at, files)))
            }),
            DataSource::Folder(folder) => {
                let indices = self.permutation(epoch, cursor).narrow(0, index, count);
                let indices = Vec::<i64>::try_from(&indices)
                    .map_err(|source| Error::Torch { context: folder.name.clone(), source });
                indices.and_then(|indices| {
                    self.image_batch(number, first, indices.into_iter().map(|i| folder.example(i as usize)))
                })
            }
        })
    }

    /// Epoch `epoch`'s permutation of the examples, kept in `cursor`.
    fn permutation<'c>(&self, epoch: u64, cursor: &'c mut Cursor) -> &'c Tensor {
        if cursor.permutation.as_ref().is_none_or(|(cached, _)| *cached != epoch) {
            cursor.permutation = None;
        }
        let (_, order) = cursor.permutation.get_or_insert_with(|| (epoch, self.order_of(epoch)));
        order
    }

    /// An in-memory batch (number `number`, its first example numbered `first` in the stream): `count` examples
    /// of the epoch's permutation from `index`, preprocessed together.
    fn memory_batch(
        &self,
        dataset: &Dataset,
        (number, first): (u64, u64),
        (epoch, index, count): (u64, i64, i64),
        cursor: &mut Cursor,
    ) -> Result<Batch> {
        let indices = self.permutation(epoch, cursor).narrow(0, index, count);
        let images = self.preprocess.apply_examples(&dataset.images.index_select(0, &indices), number, first)?;
        Ok(Batch { images, labels: dataset.labels.index_select(0, &indices), items: Default::default() })
    }

    /// The `count` records of a streaming batch: the epoch's order at `index` (replayed to there when `cursor`
    /// is elsewhere).
    fn record_refs(
        &self,
        set: &TfRecordSet,
        (epoch, index): (u64, i64),
        count: i64,
        cursor: &mut Cursor,
    ) -> Result<Vec<RecordRef>> {
        let interleave = Interleave { readers: self.readers, buffer: self.buffer, seed: self.seed };
        let stale = cursor.records.as_ref().is_none_or(|order| order.epoch() != epoch || order.taken() > index as u64);
        if stale {
            cursor.records = Some(EpochOrder::new(set.lengths(), interleave, epoch));
        }
        let order = cursor.records.as_mut().ok_or_else(|| Error::invalid(&set.name, "the epoch's order is missing"))?;
        let behind = index as u64 - order.taken();
        if behind > 0 {
            order.nth(behind as usize - 1);
        }
        Ok(order.take(count as usize).collect())
    }

    /// A streamed batch: each of `examples` (numbered from `first` in the stream) preprocessed on its own, bad
    /// ones skipped when the source says so.
    fn image_batch(&self, number: u64, first: u64, examples: impl Iterator<Item = Result<Example>>) -> Result<Made> {
        let (mut images, mut labels, mut items) = (Vec::new(), Vec::new(), Vec::new());
        for (in_stream, read) in (first..).zip(examples) {
            let preprocessed =
                read.and_then(|example| Ok((self.preprocess.apply_decoded(&example.image, in_stream)?, example)));
            match preprocessed {
                Ok((image, example)) => {
                    images.push(image);
                    labels.push(example.label);
                    items.push(example.items);
                }
                Err(error) => self.source.skip_or_fail(error)?,
            };
        }
        Ok(Made::Images { number, images, labels, items })
    }
}
