//! TFRecords of `tf.train.Example` images as TF-Slim's conversion scripts write them: PNG, JPEG (a fixture made
//! with Pillow, tests/fixtures/images/tiny.jpg) and raw images, with their labels; bad CRCs, undecodable images,
//! mixed sizes and labels out of range as errors naming the file and the record.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use slim::data::{tfrecord_dataset, tfrecord_files};
use slim::io::frame_record;
use slim::prelude::*;

#[path = "common/tf_example.rs"]
mod tf_example;
use tf_example::{example, png};

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-tfrecord-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_records(path: &Path, records: &[Vec<u8>]) {
    std::fs::write(path, records.iter().map(|r| frame_record(r)).collect::<Vec<_>>().concat()).unwrap();
}

#[test]
fn png_and_raw_examples_become_a_dataset() {
    let dir = temp("png");
    write_records(&dir.join("mnist_train-00000-of-00002.tfrecord"), &[example(png(0), "png", 3, None)]);
    write_records(
        &dir.join("mnist_train-00001-of-00002.tfrecord"),
        &[example(png(10), "png", 7, None), example((20..26).collect(), "raw", 1, Some([2, 3, 1]))],
    );
    let files = tfrecord_files(&dir, "mnist_train").unwrap();
    assert_eq!(files.len(), 2);
    let dataset = tfrecord_dataset("mnist", &files, 10).unwrap();
    assert_eq!(dataset.images.size(), [3, 1, 2, 3]);
    assert_eq!(Vec::<i64>::try_from(&dataset.labels).unwrap(), [3, 7, 1]);
    let second: Vec<u8> = Vec::<u8>::try_from(dataset.images.get(1).flatten(0, -1)).unwrap();
    assert_eq!(second, [10, 11, 12, 13, 14, 15]);
    let third: Vec<u8> = Vec::<u8>::try_from(dataset.images.get(2).flatten(0, -1)).unwrap();
    assert_eq!(third, [20, 21, 22, 23, 24, 25]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn jpeg_examples_decode_to_rgb_channels_first() {
    let dir = temp("jpeg");
    let jpeg = std::fs::read("tests/fixtures/images/tiny.jpg").unwrap();
    write_records(&dir.join("flowers.tfrecord"), &[example(jpeg, "jpeg", 2, None)]);
    let dataset = tfrecord_dataset("flowers", &[dir.join("flowers.tfrecord")], 5).unwrap();
    assert_eq!(dataset.images.size(), [1, 3, 4, 6]);
    let image = dataset.images.get(0).to_kind(Kind::Float);
    // Left half red (200, 30, 30), right half blue (20, 40, 220), up to JPEG's rounding.
    let left = image.narrow(2, 0, 2).mean_dim(&[1i64, 2][..], false, Kind::Float);
    let right = image.narrow(2, 4, 2).mean_dim(&[1i64, 2][..], false, Kind::Float);
    let (left, right): (Vec<f32>, Vec<f32>) = (left.try_into().unwrap(), right.try_into().unwrap());
    assert!(left[0] > 150.0 && left[2] < 80.0, "{left:?}");
    assert!(right[2] > 170.0 && right[0] < 80.0, "{right:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn damaged_records_and_bad_contents_are_errors_naming_the_file_and_record() {
    let dir = temp("bad");
    let file = dir.join("data.tfrecord");
    let mut bytes =
        [frame_record(&example(png(0), "png", 1, None)), frame_record(&example(png(5), "png", 2, None))].concat();
    let last = bytes.len() - 6;
    bytes[last] ^= 1;
    std::fs::write(&file, &bytes).unwrap();
    let err = tfrecord_dataset("d", std::slice::from_ref(&file), 10).unwrap_err().to_string();
    assert!(err.contains("data.tfrecord: record 1 at offset") && err.contains("bad data checksum"), "{err}");
    std::fs::write(&file, &bytes[..bytes.len() - 20]).unwrap();
    let err = tfrecord_dataset("d", std::slice::from_ref(&file), 10).unwrap_err().to_string();
    assert!(err.contains("data.tfrecord: record 1 at offset") && err.contains("truncated"), "{err}");
    write_records(&file, &[example(b"not a png".to_vec(), "png", 1, None)]);
    let err = tfrecord_dataset("d", std::slice::from_ref(&file), 10).unwrap_err().to_string();
    assert!(err.contains("data.tfrecord") && err.contains("record 0"), "{err}");
    write_records(&file, &[example(png(0), "png", 12, None)]);
    assert!(
        tfrecord_dataset("d", std::slice::from_ref(&file), 10)
            .unwrap_err()
            .to_string()
            .contains("label 12 is not in 0..10")
    );
    write_records(&file, &[example(png(0), "png", 1, None), example((0..4).collect(), "raw", 1, Some([2, 2, 1]))]);
    assert!(
        tfrecord_dataset("d", std::slice::from_ref(&file), 10).unwrap_err().to_string().contains("record 1: image")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_dataset_factory_reads_tf_slims_converted_sets_with_their_labels_file() {
    use slim::data::Split;
    use slim::datasets::get_dataset;
    let dir = temp("factory");
    std::fs::write(dir.join("labels.txt"), "0:daisy\n1:dandelion\n2:roses\n").unwrap();
    write_records(&dir.join("flowers_train_00000-of-00001.tfrecord"), &[example(png(0), "png", 2, None)]);
    write_records(&dir.join("flowers_validation_00000-of-00001.tfrecord"), &[example(png(9), "png", 1, None)]);
    let train = get_dataset("flowers", Split::Train, Some(&dir)).unwrap();
    assert_eq!((train.len(), train.num_classes), (1, 3));
    assert_eq!(train.labels_to_names, ["daisy", "dandelion", "roses"]);
    let test = get_dataset("flowers", Split::Test, Some(&dir)).unwrap();
    assert_eq!(Vec::<i64>::try_from(&test.labels).unwrap(), [1], "the validation files serve as the test split");

    let err = get_dataset("tulips", Split::Train, Some(&dir)).unwrap_err().to_string();
    assert!(err.contains("holds no tulips_train*.tfrecord files"), "{err}");
    std::fs::write(dir.join("labels.txt"), "0:daisy\n2:roses\n").unwrap();
    let err = get_dataset("flowers", Split::Train, Some(&dir)).unwrap_err().to_string();
    assert!(err.contains("labels.txt") && err.contains("line 2: expected index 1"), "{err}");
    std::fs::remove_file(dir.join("labels.txt")).unwrap();
    let err = get_dataset("flowers", Split::Train, Some(&dir)).unwrap_err().to_string();
    assert!(err.contains("unknown dataset \"flowers\"") && err.contains("labels.txt"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// TF-Slim's `download_and_convert_mnist` and `_cifar10` write `<name>_train.tfrecord`, `<name>_test.tfrecord` and
/// labels.txt: `--dataset_name mnist` (or `cifar10`) with such a directory reads them, not the original files.
#[test]
fn built_in_names_read_their_tf_slim_converted_files() {
    use slim::data::Split;
    use slim::datasets::get_dataset;
    let dir = temp("converted");
    std::fs::write(dir.join("labels.txt"), (0..10).map(|c| format!("{c}:{c}\n")).collect::<String>()).unwrap();
    write_records(
        &dir.join("mnist_train.tfrecord"),
        &[example(png(0), "png", 7, None), example(png(5), "png", 2, None)],
    );
    write_records(&dir.join("mnist_test.tfrecord"), &[example(png(9), "png", 4, None)]);
    let train = get_dataset("mnist", Split::Train, Some(&dir)).unwrap();
    assert_eq!((train.len(), train.num_classes, train.images.size()), (2, 10, vec![2, 1, 2, 3]));
    assert_eq!(Vec::<i64>::try_from(&train.labels).unwrap(), [7, 2]);
    let test = get_dataset("mnist", Split::Test, Some(&dir)).unwrap();
    assert_eq!(Vec::<i64>::try_from(&test.labels).unwrap(), [4]);
    let err = get_dataset("cifar10", Split::Train, Some(&dir)).unwrap_err().to_string();
    assert!(err.contains("data_batch_1.bin"), "without its converted files cifar10 reads the binary batches: {err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
