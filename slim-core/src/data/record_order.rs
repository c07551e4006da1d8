//! The order a streaming provider takes records in, as TF-Slim's `parallel_read` draws it: each epoch the shards
//! (shuffled by the seed and the epoch) are dealt to `readers` readers that take turns, one record each, and
//! what they read passes through a shuffle buffer of `buffer` records (`min_after_dequeue`) that gives out a
//! random one of them at a time. The order is a function of the shards' sizes, the seed and the epoch alone, so
//! a resumed run replays it to its position (integer work, no reading) instead of saving the buffer.

use std::sync::Arc;

use super::rng::SplitMix64;

/// One record: its shard (file) and its number in that shard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordRef {
    /// The shard's number in the set.
    pub(crate) shard: usize,
    /// The record's number in the shard.
    pub(crate) record: usize,
}

/// How records are interleaved and shuffled.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Interleave {
    /// Shards read at once, taking turns.
    pub(crate) readers: usize,
    /// Records the shuffle buffer holds (the order is the readers' when it is 1 or less, or without a seed).
    pub(crate) buffer: usize,
    /// The seed of the shard order and the buffer's draws; `None` reads in order.
    pub(crate) seed: Option<u64>,
}

/// A reader's shards for the epoch and where it is in them.
struct Reader {
    shards: Vec<usize>,
    current: usize,
    record: usize,
}

impl Reader {
    fn next(&mut self, lengths: &[usize]) -> Option<RecordRef> {
        while let Some(&shard) = self.shards.get(self.current) {
            if self.record < lengths[shard] {
                self.record += 1;
                return Some(RecordRef { shard, record: self.record - 1 });
            }
            (self.current, self.record) = (self.current + 1, 0);
        }
        None
    }
}

/// One epoch's records in order; an iterator.
pub(crate) struct EpochOrder {
    epoch: u64,
    taken: u64,
    lengths: Arc<[usize]>,
    readers: Vec<Reader>,
    turn: usize,
    buffer: Vec<RecordRef>,
    capacity: usize,
    random: Option<SplitMix64>,
}

impl EpochOrder {
    /// Epoch `epoch`'s order over shards of `lengths` records.
    pub(crate) fn new(lengths: Arc<[usize]>, interleave: Interleave, epoch: u64) -> Self {
        let mut shards: Vec<usize> = (0..lengths.len()).collect();
        let mut random = interleave.seed.map(|seed| SplitMix64::new(seed, epoch));
        if let Some(random) = random.as_mut() {
            random.shuffle(&mut shards);
        }
        let count = interleave.readers.clamp(1, shards.len().max(1));
        let readers = (0..count)
            .map(|r| Reader { shards: shards.iter().copied().skip(r).step_by(count).collect(), current: 0, record: 0 })
            .collect();
        let capacity = if random.is_some() { interleave.buffer.max(1) } else { 1 };
        EpochOrder {
            epoch,
            taken: 0,
            lengths,
            readers,
            turn: 0,
            buffer: Vec::with_capacity(capacity),
            capacity,
            random,
        }
    }

    /// The epoch this order is of.
    pub(crate) fn epoch(&self) -> u64 {
        self.epoch
    }

    /// How many records it has given so far.
    pub(crate) fn taken(&self) -> u64 {
        self.taken
    }

    /// The next record the readers read, taking turns; `None` when every shard is done.
    fn read(&mut self) -> Option<RecordRef> {
        let count = self.readers.len();
        for _ in 0..count {
            let reader = self.turn;
            self.turn = (self.turn + 1) % count;
            if let Some(record) = self.readers[reader].next(&self.lengths) {
                return Some(record);
            }
        }
        None
    }
}

impl Iterator for EpochOrder {
    type Item = RecordRef;

    fn next(&mut self) -> Option<RecordRef> {
        while self.buffer.len() < self.capacity {
            match self.read() {
                Some(record) => self.buffer.push(record),
                None => break,
            }
        }
        if self.buffer.is_empty() {
            return None;
        }
        let pick = match self.random.as_mut() {
            Some(random) => random.below(self.buffer.len() as u64) as usize,
            None => 0,
        };
        self.taken += 1;
        Some(self.buffer.swap_remove(pick))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(lengths: &[usize], readers: usize, buffer: usize, seed: Option<u64>, epoch: u64) -> Vec<(usize, usize)> {
        let interleave = Interleave { readers, buffer, seed };
        EpochOrder::new(lengths.into(), interleave, epoch).map(|r| (r.shard, r.record)).collect()
    }

    #[test]
    fn readers_take_turns_over_their_shards_in_order_without_a_seed() {
        assert_eq!(order(&[2, 1, 2], 1, 100, None, 0), [(0, 0), (0, 1), (1, 0), (2, 0), (2, 1)]);
        // Two readers: the first reads shards 0 and 2, the second shard 1; turns skip a reader that is done.
        assert_eq!(order(&[2, 1, 2], 2, 100, None, 0), [(0, 0), (1, 0), (0, 1), (2, 0), (2, 1)]);
        assert_eq!(order(&[0, 3], 4, 1, None, 0), [(1, 0), (1, 1), (1, 2)]);
        assert!(order(&[], 2, 8, Some(1), 0).is_empty());
    }

    #[test]
    fn a_seeded_epoch_is_a_permutation_that_the_seed_and_epoch_fix() {
        let lengths = [5, 7, 3, 9];
        let first = order(&lengths, 2, 6, Some(11), 0);
        let mut sorted = first.clone();
        sorted.sort();
        let every: Vec<(usize, usize)> =
            lengths.iter().enumerate().flat_map(|(s, &n)| (0..n).map(move |r| (s, r))).collect();
        assert_eq!(sorted, every, "each record once");
        assert_eq!(first, order(&lengths, 2, 6, Some(11), 0));
        assert_ne!(first, order(&lengths, 2, 6, Some(11), 1), "another epoch, another order");
        assert_ne!(first, order(&lengths, 2, 6, Some(12), 0), "another seed, another order");
    }

    #[test]
    fn the_buffer_only_reaches_as_far_ahead_as_it_holds() {
        // One shard of 1,000 records through a buffer of 10: the k-th record given was read among the first k + 10.
        let given = order(&[1000], 1, 10, Some(3), 0);
        assert!(given.iter().enumerate().all(|(k, &(_, record))| record < k + 10), "{given:?}");
        assert_ne!(given, order(&[1000], 1, 1, Some(3), 0), "a buffer of 10 changes the order");
        assert_eq!(order(&[4], 1, 1, Some(3), 0), [(0, 0), (0, 1), (0, 2), (0, 3)], "a buffer of 1 keeps it");
    }
}
