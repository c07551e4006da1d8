//! Data-parallel training on MPI (the `mpi` feature). Each test launches this test binary under `mpirun -np N`
//! (each rank on one thread, over loopback), the ranks run the test's body and write what they hold into a
//! folder, and the launching test compares: collectives against rank-order sums, a 2-rank run (with dropout)
//! against one process with the global batch (and a loss-scaled one against it, bitwise), the ranks' variables
//! against each other, a resumed run against an uninterrupted one (stopped cleanly, or after a rank was killed
//! with SIGKILL); and a rank that never joins, or runs another model, makes the others fail within a bounded time.
#![cfg(feature = "mpi")]
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use slim::data::{Dataset, Provider};
use slim::distributed::{Collective, Mpi, World};
use slim::learning::{CURRENT_LOSS_SCALE, DynamicLossScale, GOOD_STEPS, train};
use slim::prelude::*;

/// Set in the ranks' environment: the folder where they write, and which part they play.
const OUT: &str = "SLIM_DISTRIBUTED_OUT";
const ROLE: &str = "SLIM_DISTRIBUTED_ROLE";
const LOGDIR: &str = "SLIM_DISTRIBUTED_LOGDIR";

/// The role this process plays in `test`, when it was launched as a rank (or a reference run) of it.
fn role() -> Option<(PathBuf, String)> {
    Some((PathBuf::from(std::env::var_os(OUT)?), std::env::var(ROLE).ok()?))
}

/// What a launch printed and how it ended.
struct Launch {
    success: bool,
    output: String,
    seconds: f64,
}

/// Runs this binary's `test` as `ranks` MPI ranks (0: as one plain process, no mpirun), with `role`, a fresh
/// output folder and `logdir` (a folder several launches share) in the environment; kills it after `limit`.
/// Returns the launch and the output folder.
fn launch(test: &str, ranks: usize, role: &str, logdir: Option<&Path>, limit: Duration) -> (Launch, PathBuf) {
    let out = std::env::temp_dir().join(format!("slim-distributed-{test}-{role}-{ranks}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let this = std::env::current_exe().unwrap();
    let mut command = match ranks {
        0 => Command::new(&this),
        _ => {
            // slim-core's build reports the folder of the MPI it compiled against (absent in doc-only builds).
            let bin = option_env!("SLIM_MPI_BIN").unwrap_or_default();
            let mut mpirun = Command::new(Path::new(bin).join("mpirun"));
            mpirun.args(["--oversubscribe", "--bind-to", "none", "-np", &ranks.to_string()]).arg(&this);
            mpirun
        }
    };
    command.args([test, "--exact", "--nocapture", "--test-threads=1"]);
    command.env(OUT, &out).env(ROLE, role).env("OMP_NUM_THREADS", "1");
    if let Some(logdir) = logdir {
        command.env(LOGDIR, logdir);
    }
    // Open MPI refuses root unless told; harmless for other users.
    command.env("OMPI_ALLOW_RUN_AS_ROOT", "1").env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    let log = out.join("launch.log");
    let file = std::fs::File::create(&log).unwrap();
    command.stdout(Stdio::from(file.try_clone().unwrap())).stderr(Stdio::from(file));
    let started = Instant::now();
    let mut child = command.spawn().unwrap();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let seconds = started.elapsed().as_secs_f64();
    assert!(status.is_some(), "{test} ({role}, {ranks} ranks) still ran after {limit:?}:\n{output}");
    (Launch { success: status.is_some_and(|s| s.success()), output, seconds }, out)
}

/// Launches and expects success.
fn launch_ok(test: &str, ranks: usize, role: &str, logdir: Option<&Path>) -> PathBuf {
    let (launch, out) = launch(test, ranks, role, logdir, Duration::from_secs(120));
    assert!(launch.success, "{test} ({role}, {ranks} ranks) failed:\n{}", launch.output);
    out
}

/// This rank's MPI world, with a short timeout and one thread.
fn mpi() -> Mpi {
    tch::set_num_threads(1);
    Mpi::init().unwrap().timeout(Duration::from_secs(20))
}

fn floats(tensor: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(tensor.to_kind(Kind::Float).contiguous().view(-1)).unwrap()
}

fn write_floats(path: &Path, values: &[f32]) {
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    std::fs::write(path, bytes).unwrap();
}

fn read_floats(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// Every variable of `vs` by name order, as one list of floats (a loss scale's state left out).
fn all_variables(vs: &VarStore) -> Vec<f32> {
    let mut variables = vs.variables();
    variables.retain(|v| ![CURRENT_LOSS_SCALE, GOOD_STEPS].contains(&v.name()));
    variables.sort_by(|a, b| a.name().cmp(b.name()));
    variables.iter().flat_map(|v| floats(v.tensor())).collect()
}

// ---------------------------------------------------------------------------------------------------------------
// Collectives.

/// The value rank `rank` contributes at element `i`.
fn contribution(rank: usize, i: usize) -> f64 {
    ((rank * 7 + i * 3) % 11) as f64 - 5.0 + 0.25 * rank as f64
}

fn collectives_body(out: &Path) {
    let mpi = mpi();
    let world = mpi.world();
    let mut report = String::new();
    for length in [0usize, 1, 7, 3_000_001] {
        let values: Vec<f64> = (0..length).map(|i| contribution(world.rank(), i)).collect();
        let tensor = Tensor::from_slice(&values);
        mpi.all_reduce_sum(&tensor).unwrap();
        let summed = Vec::<f64>::try_from(&tensor).unwrap();
        let expected: Vec<f64> = (0..length).map(|i| (0..world.size()).map(|r| contribution(r, i)).sum()).collect();
        assert_eq!(summed, expected, "all-reduce of {length} doubles on rank {}", world.rank());
        let floats32 = Tensor::from_slice(&values).to_kind(Kind::Float);
        mpi.all_reduce_sum(&floats32).unwrap();
        assert_eq!(floats(&floats32), expected.iter().map(|v| *v as f32).collect::<Vec<_>>());
        report.push_str(&format!("sum {length} ok\n"));
    }
    // A strided view is summed in place too.
    let grid = Tensor::arange(12, (Kind::Int64, Device::Cpu)).view([3, 4]);
    mpi.all_reduce_sum(&grid.slice(1, 0, 4, 2)).unwrap();
    let size = world.size() as i64;
    assert_eq!(
        Vec::<i64>::try_from(grid.view(-1)).unwrap(),
        vec![0, 1, 2 * size, 3, 4 * size, 5, 6 * size, 7, 8 * size, 9, 10 * size, 11]
    );
    let shared = Tensor::full([5], world.rank() as f64 + 10.0, (Kind::Float, Device::Cpu));
    mpi.broadcast(&shared, world.size() - 1).unwrap();
    assert_eq!(floats(&shared), vec![(world.size() - 1) as f32 + 10.0; 5]);
    let gathered = mpi.all_gather(&Tensor::from_slice(&[world.rank() as i32, 100])).unwrap();
    assert_eq!(gathered.size(), [world.size() as i64, 2]);
    assert_eq!(Vec::<i32>::try_from(gathered.select(1, 0)).unwrap(), (0..world.size() as i32).collect::<Vec<_>>());
    let message = mpi.all_gather(&Tensor::zeros([world.rank() as i64 + 1], (Kind::Float, Device::Cpu)));
    let message = message.unwrap_err().to_string();
    assert!(message.contains("every rank must give a tensor of the same size"), "{message}");
    mpi.barrier().unwrap();
    std::fs::write(out.join(format!("rank{}", world.rank())), report).unwrap();
}

#[test]
fn collectives_equal_the_rank_order_sums_on_every_rank() {
    if let Some((out, _)) = role() {
        return collectives_body(&out);
    }
    for ranks in [2, 4] {
        let out = launch_ok("collectives_equal_the_rank_order_sums_on_every_rank", ranks, "ranks", None);
        for rank in 0..ranks {
            let report = std::fs::read_to_string(out.join(format!("rank{rank}"))).unwrap();
            assert_eq!(report.lines().count(), 4, "rank {rank} of {ranks}: {report}");
        }
        let _ = std::fs::remove_dir_all(&out);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Training.

#[slim::model]
struct Mlp;

#[slim::model]
impl Mlp {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = flatten(inputs);
        let net = fully_connected(net, 16, scope = "fc1");
        // The ranks' masks together are the one a single process draws for the global batch.
        let net = dropout(net, 0.7, scope = "dropout1");
        fully_connected(net, 3, activation_fn = None, scope = "logits")
    }
}

#[slim::model]
struct BatchNormNet;

#[slim::model]
impl BatchNormNet {
    fn forward(&self, inputs: &Tensor) -> Result<Tensor> {
        let net = conv2d(inputs, 4, [3, 3], normalizer_fn = Normalizer::batch_norm(), scope = "conv1");
        let net = flatten(net);
        fully_connected(net, 3, activation_fn = None, scope = "logits")
    }
}

/// 96 seeded 1×4×4 images in 3 classes.
fn dataset() -> Dataset {
    let images = Tensor::arange(96 * 16, (Kind::Int64, Device::Cpu)).view([96, 1, 4, 4]);
    let images = (&images * 37 + images.pow_tensor_scalar(2)).remainder(256).to_kind(Kind::Uint8);
    let labels = Tensor::arange(96, (Kind::Int64, Device::Cpu)).remainder(3);
    Dataset { name: "toy".into(), images, labels, num_classes: 3, labels_to_names: Vec::new() }
}

/// Trains `steps` steps in `logdir` on batches of `batch` per rank (sharded when `world` has more than one rank),
/// saving every `save_every` steps; `batch_norm` picks the net. Returns the store.
fn train_toy(logdir: &Path, world: Option<Mpi>, batch: i64, steps: i64, batch_norm: bool, save_every: i64) -> VarStore {
    train_toy_scaled(logdir, world, (batch, steps, save_every), batch_norm, None)
}

/// [`train_toy`] with `(batch, steps, save_every)` and the train op's loss scale.
fn train_toy_scaled(
    logdir: &Path,
    world: Option<Mpi>,
    (batch, steps, save_every): (i64, i64, i64),
    batch_norm: bool,
    loss_scale: Option<DynamicLossScale>,
) -> VarStore {
    tch::set_num_threads(1);
    // Initial weights differ by rank: rank 0's reach the others through the train op's synchronization.
    tch::manual_seed(7 + world.as_ref().map_or(0, |mpi| mpi.world().rank() as i64));
    let vs = VarStore::new(Device::Cpu);
    let mlp = (!batch_norm).then(|| Mlp.build(&vs, "net", &[1, 1, 4, 4]).unwrap());
    let bn = batch_norm.then(|| BatchNormNet.build(&vs, "net", &[1, 1, 4, 4]).unwrap());
    let mut builder = create_train_op(&vs, Adam::default(), 0.01);
    if let Some(scale) = loss_scale {
        builder = builder.loss_scale(scale);
    }
    let shard = world.as_ref().map_or_else(World::single, Collective::world);
    if let Some(mpi) = world {
        builder = builder.distributed(mpi).bucket_bytes(256); // several buckets for a small net
    }
    let mut train_op = builder.build().unwrap();
    let mut provider: Option<Provider> = None;
    let _store = vs.as_default();
    train(&mut train_op, logdir, |step| {
        // A resumed run continues with the global batch of its global step.
        if provider.is_none() {
            let whole = Provider::new(&dataset(), batch)?.shuffle(3).drop_remainder(true);
            provider = Some(whole.shard(shard.rank(), shard.size())?.starting_at_batch(step as u64));
        }
        let batch = provider.as_mut().unwrap().next_batch()?;
        let output = match (&mlp, &bn) {
            (Some(net), _) => net.forward_t(&batch.images, Mode::Train)?.output,
            (_, Some(net)) => net.forward_t(&batch.images, Mode::Train)?.output,
            _ => unreachable!("one net is built"),
        };
        let _ = sparse_softmax_cross_entropy(&output, &batch.labels).call()?;
        get_total_loss(true)
    })
    .number_of_steps(steps)
    .seed(42) // the dropout masks' seeds: the same step by step on every rank and in one process
    .save_interval_steps(save_every)
    .log_to(|_| {})
    .run()
    .unwrap();
    if let Some(reducer) = train_op.gradient_reducer() {
        // 256-byte buckets: the logits' weights and biases travel apart from fc1's, and their sums start
        // while autograd is still computing fc1's gradients.
        assert!(reducer.buckets() >= 3, "{} buckets", reducer.buckets());
        assert!(reducer.overlapped_buckets() >= 1, "no bucket started during the backward pass");
    }
    vs
}

/// One process accumulating 2 micro-batches of 8 a step (each the part of the global batch of 16 a rank of 2
/// reads), seeded step by step as `train`'s `seed(42)` does.
fn accumulate_toy(steps: i64) -> VarStore {
    tch::set_num_threads(1);
    tch::manual_seed(7);
    let vs = VarStore::new(Device::Cpu);
    let mlp = Mlp.build(&vs, "net", &[1, 1, 4, 4]).unwrap();
    let mut train_op = create_train_op(&vs, Adam::default(), 0.01).build().unwrap();
    let mut halves: Vec<Provider> = (0..2)
        .map(|part| Provider::new(&dataset(), 8).unwrap().shuffle(3).drop_remainder(true).shard(part, 2).unwrap())
        .collect();
    let _store = vs.as_default();
    for step in 0..steps {
        tch::manual_seed(42 + step);
        train_op
            .step_accumulated(2, |micro_batch| {
                let batch = halves[micro_batch].next_batch()?;
                let logits = mlp.forward_t(&batch.images, Mode::Train)?.output;
                let _ = sparse_softmax_cross_entropy(&logits, &batch.labels).call()?;
                get_total_loss(true)
            })
            .unwrap();
    }
    vs
}

fn train_body(out: &Path, role: &str) {
    match role {
        "reference" => {
            let vs = train_toy(&out.join("logdir"), None, 16, 12, false, 1000);
            write_floats(&out.join("reference"), &all_variables(&vs));
            write_floats(&out.join("accumulated"), &all_variables(&accumulate_toy(12)));
        }
        "ranks" => {
            let mpi = mpi();
            let rank = mpi.world().rank();
            let vs = train_toy(&out.join("logdir"), Some(mpi), 8, 12, false, 1000);
            write_floats(&out.join(format!("rank{rank}")), &all_variables(&vs));
        }
        "scaled" => {
            let (mpi, scale) = (mpi(), DynamicLossScale::new(1024.0, 5, 2.0).unwrap());
            let rank = mpi.world().rank();
            let vs = train_toy_scaled(&out.join("logdir"), Some(mpi), (8, 12, 1000), false, Some(scale));
            write_floats(&out.join(format!("rank{rank}")), &all_variables(&vs));
            let factor = vs.variable(CURRENT_LOSS_SCALE).unwrap().tensor().double_value(&[]) as f32;
            write_floats(&out.join(format!("scale{rank}")), &[factor]);
        }
        other => panic!("no role {other}"),
    }
}

#[test]
fn two_ranks_end_where_one_process_with_the_global_batch_does() {
    let test = "two_ranks_end_where_one_process_with_the_global_batch_does";
    if let Some((out, role)) = role() {
        return train_body(&out, &role);
    }
    let single = launch_ok(test, 0, "reference", None);
    let (reference, accumulated) = (read_floats(&single.join("reference")), read_floats(&single.join("accumulated")));
    let out = launch_ok(test, 2, "ranks", None);
    let (zero, one) = (read_floats(&out.join("rank0")), read_floats(&out.join("rank1")));
    assert!(zero == one, "the ranks' variables differ");
    assert_eq!(zero.len(), reference.len());
    let scale = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = |of: &[f32]| zero.iter().zip(of).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    let (batch, micro) = (worst(&reference), worst(&accumulated));
    assert!(batch <= 1e-5 * scale, "2 ranks × 8 vs 1 × 16: largest difference {batch} (scale {scale})");
    // Micro-batches are the ranks' path in one process: the same sums, in the same order.
    assert!(micro <= 1e-6 * scale, "2 ranks × 8 vs 2 micro-batches of 8: largest difference {micro}");
    println!("2 ranks × 8 against 1 × 16: {batch:e}; against 2 micro-batches of 8: {micro:e} (scale {scale})");
    assert!(out.join("logdir/checkpoint").is_file(), "rank 0 writes the checkpoint");
    // Loss scaling by powers of two changes nothing in float32: the scaled ranks end bitwise where these did.
    let scaled = launch_ok(test, 2, "scaled", None);
    for rank in 0..2 {
        assert!(read_floats(&scaled.join(format!("rank{rank}"))) == zero, "scaled rank {rank} differs");
        assert_eq!(read_floats(&scaled.join(format!("scale{rank}"))), [4096.0], "12 good steps, period 5: ×4");
    }
    let _ = (std::fs::remove_dir_all(&single), std::fs::remove_dir_all(&out), std::fs::remove_dir_all(&scaled));
}

fn batch_norm_body(out: &Path) {
    let mpi = mpi();
    let rank = mpi.world().rank();
    let vs = train_toy(&out.join("logdir"), Some(mpi), 4, 6, true, 1000);
    assert!(vs.variable("net/conv1/BatchNorm/moving_mean").is_some());
    assert!(vs.variable("net/conv1/weights/Adam").is_some());
    write_floats(&out.join(format!("rank{rank}")), &all_variables(&vs));
}

#[test]
fn batch_norm_statistics_and_slots_are_the_same_on_every_rank() {
    if let Some((out, _)) = role() {
        return batch_norm_body(&out);
    }
    let out = launch_ok("batch_norm_statistics_and_slots_are_the_same_on_every_rank", 4, "ranks", None);
    let zero = read_floats(&out.join("rank0"));
    for rank in 1..4 {
        assert!(read_floats(&out.join(format!("rank{rank}"))) == zero, "rank {rank}'s variables differ from rank 0's");
    }
    let _ = std::fs::remove_dir_all(&out);
}

fn resume_body(out: &Path, role: &str) {
    let mpi = mpi();
    let rank = mpi.world().rank();
    let steps = if role == "first-half" { 6 } else { 12 };
    let logdir = PathBuf::from(std::env::var_os(LOGDIR).unwrap());
    let vs = train_toy(&logdir, Some(mpi), 8, steps, true, 1000);
    write_floats(&out.join(format!("rank{rank}")), &all_variables(&vs));
}

#[test]
fn a_resumed_run_ends_where_an_uninterrupted_one_does() {
    let test = "a_resumed_run_ends_where_an_uninterrupted_one_does";
    if let Some((out, role)) = role() {
        return resume_body(&out, &role);
    }
    let base = std::env::temp_dir().join(format!("slim-distributed-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let outs = [
        launch_ok(test, 2, "whole", Some(&base.join("whole"))),
        launch_ok(test, 2, "first-half", Some(&base.join("halves"))),
        launch_ok(test, 2, "second-half", Some(&base.join("halves"))),
    ];
    let (whole, resumed) = (read_floats(&outs[0].join("rank0")), read_floats(&outs[2].join("rank1")));
    assert!(resumed == whole, "6 steps, stopped, then 6 more differ from 12 straight");
    for folder in outs.iter().chain([&base]) {
        let _ = std::fs::remove_dir_all(folder);
    }
}

fn killed_body(out: &Path, role: &str) {
    let mpi = mpi();
    let rank = mpi.world().rank();
    std::fs::write(out.join(format!("pid{rank}")), std::process::id().to_string()).unwrap();
    let logdir = PathBuf::from(std::env::var_os(LOGDIR).unwrap());
    let steps = if role == "killed" { 1_000_000 } else { 300 };
    let vs = train_toy(&logdir, Some(mpi), 8, steps, false, 1);
    write_floats(&out.join(format!("rank{rank}")), &all_variables(&vs));
}

#[test]
fn a_rank_killed_mid_run_leaves_whole_checkpoints_and_a_resume_ends_where_an_uninterrupted_run_does() {
    let test = "a_rank_killed_mid_run_leaves_whole_checkpoints_and_a_resume_ends_where_an_uninterrupted_run_does";
    if let Some((out, role)) = role() {
        return killed_body(&out, &role);
    }
    let base = std::env::temp_dir().join(format!("slim-distributed-killed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let out = std::env::temp_dir().join(format!("slim-distributed-{test}-killed-2-{}", std::process::id()));
    let logdir = base.join("killed");
    let watched = logdir.clone();
    let killer = std::thread::spawn(move || {
        // Once rank 0 has saved a few checkpoints (one a step), rank 1 is killed.
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(60) {
            let saved = std::fs::read_to_string(watched.join("checkpoint")).unwrap_or_default();
            let pid = std::fs::read_to_string(out.join("pid1")).unwrap_or_default();
            if saved.contains("model.ckpt-5") && !pid.is_empty() {
                let killed = Command::new("kill").args(["-9", pid.trim()]).status().unwrap();
                return killed.success();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    });
    let (launch, out) = launch(test, 2, "killed", Some(&logdir), Duration::from_secs(90));
    assert!(killer.join().unwrap(), "rank 1 was not killed:\n{}", launch.output);
    assert!(!launch.success, "the run went on without rank 1:\n{}", launch.output);
    let vs = VarStore::new(Device::Cpu);
    Mlp.build(&vs, "net", &[1, 1, 4, 4]).unwrap();
    let checkpoints = slim::checkpoint::checkpoints_newest_first(&logdir).unwrap();
    for checkpoint in &checkpoints {
        slim::checkpoint::restore(&vs, checkpoint, true).unwrap_or_else(|e| panic!("{}: {e}", checkpoint.display()));
    }
    let newest = checkpoints.first().and_then(|path| slim::checkpoint::checkpoint_step(path)).unwrap();
    assert!((5..300).contains(&newest), "the killed run saved step {newest}; the resume must have steps to go");
    // Resumed to step 300 from what the killed run left, against 300 steps never interrupted.
    let resumed = launch_ok(test, 2, "resumed", Some(&logdir));
    let whole = launch_ok(test, 2, "whole", Some(&base.join("whole")));
    assert!(
        read_floats(&resumed.join("rank0")) == read_floats(&whole.join("rank0")),
        "resumed from step {newest} after the kill, the run ends elsewhere than one never interrupted"
    );
    for folder in [&out, &resumed, &whole, &base] {
        let _ = std::fs::remove_dir_all(folder);
    }
}

fn stop_body(out: &Path) {
    let mpi = mpi();
    let rank = mpi.world().rank();
    tch::manual_seed(7);
    let vs = VarStore::new(Device::Cpu);
    let mlp = Mlp.build(&vs, "net", &[1, 1, 4, 4]).unwrap();
    let mut train_op = create_train_op(&vs, GradientDescent, 0.1).distributed(mpi).build().unwrap();
    let mut provider = Provider::new(&dataset(), 8).unwrap().shard(rank, 2).unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    let _store = vs.as_default();
    train(&mut train_op, out.join("logdir"), |step| {
        if rank == 1 && step == 3 {
            flag.store(true, std::sync::atomic::Ordering::SeqCst); // Ctrl-C reaches rank 1 alone
        }
        let batch = provider.next_batch()?;
        let logits = mlp.forward_t(&batch.images, Mode::Train)?.output;
        let _ = sparse_softmax_cross_entropy(&logits, &batch.labels).call()?;
        get_total_loss(true)
    })
    .stop_when(stop)
    .number_of_steps(100)
    .log_to(|_| {})
    .run()
    .unwrap();
    std::fs::write(out.join(format!("rank{rank}")), train_op.global_step().to_string()).unwrap();
}

#[test]
fn a_stop_asked_of_one_rank_stops_every_rank_at_the_same_step() {
    let test = "a_stop_asked_of_one_rank_stops_every_rank_at_the_same_step";
    if let Some((out, _)) = role() {
        return stop_body(&out);
    }
    let out = launch_ok(test, 2, "ranks", None);
    for rank in 0..2 {
        assert_eq!(std::fs::read_to_string(out.join(format!("rank{rank}"))).unwrap(), "4", "rank {rank}");
    }
    assert!(out.join("logdir/model.ckpt-4.safetensors").is_file(), "rank 0 saves where the ranks stopped");
    let _ = std::fs::remove_dir_all(&out);
}

// ---------------------------------------------------------------------------------------------------------------
// Bad input: a rank that never joins, a rank with another model.

fn absent_rank_body() {
    let mpi = mpi().timeout(Duration::from_secs(3));
    if mpi.world().rank() == 1 {
        std::thread::sleep(Duration::from_secs(300)); // never joins
    }
    let tensor = Tensor::ones([4], (Kind::Float, Device::Cpu));
    let message = mpi.all_reduce_sum(&tensor).unwrap_err().to_string();
    eprintln!("rank 0 failed: {message}");
    std::process::exit(3);
}

#[test]
fn a_rank_that_never_joins_makes_the_others_fail_in_bounded_time() {
    let test = "a_rank_that_never_joins_makes_the_others_fail_in_bounded_time";
    if role().is_some() {
        return absent_rank_body();
    }
    let (launch, out) = launch(test, 2, "ranks", None, Duration::from_secs(60));
    let _ = std::fs::remove_dir_all(&out);
    assert!(!launch.success, "{}", launch.output);
    assert!(launch.output.contains("rank 0 of 2: all-reduce did not complete within 3 s"), "{}", launch.output);
    assert!(launch.seconds < 40.0, "took {} s", launch.seconds);
}

fn other_model_body() {
    let mpi = mpi();
    let rank = mpi.world().rank();
    let vs = VarStore::new(Device::Cpu);
    let width = if rank == 1 { 5 } else { 4 };
    let _store = vs.as_default();
    let x = Tensor::ones([2, width], (Kind::Float, Device::Cpu));
    let net = fully_connected(&x, 3).scope("fc").call().unwrap();
    let mut train_op = create_train_op(&vs, GradientDescent, 0.1).distributed(mpi).build().unwrap();
    let error = train_op.synchronize().unwrap_err().to_string();
    eprintln!("rank {rank} refused: {error}");
    drop(net);
}

#[test]
fn ranks_with_different_models_all_name_the_first_difference() {
    let test = "ranks_with_different_models_all_name_the_first_difference";
    if role().is_some() {
        return other_model_body();
    }
    let (launch, out) = launch(test, 2, "ranks", None, Duration::from_secs(60));
    let _ = std::fs::remove_dir_all(&out);
    assert!(launch.success, "{}", launch.output);
    for rank in 0..2 {
        let expected = format!(
            "rank {rank} refused: rank {rank} of 2: rank 1 builds another model than rank 0: rank 0 has \
             `fc/weights Float [3, 4]` where rank 1 has `fc/weights Float [3, 5]`"
        );
        assert!(launch.output.contains(&expected), "{expected}\n{}", launch.output);
    }
}
