//! Data: IDX files (raw and gzipped) the test writes, Fashion-MNIST's file layout, errors naming the file, the
//! provider's order (sequential, seeded shuffles, epochs, remainders) and resuming from a position.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::io::Write;
use std::path::{Path, PathBuf};

use slim::data::{Position, Provider, Split, read_idx};
use slim::datasets::{cifar10, cifar100, fashion_mnist, get_dataset, synthetic};
use slim::prelude::*;
use slim::preprocessing::LenetPreprocessing;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-data-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    dims.iter().for_each(|d| bytes.extend_from_slice(&d.to_be_bytes()));
    bytes.extend_from_slice(data);
    bytes
}

fn write(path: &Path, bytes: &[u8], gzip: bool) {
    let bytes = match gzip {
        true => {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(bytes).unwrap();
            encoder.finish().unwrap()
        }
        false => bytes.to_vec(),
    };
    std::fs::write(path, bytes).unwrap();
}

/// A 3-image Fashion-MNIST layout: training images gzipped, labels raw.
fn fashion_dir(name: &str, labels: &[u8]) -> PathBuf {
    let dir = temp(name);
    let pixels: Vec<u8> = (0..12).collect();
    write(&dir.join("train-images-idx3-ubyte.gz"), &idx_bytes(&[3, 2, 2], &pixels), true);
    write(&dir.join("train-labels-idx1-ubyte"), &idx_bytes(&[3], labels), false);
    dir
}

#[test]
fn idx_files_read_raw_or_gzipped_into_a_dataset() {
    let dir = fashion_dir("ok", &[9, 0, 3]);
    let images = read_idx(dir.join("train-images-idx3-ubyte.gz")).unwrap();
    assert_eq!((images.dims.clone(), images.data.len()), (vec![3, 2, 2], 12));
    let dataset = fashion_mnist(Some(&dir), Split::Train).unwrap();
    assert_eq!(dataset.images.size(), [3, 1, 2, 2]);
    assert_eq!(Vec::<i64>::try_from(&dataset.labels).unwrap(), [9, 0, 3]);
    assert_eq!(dataset.labels_to_names[9], "Ankle boot");
    let err = fashion_mnist(Some(&dir), Split::Test).unwrap_err().to_string();
    assert!(err.contains("t10k-images-idx3-ubyte"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_files_and_bad_labels_are_errors_naming_the_file() {
    let dir = fashion_dir("bad-label", &[9, 10, 3]);
    let err = fashion_mnist(Some(&dir), Split::Train).unwrap_err().to_string();
    assert!(err.contains("train-labels-idx1-ubyte") && err.contains("label 1 is 10"), "{err}");
    let truncated = dir.join("truncated");
    write(&truncated, &idx_bytes(&[3, 2, 2], &[1, 2, 3]), false);
    let err = read_idx(&truncated).unwrap_err().to_string();
    assert!(err.contains("truncated") && err.contains("need 12 bytes"), "{err}");
    let not_idx = dir.join("not_idx");
    write(&not_idx, b"\x01\x02\x08\x01", false);
    assert!(read_idx(&not_idx).unwrap_err().to_string().contains("wrong magic"));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn labels_of(provider: impl Iterator<Item = Result<slim::data::Batch>>) -> Vec<Vec<i64>> {
    provider.map(|batch| Vec::<i64>::try_from(&batch.unwrap().labels).unwrap()).collect()
}

#[test]
fn the_provider_batches_epochs_in_seeded_orders() {
    let mut dataset = synthetic(10, 4, 8, 1).unwrap();
    dataset.labels = Tensor::arange(10, (Kind::Int64, Device::Cpu)); // labels = indices, to see the order
    let sequential = labels_of(Provider::new(&dataset, 4).unwrap().num_epochs(1));
    assert_eq!(sequential, [vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]);
    let dropped = labels_of(Provider::new(&dataset, 4).unwrap().num_epochs(2).drop_remainder(true));
    assert_eq!(dropped.len(), 4);
    let shuffled = labels_of(Provider::new(&dataset, 5).unwrap().shuffle(7).num_epochs(2));
    let again = labels_of(Provider::new(&dataset, 5).unwrap().shuffle(7).num_epochs(2));
    assert_eq!(shuffled, again, "the same seed, the same order");
    let epoch = |batches: &[Vec<i64>]| {
        let mut all: Vec<i64> = batches.concat();
        all.sort();
        all
    };
    assert_eq!(epoch(&shuffled[..2]), (0..10).collect::<Vec<_>>(), "each epoch is a permutation");
    assert_ne!(shuffled[..2], shuffled[2..], "epochs are shuffled differently");
    assert_ne!(shuffled, labels_of(Provider::new(&dataset, 5).unwrap().shuffle(8).num_epochs(2)));
    assert!(Provider::new(&dataset, 0).is_err());
}

#[test]
fn shards_of_every_rank_together_are_the_global_batches() {
    let mut dataset = synthetic(23, 3, 6, 2).unwrap();
    dataset.labels = Tensor::arange(23, (Kind::Int64, Device::Cpu));
    let global = labels_of(Provider::new(&dataset, 6).unwrap().shuffle(5).drop_remainder(true).num_epochs(2));
    assert_eq!(global.len(), 6, "3 global batches of 6 an epoch, the last 5 examples dropped");
    for ranks in [2usize, 3] {
        let parts: Vec<Vec<Vec<i64>>> = (0..ranks)
            .map(|rank| {
                let provider = Provider::new(&dataset, 6 / ranks as i64).unwrap().shuffle(5).num_epochs(2);
                labels_of(provider.shard(rank, ranks).unwrap())
            })
            .collect();
        for (number, batch) in global.iter().enumerate() {
            let joined: Vec<i64> = parts.iter().flat_map(|part| part[number].clone()).collect();
            assert_eq!(&joined, batch, "global batch {number} over {ranks} ranks");
        }
    }
    // Random crops and flips of an in-memory set are drawn per example: the parts preprocess as the whole does.
    let training = slim::preprocessing::CifarnetPreprocessing { size: 6, training: true, seed: 9 };
    let images = |provider: Provider| -> Vec<Tensor> { provider.map(|batch| batch.unwrap().images).collect() };
    let whole = images(Provider::new(&dataset, 6).unwrap().shuffle(5).num_epochs(1).preprocess(training));
    let parts: Vec<Vec<Tensor>> = (0..2)
        .map(|rank| {
            let part = Provider::new(&dataset, 3).unwrap().shuffle(5).num_epochs(1).preprocess(training);
            images(part.shard(rank, 2).unwrap())
        })
        .collect();
    for (number, batch) in whole.iter().take(3).enumerate() {
        assert!(Tensor::cat(&[&parts[0][number], &parts[1][number]], 0).equal(batch), "in-memory batch {number}");
    }
    // Positions count global batches: rank 1 of 2 resumed at global batch 4.
    let resumed = Provider::new(&dataset, 3).unwrap().shuffle(5).num_epochs(2).shard(1, 2).unwrap();
    assert_eq!(labels_of(resumed.starting_at_batch(4)), vec![global[4][3..].to_vec(), global[5][3..].to_vec()]);
    let message = |result: Result<Provider>| result.err().map(|e| e.to_string()).unwrap_or_default();
    let too_many = message(Provider::new(&dataset, 12).unwrap().shard(0, 2));
    assert!(too_many.contains("2 ranks × batch size 12 is more than the 23 examples"), "{too_many}");
    let no_rank = message(Provider::new(&dataset, 2).unwrap().shard(2, 2));
    assert!(no_rank.contains("cannot shard rank 2 of 2"), "{no_rank}");
    let twice = message(Provider::new(&dataset, 2).unwrap().shard(0, 2).unwrap().shard(0, 2));
    assert!(twice.contains("already sharded"), "{twice}");
}

#[test]
fn a_saved_position_resumes_the_same_stream() {
    let dataset = synthetic(9, 3, 6, 2).unwrap();
    let mut provider = Provider::new(&dataset, 2).unwrap().shuffle(3);
    let first: Vec<_> = provider.by_ref().take(6).map(|b| b.unwrap().labels).collect();
    let position = provider.position();
    assert_eq!(position, Position { epoch: 1, index: 2 }, "five batches of 2, 2, 2, 2 and 1, then one of 2");
    let rest: Vec<Tensor> = provider.take(4).map(|b| b.unwrap().labels).collect();
    let resumed: Vec<Tensor> = Provider::new(&dataset, 2)
        .unwrap()
        .shuffle(3)
        .starting_at(position)
        .take(4)
        .map(|b| b.unwrap().labels)
        .collect();
    assert!(rest.iter().zip(&resumed).all(|(a, b)| a.equal(b)));
    assert_eq!(first.len(), 6);
}

#[test]
fn synthetic_data_and_preprocessing() {
    let a = synthetic(16, 10, 12, 5).unwrap();
    let b = synthetic(16, 10, 12, 5).unwrap();
    assert!(a.images.equal(&b.images) && a.labels.equal(&b.labels));
    assert_eq!((a.images.size(), a.images.kind(), a.num_classes), (vec![16, 1, 12, 12], Kind::Uint8, 10));
    let batch = Provider::new(&a, 4).unwrap().preprocess(LenetPreprocessing { size: 12 }).next().unwrap().unwrap();
    assert_eq!(batch.images.kind(), Kind::Float);
    assert!(batch.images.min().double_value(&[]) >= -1.0 && batch.images.max().double_value(&[]) <= 1.0);
    let default = Provider::new(&a, 4).unwrap().next().unwrap().unwrap();
    assert!(default.images.max().double_value(&[]) <= 1.0 && default.images.min().double_value(&[]) >= 0.0);
    for (count, classes, side) in [(-1, 10, 12), (16, 0, 12), (16, 10, 0)] {
        let error = synthetic(count, classes, side, 5).unwrap_err().to_string();
        assert!(error.contains(&format!("got {count}, {classes}, {side}")), "{error}");
    }
    let error = synthetic(i64::MAX, 10, 1 << 20, 5).unwrap_err().to_string();
    assert!(error.contains("do not fit in memory"), "{error}");
}

#[test]
fn reader_threads_keep_the_order_and_stop_when_dropped() {
    let mut dataset = synthetic(23, 4, 6, 3).unwrap();
    dataset.labels = Tensor::arange(23, (Kind::Int64, Device::Cpu));
    let serial = labels_of(Provider::new(&dataset, 4).unwrap().shuffle(9).num_epochs(3));
    for threads in [1, 2, 3] {
        let threaded = labels_of(Provider::new(&dataset, 4).unwrap().shuffle(9).num_epochs(3).prefetch(threads, 2));
        assert_eq!(threaded, serial, "{threads} threads");
    }
    // Resuming a threaded stream from a position, and stopping early without a hang.
    let mut prefetched = Provider::new(&dataset, 4).unwrap().shuffle(9).prefetch(2, 1);
    let _ = prefetched.by_ref().take(7).count();
    let position = prefetched.position();
    drop(prefetched);
    let resumed =
        labels_of(Provider::new(&dataset, 4).unwrap().shuffle(9).num_epochs(3).starting_at(position).prefetch(2, 1));
    assert_eq!(resumed, serial[7..].to_vec());
}

/// A CIFAR record: the label bytes, then 3072 pixel bytes starting at `first`.
fn cifar_record(labels: &[u8], first: u8) -> Vec<u8> {
    let mut record = labels.to_vec();
    record.extend((0..3072).map(|i| first.wrapping_add((i % 251) as u8)));
    record
}

#[test]
fn cifar_binaries_read_with_their_labels_and_errors() {
    let dir = temp("cifar");
    for (i, label) in [(1, 3u8), (2, 9), (3, 0), (4, 1), (5, 2)] {
        write(&dir.join(format!("data_batch_{i}.bin")), &cifar_record(&[label], i), false);
    }
    let train = cifar10(&dir, Split::Train).unwrap();
    assert_eq!(train.images.size(), [5, 3, 32, 32]);
    assert_eq!(Vec::<i64>::try_from(&train.labels).unwrap(), [3, 9, 0, 1, 2]);
    assert_eq!(train.images.get(1).get(0).get(0).get(0).int64_value(&[]), 2, "pixels follow the label byte");
    assert_eq!(train.labels_to_names[9], "truck");
    let two = [cifar_record(&[4, 57], 0), cifar_record(&[19, 99], 7)].concat();
    write(&dir.join("train.bin"), &two, false);
    assert_eq!(Vec::<i64>::try_from(&cifar100(&dir, Split::Train, true).unwrap().labels).unwrap(), [57, 99]);
    assert_eq!(Vec::<i64>::try_from(&cifar100(&dir, Split::Train, false).unwrap().labels).unwrap(), [4, 19]);
    write(&dir.join("test_batch.bin"), &cifar_record(&[1], 0)[..3000], false);
    let err = cifar10(&dir, Split::Test).unwrap_err().to_string();
    assert!(err.contains("test_batch.bin") && err.contains("truncated"), "{err}");
    write(&dir.join("test_batch.bin"), &cifar_record(&[10], 0), false);
    let err = cifar10(&dir, Split::Test).unwrap_err().to_string();
    assert!(err.contains("record 0 has label 10"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_factory_finds_datasets_by_name() {
    let dir = fashion_dir("factory", &[1, 2, 3]);
    assert_eq!(get_dataset("fashion_mnist", Split::Train, Some(&dir)).unwrap().len(), 3);
    assert_eq!(get_dataset("synthetic", Split::Test, None).unwrap().len(), 1000);
    let err = get_dataset("imagenet", Split::Train, None).unwrap_err().to_string();
    assert!(err.contains("unknown dataset \"imagenet\"") && err.contains("fashion_mnist, mnist, cifar10"), "{err}");
    assert!(get_dataset("cifar10", Split::Train, None).unwrap_err().to_string().contains("needs the directory"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cifarnet_preprocessing_is_random_per_batch_but_reproducible() {
    use slim::preprocessing::CifarnetPreprocessing;
    let dataset = synthetic(12, 4, 32, 4).unwrap();
    let training = CifarnetPreprocessing { size: 32, training: true, seed: 5 };
    let run = |threads: usize| -> Vec<Tensor> {
        let provider = Provider::new(&dataset, 4).unwrap().shuffle(1).num_epochs(2).preprocess(training);
        provider.prefetch(threads, 2).map(|b| b.unwrap().images).collect()
    };
    let (one, two) = (run(1), run(2));
    assert!(one.iter().zip(&two).all(|(a, b)| a.equal(b)), "the same batches on any number of threads");
    assert_eq!(one[0].size(), [4, 1, 32, 32]);
    let mean = one[0].flatten(1, -1).mean_dim(1, false, Kind::Double).abs().max().double_value(&[]);
    assert!(mean < 1e-4, "per-image standardization");
    let plain =
        Provider::new(&dataset, 4).unwrap().shuffle(1).num_epochs(2).preprocess(|x: &Tensor| x.to_kind(Kind::Float));
    let raw: Vec<Tensor> = plain.map(|b| b.unwrap().images).collect();
    assert!(!one[0].equal(&((&raw[0] - raw[0].mean(Kind::Float)) / raw[0].std(true))), "crops and flips moved pixels");
    let evaluation = CifarnetPreprocessing { size: 24, training: false, seed: 0 };
    let centre = Provider::new(&dataset, 4).unwrap().preprocess(evaluation).next().unwrap().unwrap();
    assert_eq!(centre.images.size(), [4, 1, 24, 24]);
}
