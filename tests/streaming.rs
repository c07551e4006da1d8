//! Streaming TFRecord sets: shards of images of many sizes read record by record through readers taking turns
//! and a shuffle buffer, each image decoded and preprocessed on its own; every record once an epoch, the same
//! batches on any number of threads and after a resume, and bad records as errors naming the file, the record
//! and its offset, or skipped and counted.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::sync::Arc;

use slim::data::{
    Batch, BatchItem, DataSource, ExampleFeatures, FeatureKind, FeatureSpec, FeatureValues, ItemHandler, Provider,
    Split, StreamOptions, TfExampleDecoder, TfRecordSet,
};
use slim::datasets::{get_data_source, imagenet};
use slim::io::frame_record;
use slim::prelude::*;
use slim::preprocessing::InceptionPreprocessing;

#[path = "common/tf_example.rs"]
mod tf_example;
use tf_example::{example, png_filled};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-streaming-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Example `k`: an RGB PNG of (6 + k mod 7) × (8 + k mod 5) pixels, every byte `k`, labelled `k`.
fn numbered(k: usize) -> Vec<u8> {
    let image = png_filled(8 + (k % 5) as u32, 6 + (k % 7) as u32, 3, k as u8);
    example(image, "png", k as i64, None)
}

/// Shards of `lengths` records, numbered across shards, in `dir`.
fn shards(dir: &Path, lengths: &[usize]) -> Vec<PathBuf> {
    let mut next = 0;
    let mut files = Vec::new();
    for (i, &length) in lengths.iter().enumerate() {
        let path = dir.join(format!("set_train-{i:05}-of-{:05}.tfrecord", lengths.len()));
        let records: Vec<Vec<u8>> = (next..next + length).map(|k| frame_record(&numbered(k))).collect();
        std::fs::write(&path, records.concat()).unwrap();
        files.push(path);
        next += length;
    }
    files
}

fn open(files: &[PathBuf], classes: i64, options: StreamOptions) -> Result<Arc<TfRecordSet>> {
    Ok(Arc::new(TfRecordSet::open("set", files, classes, options)?))
}

fn labels(batch: &Batch) -> Vec<i64> {
    Vec::<i64>::try_from(&batch.labels).unwrap()
}

const EVALUATION: InceptionPreprocessing = InceptionPreprocessing { size: 8, training: false, seed: 0 };
const TRAINING: InceptionPreprocessing = InceptionPreprocessing { size: 8, training: true, seed: 4 };

#[test]
fn every_record_once_an_epoch_in_a_seeded_order_each_image_brought_to_the_net_size() -> Result<()> {
    let dir = temp("epochs");
    let set = open(&shards(&dir, &[7, 3, 9, 5]), 24, StreamOptions::default())?;
    assert_eq!((set.len(), set.channels()), (24, 3));
    let stream = |seed| -> Result<Vec<Batch>> {
        let provider = Provider::streaming(set.clone(), 5)?.shuffle(seed).shuffle_buffer(6).num_readers(2);
        provider.num_epochs(2).preprocess(EVALUATION).collect()
    };
    let batches = stream(1)?;
    assert_eq!(batches.len(), 10, "5 batches of 5, 5, 5, 5 and 4 each epoch");
    let epoch = |batches: &[Batch]| -> Vec<i64> { batches.iter().flat_map(labels).collect() };
    let (first, second) = (epoch(&batches[..5]), epoch(&batches[5..]));
    for order in [&first, &second] {
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..24).collect::<Vec<_>>(), "each record once");
    }
    assert_ne!(first, second, "each epoch in its own order");
    assert_ne!(first, (0..24).collect::<Vec<_>>(), "shuffled");
    assert_eq!(first, epoch(&stream(1)?[..5]), "the seed fixes the order");
    assert_ne!(first, epoch(&stream(2)?[..5]));
    for batch in &batches {
        assert_eq!(batch.images.size()[1..], [3, 8, 8]);
        // A flat image of byte k stays flat through the central crop and resize: (k / 255 − 0.5) · 2.
        let expected: Vec<f32> = labels(batch).iter().map(|&k| (k as f32 / 255.0 - 0.5) * 2.0).collect();
        let means = Vec::<f32>::try_from(batch.images.flatten(1, -1).mean_dim(1, false, Kind::Float)).unwrap();
        assert!(means.iter().zip(&expected).all(|(a, b)| (a - b).abs() < 1e-5), "{means:?} vs {expected:?}");
    }
    let unshuffled: Vec<i64> =
        Provider::streaming(set.clone(), 24)?.preprocess(EVALUATION).next().unwrap()?.labels.try_into().unwrap();
    assert_eq!(unshuffled, (0..24).collect::<Vec<_>>(), "without a seed, the shards in order");
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

#[test]
fn threads_and_resumes_see_the_same_batches() -> Result<()> {
    let dir = temp("resume");
    let set = open(&shards(&dir, &[6, 6, 6, 5]), 23, StreamOptions::default())?;
    let provider = || -> Result<Provider> {
        let provider = Provider::streaming(set.clone(), 4)?.shuffle(9).shuffle_buffer(5).num_readers(3);
        Ok(provider.num_epochs(3).drop_remainder(true).preprocess(TRAINING))
    };
    let serial: Vec<Batch> = provider()?.collect::<Result<_>>()?;
    assert_eq!(serial.len(), 15, "5 whole batches of 4 an epoch");
    let same = |a: &[Batch], b: &[Batch]| {
        a.len() == b.len() && a.iter().zip(b).all(|(a, b)| a.images.equal(&b.images) && a.labels.equal(&b.labels))
    };
    for threads in [1, 2, 3] {
        let threaded: Vec<Batch> = provider()?.prefetch(threads, 2).collect::<Result<_>>()?;
        assert!(same(&threaded, &serial), "{threads} threads");
    }
    for start in [1, 3, 5, 7, 14] {
        let resumed: Vec<Batch> = provider()?.starting_at_batch(start).collect::<Result<_>>()?;
        assert!(same(&resumed, &serial[start as usize..]), "resumed at batch {start}");
    }
    let mut stopped = provider()?.prefetch(2, 1);
    let _ = stopped.by_ref().take(8).count();
    let position = stopped.position();
    drop(stopped);
    let resumed: Vec<Batch> = provider()?.starting_at(position).prefetch(2, 1).collect::<Result<_>>()?;
    assert!(same(&resumed, &serial[8..]), "resumed at {position:?}");
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

#[test]
fn sharded_streams_preprocess_each_example_as_one_process_would() -> Result<()> {
    let dir = temp("shard");
    let set = open(&shards(&dir, &[6, 6, 6, 5]), 23, StreamOptions::default())?;
    let provider = |batch| -> Result<Provider> {
        let provider = Provider::streaming(set.clone(), batch)?.shuffle(9).shuffle_buffer(5).num_readers(3);
        Ok(provider.num_epochs(2).drop_remainder(true).preprocess(TRAINING))
    };
    let global: Vec<Batch> = provider(6)?.collect::<Result<_>>()?;
    assert_eq!(global.len(), 6);
    let halves: Vec<Vec<Batch>> =
        (0..2).map(|rank| provider(3)?.shard(rank, 2)?.prefetch(2, 1).collect()).collect::<Result<_>>()?;
    for (number, batch) in global.iter().enumerate() {
        // Random crops and flips drawn per example from its number in the stream: the same on either rank.
        let images = Tensor::cat(&[&halves[0][number].images, &halves[1][number].images], 0);
        let labels = Tensor::cat(&[&halves[0][number].labels, &halves[1][number].labels], 0);
        assert!(images.equal(&batch.images) && labels.equal(&batch.labels), "global batch {number}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

fn error_of(result: Result<Vec<Batch>>) -> String {
    result.map(|batches| format!("{} batches", batches.len())).unwrap_or_else(|error| error.to_string())
}

#[test]
fn bad_records_are_errors_naming_the_file_record_and_offset_or_are_skipped_and_counted() -> Result<()> {
    let dir = temp("bad");
    let path = dir.join("bad.tfrecord");
    let good: Vec<Vec<u8>> = (0..4).map(|k| frame_record(&numbered(k))).collect();
    let offset = |record: usize| good[..record].iter().map(Vec::len).sum::<usize>();
    let skip = StreamOptions { skip_bad_records: true, ..StreamOptions::default() };
    let read_all = |options: StreamOptions| -> Result<Vec<Batch>> {
        let set = open(std::slice::from_ref(&path), 4, options)?;
        Provider::streaming(set, 2)?.num_epochs(1).preprocess(EVALUATION).collect()
    };

    // A flipped byte in record 1's data: its checksum fails when it is read.
    let mut flipped = good.concat();
    flipped[offset(1) + 40] ^= 0x55;
    std::fs::write(&path, &flipped).unwrap();
    let error = error_of(read_all(StreamOptions::default()));
    assert!(error.contains(&format!("bad.tfrecord: record 1 at offset {}: bad data checksum", offset(1))), "{error}");
    let set = open(std::slice::from_ref(&path), 4, skip)?;
    let kept: Vec<Batch> =
        Provider::streaming(set.clone(), 2)?.num_epochs(1).preprocess(EVALUATION).collect::<Result<_>>()?;
    assert_eq!(kept.iter().flat_map(labels).collect::<Vec<_>>(), [0, 2, 3], "record 1 skipped");
    assert_eq!(set.skipped_records(), 1, "and counted");

    // A label out of range, an image that does not decode.
    let wrong: Vec<Vec<u8>> = vec![
        frame_record(&numbered(0)),
        frame_record(&example(png_filled(4, 4, 3, 0), "png", 9, None)),
        frame_record(&example(b"not a png".to_vec(), "png", 1, None)),
    ];
    std::fs::write(&path, wrong.concat()).unwrap();
    let error = error_of(read_all(StreamOptions::default()));
    assert!(error.contains(&format!("record 1 at offset {}: label 9 is not in 0..4", wrong[0].len())), "{error}");
    let set = open(std::slice::from_ref(&path), 4, skip)?;
    let kept: Vec<Batch> =
        Provider::streaming(set.clone(), 1)?.num_epochs(1).preprocess(EVALUATION).collect::<Result<_>>()?;
    assert_eq!((kept.len(), set.skipped_records()), (1, 2), "two bad records skipped, their batches passed over");

    // A shard cut short: opening it names the record that is cut, unless the records before it are kept.
    std::fs::write(&path, &good.concat()[..offset(3) + 20]).unwrap();
    let error = error_of(read_all(StreamOptions::default()));
    assert!(error.contains(&format!("bad.tfrecord: record 3 at offset {}: truncated", offset(3))), "{error}");
    assert_eq!(read_all(skip)?.iter().flat_map(labels).collect::<Vec<_>>(), [0, 1, 2]);
    std::fs::write(&path, b"").unwrap();
    assert!(error_of(read_all(skip)).contains("hold no record"));
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

#[test]
fn images_of_many_sizes_need_a_preprocessing_that_resizes_and_channels_are_converted() -> Result<()> {
    let dir = temp("sizes");
    let set = open(&shards(&dir, &[4]), 4, StreamOptions::default())?;
    let error = error_of(Provider::streaming(set, 4)?.collect());
    assert!(error.contains("set: batch 0: the preprocessed images differ in size"), "{error}");
    let path = dir.join("gray.tfrecord");
    let records = [example(png_filled(5, 4, 1, 200), "png", 0, None), example(png_filled(5, 4, 3, 50), "png", 1, None)];
    std::fs::write(&path, records.iter().map(|r| frame_record(r)).collect::<Vec<_>>().concat()).unwrap();
    let rgb = StreamOptions { channels: Some(3), ..StreamOptions::default() };
    let batch = Provider::streaming(open(std::slice::from_ref(&path), 2, rgb)?, 2)?.next().unwrap()?;
    assert_eq!(batch.images.size(), [2, 3, 4, 5], "gray repeated to three channels");
    assert!((batch.images.get(0).mean(Kind::Float).double_value(&[]) - 200.0 / 255.0).abs() < 1e-6);
    let gray = open(std::slice::from_ref(&path), 2, StreamOptions::default())?;
    assert_eq!(gray.channels(), 1, "the first record's channels");
    let batch = Provider::streaming(gray, 2)?.next().unwrap()?;
    assert_eq!(batch.images.size(), [2, 1, 4, 5], "RGB to gray by luma");
    assert!((batch.images.get(1).mean(Kind::Float).double_value(&[]) - 50.0 / 255.0).abs() < 1e-6);
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

#[test]
fn a_labels_offset_shifts_streamed_labels_and_a_label_below_it_is_an_error() -> Result<()> {
    let dir = temp("offset");
    let files = shards(&dir, &[4]); // labels 0, 1, 2, 3
    let mut source = DataSource::from(TfRecordSet::open("set", &files, 4, StreamOptions::default())?);
    source.offset_labels(1)?;
    assert_eq!(source.num_classes(), 3);
    let batches: Vec<Result<Batch>> = Provider::from_source(&source, 1)?.num_epochs(1).preprocess(EVALUATION).collect();
    let error = batches[0].as_ref().err().map(ToString::to_string).unwrap_or_default();
    assert!(error.contains("record 0 at offset 0: label 0 is not in 1..4"), "{error}");
    let shifted: Vec<i64> = batches[1..].iter().flat_map(|batch| labels(batch.as_ref().unwrap())).collect();
    assert_eq!(shifted, [0, 1, 2]);
    assert!(source.offset_labels(3).is_err(), "3 is not below the 3 classes left");
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

/// ImageNet's example `k` as `build_imagenet_data.py` writes one (a PNG in place of the JPEG): label `k + 1`
/// (0 is the background class), its text, and `k mod 3` bounding boxes, box `b` at (0.1b, 0.2b, 0.5, 0.6).
fn imagenet_example(k: usize) -> Vec<u8> {
    let boxes = k % 3;
    let side = |offset: f32| FeatureValues::Floats((0..boxes).map(|b| offset * b as f32).collect());
    let fixed = |value: f32| FeatureValues::Floats(vec![value; boxes]);
    let bytes = |value: Vec<u8>| FeatureValues::Bytes(vec![value]);
    ExampleFeatures::default()
        .with("image/encoded", bytes(png_filled(8 + (k % 5) as u32, 6 + (k % 4) as u32, 3, k as u8)))
        .with("image/format", bytes(b"PNG".to_vec()))
        .with("image/class/label", FeatureValues::Ints(vec![k as i64 + 1]))
        .with("image/class/text", bytes(format!("class {}", k + 1).into_bytes()))
        .with("image/object/bbox/ymin", side(0.1))
        .with("image/object/bbox/xmin", side(0.2))
        .with("image/object/bbox/ymax", fixed(0.5))
        .with("image/object/bbox/xmax", fixed(0.6))
        .with("image/object/class/label", FeatureValues::Ints(vec![k as i64 + 1; boxes]))
        .encode()
}

/// `count` ImageNet examples from `first` in the shard `path`.
fn imagenet_shard(path: &Path, first: usize, count: usize) {
    let records: Vec<Vec<u8>> = (first..first + count).map(|k| frame_record(&imagenet_example(k))).collect();
    std::fs::write(path, records.concat()).unwrap();
}

#[test]
fn a_decoders_extra_items_ride_along_in_each_batch_padded_to_the_largest() -> Result<()> {
    let dir = temp("imagenet");
    imagenet_shard(&dir.join("train-00000-of-00002"), 0, 5);
    imagenet_shard(&dir.join("train-00001-of-00002"), 5, 6);
    imagenet_shard(&dir.join("validation-00000-of-00001"), 20, 3);
    let set = imagenet(Split::Train, &dir, StreamOptions::default(), &["object/bbox", "label_text"])?;
    assert_eq!((set.len(), set.num_classes, set.channels()), (11, 1001, 3));
    let provider = Provider::streaming(Arc::new(set), 4)?.num_epochs(1).preprocess(EVALUATION).prefetch(2, 2);
    let mut seen = 0;
    for batch in provider {
        let batch = batch?;
        let labels = labels(&batch);
        let Some(BatchItem::Tensor { values, sizes }) = batch.items.get("object/bbox") else { panic!("{batch:?}") };
        let most = labels.iter().map(|&label| (label as usize - 1) % 3).max().unwrap() as i64;
        assert_eq!(values.size(), [labels.len() as i64, most, 4], "padded to the batch's most boxes");
        for (b, &label) in labels.iter().enumerate() {
            let boxes = (label as usize - 1) % 3;
            assert_eq!(Vec::<i64>::try_from(sizes.get(b as i64)).unwrap(), [boxes as i64, 4]);
            let row = |i: i64| Vec::<f32>::try_from(values.get(b as i64).get(i)).unwrap();
            for i in 0..most {
                let expected =
                    if (i as usize) < boxes { vec![0.1 * i as f32, 0.2 * i as f32, 0.5, 0.6] } else { vec![0.0; 4] };
                assert_eq!(row(i), expected, "example labelled {label}, box {i}");
            }
        }
        let Some(BatchItem::Bytes(texts)) = batch.items.get("label_text") else { panic!("{batch:?}") };
        let expected: Vec<Vec<Vec<u8>>> = labels.iter().map(|l| vec![format!("class {l}").into_bytes()]).collect();
        assert_eq!(texts, &expected);
        seen += labels.len();
    }
    assert_eq!(seen, 11);

    // The scripts' way in: `--dataset_name imagenet --labels_offset 1` for a net of 1,000 classes.
    let mut source = get_data_source("imagenet", Split::Test, Some(&dir), StreamOptions::default())?;
    assert_eq!((source.len(), source.num_classes()), (3, 1001));
    source.offset_labels(1)?;
    let batch = Provider::from_source(&source, 3)?.preprocess(EVALUATION).next().unwrap()?;
    assert_eq!(labels(&batch), [20, 21, 22]);
    assert!(batch.items.is_empty(), "no extra item unless asked for");

    let unknown = imagenet(Split::Train, &dir, StreamOptions::default(), &["object/mask"]).err();
    let message = unknown.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("no item \"object/mask\"") && message.contains("object/bbox"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

#[test]
fn a_decoders_defaults_and_declared_types_are_checked_record_by_record() -> Result<()> {
    let dir = temp("imagenet-bad");
    let unlabelled =
        ExampleFeatures::parse(&imagenet_example(1))?.with("image/class/label", FeatureValues::Ints(vec![]));
    let mut features = ExampleFeatures::parse(&imagenet_example(2))?;
    features.features.remove("image/class/label");
    let text_as_number = ExampleFeatures::parse(&imagenet_example(3))?
        .with("image/object/bbox/ymin", FeatureValues::Ints(vec![1, 2, 3]));
    let records = [imagenet_example(0), unlabelled.encode(), features.encode(), text_as_number.encode()];
    let framed: Vec<Vec<u8>> = records.iter().map(|record| frame_record(record)).collect();
    std::fs::write(dir.join("train-00000-of-00001"), framed.concat()).unwrap();
    let set = Arc::new(imagenet(Split::Train, &dir, StreamOptions::default(), &["object/bbox"])?);
    let batches: Vec<Result<Batch>> = Provider::streaming(set, 1)?.num_epochs(1).preprocess(EVALUATION).collect();
    let errors: Vec<String> =
        batches.iter().map(|b| b.as_ref().err().map(ToString::to_string).unwrap_or_default()).collect();
    assert!(errors[0].is_empty(), "{}", errors[0]);
    assert!(errors[1].contains("record 1 at offset") && errors[1].contains("image/class/label"), "{}", errors[1]);
    assert!(
        errors[2].contains("record 2 at offset") && errors[2].contains("label -1 is not in 0..1001"),
        "{}",
        errors[2]
    );
    assert!(errors[3].contains("record 3 at offset") && errors[3].contains("image/object/bbox/ymin"), "{}", errors[3]);

    // A decoder whose `label` is the class text: an error saying what the item is.
    let text =
        |key: &str| (key.to_string(), FeatureSpec::Fixed { kind: FeatureKind::Bytes, shape: vec![], default: None });
    let features = ["image/encoded", "image/format", "image/class/text"].map(text).into_iter().collect();
    let items = [("image", ItemHandler::image()), ("label", ItemHandler::tensor("image/class/text"))];
    let decoder = TfExampleDecoder::new(features, items.map(|(name, h)| (name.to_string(), h)).into_iter().collect())?;
    let files = [dir.join("train-00000-of-00001")];
    let error = TfRecordSet::open_with_decoder("texts", &files, 2, StreamOptions::default(), decoder, &[]).err();
    let message = error.map(|e| e.to_string()).unwrap_or_default();
    assert!(message.contains("record 0 at offset 0: item \"label\" is 1 strings, not one int64"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}
