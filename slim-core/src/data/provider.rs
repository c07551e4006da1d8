//! The provider: batches of a dataset in a seeded, shuffled (or sequential) order over epochs, made on the
//! calling thread or ahead of time by reader threads into a bounded queue. The dataset is held in memory (a
//! [`Dataset`], shuffled whole, preprocessed a batch at a time) or streamed (a [`TfRecordSet`]: shards read in
//! turns through a shuffle buffer; an [`ImageFolder`]: files shuffled whole), each streamed example read,
//! decoded and preprocessed on its own, so images may differ in size. Batch `k` depends only on the seed, the batch size and `k`, so threads keep the order, and a
//! [`Position`] (or the global step) resumes the same stream.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread::JoinHandle;

use tch::{Kind, Tensor};

use super::dataset::Dataset;
use super::image::{DecodedImage, FloatImage};
use super::image_folder::ImageFolder;
use super::record_order::{EpochOrder, Interleave};
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

/// One batch: float images `[B, C, H, W]` (preprocessed) and int64 labels `[B]`.
#[derive(Debug)]
pub struct Batch {
    /// The images.
    pub images: Tensor,
    /// The labels.
    pub labels: Tensor,
}

impl Batch {
    /// How many examples it holds (fewer than the batch size at an epoch's end, or when bad records were
    /// skipped).
    pub fn len(&self) -> i64 {
        self.labels.size().first().copied().unwrap_or(0)
    }

    /// Whether it holds no example (every record of it was skipped).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// TF-Slim's `DatasetDataProvider` default `common_queue_min`: the records a streaming provider's shuffle buffer
/// holds unless [`Provider::shuffle_buffer`] says otherwise.
pub const DEFAULT_SHUFFLE_BUFFER: usize = 128;

/// What a thread keeps from one batch to the next: the epoch's order and its open files.
#[derive(Default)]
struct Cursor {
    /// An in-memory (or image folder's) epoch's permutation.
    permutation: Option<(u64, Tensor)>,
    /// A streaming epoch's order, where the last batch left it.
    records: Option<EpochOrder>,
    files: OpenFiles,
}

type Preprocess = Arc<dyn Preprocessing>;

/// Everything needed to make batch number `k`, on any thread.
struct Plan {
    source: DataSource,
    batch_size: i64,
    seed: Option<u64>,
    num_epochs: Option<u64>,
    drop_remainder: bool,
    preprocess: Preprocess,
    readers: usize,
    buffer: usize,
}

impl Plan {
    fn for_thread(&self) -> Plan {
        Plan { source: self.source.shallow_clone(), preprocess: self.preprocess.clone(), ..*self }
    }

    fn examples(&self) -> i64 {
        self.source.len()
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

    /// Batch `number` (possibly empty, when every record of it was skipped), or `None` past the last epoch.
    fn batch(&self, number: u64, cursor: &mut Cursor) -> Option<Result<Made>> {
        let Position { epoch, index } = self.position_of(number);
        if self.batches_per_epoch() == 0 || self.num_epochs.is_some_and(|epochs| epoch >= epochs) {
            return None;
        }
        let count = self.batch_size.min(self.examples() - index);
        let first = epoch * self.examples() as u64 + index as u64;
        Some(match &self.source {
            DataSource::InMemory(dataset) => {
                self.memory_batch(dataset, number, (epoch, index), cursor).map(Made::Ready)
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
            cursor.permutation = Some((epoch, self.order_of(epoch)));
        }
        let (_, order) = cursor.permutation.get_or_insert_with(|| (epoch, self.order_of(epoch)));
        order
    }

    /// An in-memory batch: the epoch's permutation from `index`, preprocessed together.
    fn memory_batch(
        &self,
        dataset: &Dataset,
        number: u64,
        (epoch, index): (u64, i64),
        cursor: &mut Cursor,
    ) -> Result<Batch> {
        let indices = self.permutation(epoch, cursor).narrow(0, index, self.batch_size.min(self.examples() - index));
        let images = self.preprocess.apply(&dataset.images.index_select(0, &indices), number)?;
        Ok(Batch { images, labels: dataset.labels.index_select(0, &indices) })
    }

    /// The `count` records of a streaming batch: the epoch's order at `index` (replayed to there when `cursor`
    /// is elsewhere).
    fn record_refs(
        &self,
        set: &TfRecordSet,
        (epoch, index): (u64, i64),
        count: i64,
        cursor: &mut Cursor,
    ) -> Result<Vec<super::record_order::RecordRef>> {
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
        let (mut images, mut labels) = (Vec::new(), Vec::new());
        for (example, read) in (first..).zip(examples) {
            let preprocessed =
                read.and_then(|(image, label)| Ok((self.preprocess.apply_decoded(&image, example)?, label)));
            match preprocessed {
                Ok((image, label)) => (images.push(image), labels.push(label)),
                Err(error) => (self.source.skip_or_fail(error)?, ()),
            };
        }
        Ok(Made::Images { name: self.source.name().to_string(), number, images, labels })
    }
}

/// A batch as a reader thread makes it: ready, or (streamed) the preprocessed images, which become one tensor on
/// the thread that takes the batch. A reader thread calls no libtorch operation on a streamed batch: libtorch
/// would start its own threads for a large one, and they spin against the other readers.
enum Made {
    Ready(Batch),
    Images { name: String, number: u64, images: Vec<FloatImage>, labels: Vec<i64> },
}

impl Made {
    fn is_empty(&self) -> bool {
        match self {
            Made::Ready(batch) => batch.is_empty(),
            Made::Images { labels, .. } => labels.is_empty(),
        }
    }

    /// The batch: streamed images stacked (the preprocessing must have brought them to one size).
    fn into_batch(self) -> Result<Batch> {
        let (name, number, images, labels) = match self {
            Made::Ready(batch) => return Ok(batch),
            Made::Images { name, number, images, labels } => (name, number, images, labels),
        };
        let shape = images.first().map(FloatImage::shape).unwrap_or([0, 0, 0]);
        if images.iter().any(|image| image.shape() != shape) {
            let sizes: Vec<[i64; 3]> = images.iter().map(FloatImage::shape).collect();
            let message = format!(
                "batch {number}: the preprocessed images differ in size ({sizes:?}); give the provider a \
                 preprocessing that brings every image to one size (slim::preprocessing::get_preprocessing)"
            );
            return Err(Error::invalid(name, message));
        }
        let data: Vec<&[f32]> = images.iter().map(|image| image.data.as_slice()).collect();
        let stacked = crate::native::stack_floats(&data, &shape);
        let images = stacked.map_err(|source| Error::Torch { context: format!("{name}: batch {number}"), source })?;
        Ok(Batch { images, labels: Tensor::from_slice(&labels) })
    }
}

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
                return Some(made.and_then(Made::into_batch));
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
                return Some(made.and_then(Made::into_batch));
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

/// What a provider applies to its images: each batch of `[B, C, H, W]` bytes of an in-memory dataset, or each
/// `[C, H, W]` image of a streaming one. `batch` (or `example`) is the batch's (the example's) number in the
/// stream: random preprocessing draws from it (and its own seed), so batches stay the same on any thread and
/// after a resume.
pub trait Preprocessing: Send + Sync {
    /// The float images of batch number `batch`, from `[B, C, H, W]` bytes.
    fn apply(&self, images: &Tensor, batch: u64) -> Result<Tensor>;

    /// One decoded image (of any height and width) of example number `example` preprocessed on its own, for a
    /// streamed dataset. By default [`Preprocessing::apply`] on a batch of one; TF-Slim's preprocessings work in
    /// plain loops instead, so that reader threads call no libtorch operation (whose own threads would spin
    /// against them).
    fn apply_decoded(&self, image: &DecodedImage, example: u64) -> Result<FloatImage> {
        let one = self.apply(&image.to_tensor()?.unsqueeze(0), example)?;
        FloatImage::from_tensor(
            &one.f_squeeze_dim(0).map_err(|source| Error::Torch { context: "Preprocessing".into(), source })?,
        )
    }
}

impl Preprocessing for Box<dyn Preprocessing> {
    fn apply(&self, images: &Tensor, batch: u64) -> Result<Tensor> {
        self.as_ref().apply(images, batch)
    }

    fn apply_decoded(&self, image: &DecodedImage, example: u64) -> Result<FloatImage> {
        self.as_ref().apply_decoded(image, example)
    }
}

impl<F: Fn(&Tensor) -> Tensor + Send + Sync> Preprocessing for F {
    fn apply(&self, images: &Tensor, _batch: u64) -> Result<Tensor> {
        Ok(self(images))
    }
}
