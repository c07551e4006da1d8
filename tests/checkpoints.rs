//! Checkpoints and summaries on their own: save/restore round trips with reports, shape mismatches, damaged
//! files and flipped bits as errors that name the file, and image summaries as PNGs.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use prost::Message;
use slim::checkpoint::{Saver, restore};
use slim::io::read_records;
use slim::prelude::*;
use slim::summary::{Event, SummaryWriter};

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("slim-ckpt-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn store_with(shape: &[i64], value: f64) -> VarStore {
    let vs = VarStore::new(Device::Cpu);
    let _store = vs.as_default();
    let args = VariableArgs::default().initializer(constant_initializer(value));
    let _ = model_variable("net/w", shape, ModelVariableArgs(args.clone())).unwrap();
    let _ = variable("net/extra", &[2], args).unwrap();
    let _ = local_variable("metric/total", &Tensor::zeros([1], (Kind::Float, Device::Cpu))).unwrap();
    vs
}

#[test]
fn a_checkpoint_round_trips_global_variables_and_reports_the_rest() {
    let dir = temp("roundtrip");
    let saved = store_with(&[2, 3], 1.5);
    let path = Saver::new(&dir).unwrap().save(&saved, 7).unwrap();
    assert_eq!(path.file_name().unwrap(), "model.ckpt-7.safetensors");
    let target = store_with(&[2, 3], 0.0);
    let report = restore(&target, &path, false).unwrap();
    assert_eq!(report.applied, ["net/extra", "net/w"]);
    assert!(report.missing.is_empty() && report.unused.is_empty() && report.created.is_empty());
    assert!(target.variable("net/w").unwrap().tensor().equal(&Tensor::full([2, 3], 1.5, (Kind::Float, Device::Cpu))));
    let smaller = VarStore::new(Device::Cpu);
    {
        let _store = smaller.as_default();
        let _ = variable("net/w", &[2, 3], VariableArgs::default()).unwrap();
        let _ = variable("other", &[1], VariableArgs::default()).unwrap();
    }
    let report = restore(&smaller, &path, false).unwrap();
    assert_eq!((report.unused, report.missing), (vec!["net/extra".to_string()], vec!["other".to_string()]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn shape_mismatches_and_damaged_files_are_errors_naming_the_file() {
    let dir = temp("errors");
    let path = Saver::new(&dir).unwrap().save(&store_with(&[2, 3], 1.0), 1).unwrap();
    let err = restore(&store_with(&[3, 2], 0.0), &path, false).unwrap_err().to_string();
    assert!(err.contains("model.ckpt-1.safetensors") && err.contains("net/w") && err.contains("[2, 3]"), "{err}");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() - 10]).unwrap();
    let err = restore(&store_with(&[2, 3], 0.0), &path, false).unwrap_err();
    assert!(matches!(err, Error::Io { .. }) && err.to_string().contains("truncated or damaged"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Each tensor's CRC-32C is written with it and checked on every read: a flipped bit is an error naming the
/// tensor, not weights loaded silently. A file without checksums (as PyTorch's safetensors writes) still reads.
#[test]
fn flipped_bits_are_caught_by_the_checksums_written_with_each_tensor() {
    let dir = temp("bitflip");
    let saved = store_with(&[2, 3], 1.5);
    let path = Saver::new(&dir).unwrap().save(&saved, 1).unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let last = bytes.len() - 1; // inside the data of the last tensor in the file, net/w
    bytes[last] ^= 0x01;
    std::fs::write(&path, &bytes).unwrap();
    let message = restore(&store_with(&[2, 3], 0.0), &path, false).unwrap_err().to_string();
    assert!(message.contains("model.ckpt-1.safetensors") && message.contains("damaged"), "{message}");
    assert!(message.contains("net/w") && message.contains("checksum"), "{message}");
    let plain = dir.join("plain.safetensors");
    let tensors = [("net/w".to_string(), Tensor::full([2, 3], 2.5, (Kind::Float, Device::Cpu)))];
    Tensor::write_safetensors(&tensors, &plain).unwrap();
    let target = store_with(&[2, 3], 0.0);
    assert_eq!(restore(&target, &plain, false).unwrap().applied, ["net/w"]);
    assert!(target.variable("net/w").unwrap().tensor().equal(&tensors[0].1));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A saver's metadata rides in the safetensors header beside slim's checksums and reads back as it was; slim's
/// checksum key is not the caller's to set, and metadata that is not a string (as another writer may leave) is
/// an error naming the key.
#[test]
fn metadata_saved_beside_the_tensors_reads_back_and_bad_metadata_is_an_error() {
    use slim::checkpoint::checkpoint_metadata;
    let dir = temp("metadata");
    let saved = store_with(&[2], 1.0);
    let metadata = [("slim.data_position".to_string(), r#"{"epoch":1,"index":8}"#.to_string())].into();
    let path = Saver::new(&dir).unwrap().save_with_metadata(&saved, 3, &metadata).unwrap();
    assert_eq!(checkpoint_metadata(&path).unwrap(), metadata);
    assert_eq!(checkpoint_metadata(&dir).unwrap(), metadata, "a logdir stands for its latest checkpoint");
    assert!(restore(&store_with(&[2], 0.0), &path, false).is_ok());
    let reserved = [("slim.crc32c".to_string(), "{}".to_string())].into();
    assert!(Saver::new(&dir).unwrap().save_with_metadata(&saved, 4, &reserved).is_err());

    let plain = dir.join("plain.safetensors");
    let tensors = [("w".to_string(), Tensor::zeros([1], (Kind::Float, Device::Cpu)))];
    Tensor::write_safetensors(&tensors, &plain).unwrap();
    assert!(checkpoint_metadata(&plain).unwrap().is_empty(), "a file without metadata has none");
    let bytes = std::fs::read(&plain).unwrap();
    let header_length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(bytes[8..8 + header_length].to_vec()).unwrap();
    let header = header.replacen('{', r#"{"__metadata__":{"step":7},"#, 1);
    let rewritten = [&(header.len() as u64).to_le_bytes()[..], header.as_bytes(), &bytes[8 + header_length..]].concat();
    std::fs::write(&plain, rewritten).unwrap();
    let message = checkpoint_metadata(&plain).unwrap_err().to_string();
    assert!(message.contains("plain.safetensors") && message.contains("\"step\" is not a string"), "{message}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn image_summaries_are_pngs_under_tfs_tags() {
    let dir = temp("images");
    let mut writer = SummaryWriter::new(&dir).unwrap();
    let images = Tensor::rand([5, 3, 4, 6], (Kind::Float, Device::Cpu));
    writer.add_images("inputs", &images, 3, 2).unwrap();
    writer.add_images("single", &images.get(0).to_kind(Kind::Uint8), 3, 2).unwrap();
    writer.flush().unwrap();
    let records = read_records(&std::fs::read(writer.path()).unwrap()).unwrap();
    let values: Vec<_> =
        records[1..].iter().flat_map(|r| Event::decode(r.as_slice()).unwrap().summary.unwrap().value).collect();
    let tags: Vec<&str> = values.iter().map(|v| v.tag.as_str()).collect();
    assert_eq!(tags, ["inputs/image/0", "inputs/image/1", "inputs/image/2", "single/image"]);
    let image = values[0].image.as_ref().unwrap();
    assert_eq!((image.height, image.width, image.colorspace), (4, 6, 3));
    assert_eq!(&image.encoded_image_string[..4], b"\x89PNG");
    assert!(writer.add_images("bad", &Tensor::zeros([4, 6], (Kind::Float, Device::Cpu)), 1, 0).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_store_holding_nan_is_not_saved_and_the_newest_checkpoint_stays() {
    let dir = temp("nan");
    let vs = store_with(&[2, 3], 1.0);
    let saver = Saver::new(&dir).unwrap();
    saver.save(&vs, 1).unwrap();
    let _ = tch::no_grad(|| vs.variable("net/w").unwrap().tensor().shallow_clone().fill_(f64::NAN));
    let err = saver.save(&vs, 2).unwrap_err().to_string();
    assert!(err.contains("net/w") && err.contains("model.ckpt-2.safetensors is not written"), "{err}");
    assert!(!dir.join("model.ckpt-2.safetensors").exists());
    let latest = slim::checkpoint::latest_checkpoint(&dir).unwrap().unwrap();
    assert_eq!(latest.file_name().unwrap(), "model.ckpt-1.safetensors");
    std::fs::remove_dir_all(&dir).unwrap();
}
