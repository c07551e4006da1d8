//! Restoring a VGG-16-sized checkpoint (138 M parameters, 553 MB): seconds, MB/s and the process's peak memory
//! growth, for slim's safetensors files and, when `SLIM_TF_VGG16` names a TF-Slim checkpoint prefix of vgg_16
//! (TF's layout), for TensorFlow's format with the layout conversion.
//!
//! `cargo bench --bench restore` (optionally `SLIM_TF_VGG16=/path/vgg_16.ckpt`).

use std::time::Instant;

use slim::checkpoint::{AssignOptions, Saver, assign_from_checkpoint};
use slim::nets::{Vgg, VggDepth};
use slim::prelude::*;

/// A field of /proc/self/status in MB (VmRSS now, VmHWM the peak so far).
fn memory_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with(field)).unwrap_or("");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()).unwrap_or(0.0) / 1024.0
}

fn measure(label: &str, path: &std::path::Path, vs: &VarStore, megabytes: f64) -> Result<()> {
    let variables = vs.collection(MODEL_VARIABLES);
    let before = memory_mb("VmRSS:");
    let start = Instant::now();
    let report = assign_from_checkpoint(path, variables, AssignOptions::default())?;
    let seconds = start.elapsed().as_secs_f64();
    let growth = memory_mb("VmHWM:") - before;
    println!(
        "  {label:<36} {seconds:6.2} s  {:6.0} MB/s  peak memory growth {growth:6.0} MB ({:.2}× the checkpoint), {} applied",
        megabytes / seconds,
        growth / megabytes,
        report.applied.len()
    );
    Ok(())
}

fn main() -> Result<()> {
    tch::set_num_threads(2);
    slim::backend::allocator::keep_freed_memory();
    let vs = VarStore::new(Device::Cpu);
    let vgg = Vgg { depth: VggDepth::D16, num_classes: Some(1000), dropout_keep_prob: 0.5, spatial_squeeze: true };
    vgg.build(&vs, "vgg_16", &[1, 3, 224, 224])?;
    let dir = std::env::temp_dir().join(format!("slim-bench-restore-{}", std::process::id()));
    let path = Saver::new(&dir)?.save(&vs, 1)?;
    let megabytes = std::fs::metadata(&path).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);
    println!("VGG-16 restore ({} parameters):", vs.num_model_parameters());
    measure(&format!("slim safetensors ({megabytes:.0} MB)"), &path, &vs, megabytes)?;
    if let Ok(prefix) = std::env::var("SLIM_TF_VGG16") {
        let data = std::path::PathBuf::from(format!("{prefix}.data-00000-of-00001"));
        let tf_megabytes = std::fs::metadata(&data).map(|m| m.len() as f64 / 1e6).unwrap_or(0.0);
        measure(&format!("TF V2 bundle ({tf_megabytes:.0} MB)"), std::path::Path::new(&prefix), &vs, tf_megabytes)?;
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
