//! Data-parallel training on MPI, measured side by side in one sitting (the `mpi` feature):
//!
//! - `allreduce`: what slim's fused gradient buckets add to a backward pass (hooks, copies into the buckets, the
//!   non-blocking all-reduce, the average), for the variables of LeNet (w1) and ResNet-32 (w2) on 2 ranks,
//!   against a bare blocking `MPI_Allreduce` of the same bytes (`benches/peers/mpi_allreduce.c`, built with
//!   the mpicc slim was built with);
//! - `scaling`: the w1 and w2 training steps on 2 ranks × 1 thread against 1 rank × 1 thread at the same
//!   per-rank batch (weak scaling) and against 1 rank × 2 threads at the same global batch; with
//!   `SLIM_TORCH_PYTHON` (the venv of `shared/bench/setup-peers.sh`), PyTorch DDP (gloo) on the same workloads
//!   and ranks (`benches/peers/torch_ddp.py`).
//!
//! `cargo bench --features mpi --bench distributed -- [allreduce] [scaling] [w1] [w2] [--steps N]`
//!
//! The benchmark launches itself under `mpirun` (or alone) for each measurement; each launch prints one line,
//! and the table of ratios follows.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::median;
use common::peer_nets::PeerResNet32;
use slim::distributed::{Collective, Mpi};
use slim::nets::Lenet;
use slim::prelude::*;

/// Set in a launched measurement's environment: what it measures.
const ROLE: &str = "SLIM_BENCH_DISTRIBUTED_ROLE";

/// The shared workloads: name, per-rank batch, input shape.
const WORKLOADS: [(&str, i64, [i64; 3]); 2] = [("w1", 64, [1, 28, 28]), ("w2", 128, [3, 32, 32])];

fn main() -> Result<()> {
    if let Ok(role) = std::env::var(ROLE) {
        return measure(&role);
    }
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let steps = args.iter().position(|a| a == "--steps").and_then(|i| args.get(i + 1)?.parse().ok()).unwrap_or(10);
    let all = !args.iter().any(|a| a == "allreduce" || a == "scaling");
    let named: Vec<&str> =
        WORKLOADS.iter().map(|(name, ..)| *name).filter(|name| args.iter().any(|a| a == name)).collect();
    let workloads: Vec<&str> =
        if named.is_empty() { WORKLOADS.iter().map(|(name, ..)| *name).collect() } else { named };
    if all || args.iter().any(|a| a == "allreduce") {
        allreduce(steps * 3, &workloads)?;
    }
    if all || args.iter().any(|a| a == "scaling") {
        scaling(steps, &workloads)?;
    }
    Ok(())
}

// --------------------------------------------------------------------------------------------------------------
// The launcher's side.

/// mpirun beside the mpicc slim was built with.
fn mpi_program(name: &str) -> PathBuf {
    Path::new(option_env!("SLIM_MPI_BIN").unwrap_or_default()).join(name)
}

/// Runs `command` with one thread per process and returns the first line it printed that starts with `tag`.
fn line_of(mut command: Command, tag: &str) -> Result<String> {
    command.env("OMP_NUM_THREADS", "1").env("OMPI_ALLOW_RUN_AS_ROOT", "1").env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
    let output = command.output().map_err(|e| Error::invalid("distributed bench", format!("{command:?}: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines().find(|line| line.starts_with(tag)).map(str::to_owned).ok_or_else(|| {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Error::invalid("distributed bench", format!("{command:?} printed no `{tag}` line:\n{text}\n{stderr}"))
    })
}

/// This benchmark as `ranks` MPI ranks (0: alone) in `role`.
fn myself(ranks: usize, role: &str) -> Command {
    let this = std::env::current_exe().unwrap_or_default();
    let mut command = match ranks {
        0 => Command::new(&this),
        _ => {
            let mut mpirun = Command::new(mpi_program("mpirun"));
            mpirun.args(["--oversubscribe", "--bind-to", "none", "-np", &ranks.to_string()]).arg(&this);
            mpirun
        }
    };
    command.env(ROLE, role);
    command
}

/// The number in field `index` of `line`.
fn field(line: &str, index: usize) -> f64 {
    line.split_whitespace().nth(index).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
}

/// The bare MPI_Allreduce baseline, compiled with slim's mpicc into the target's scratch folder.
fn bare_allreduce() -> Result<PathBuf> {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/mpi_allreduce.c");
    let binary = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mpi_allreduce");
    let status = Command::new(mpi_program("mpicc")).args(["-O2", "-o"]).arg(&binary).arg(&source).status();
    match status {
        Ok(status) if status.success() => Ok(binary),
        other => Err(Error::invalid("distributed bench", format!("mpicc {}: {other:?}", source.display()))),
    }
}

fn allreduce(iterations: usize, workloads: &[&str]) -> Result<()> {
    let bare = bare_allreduce()?;
    println!("gradient all-reduce on 2 ranks, {iterations} rounds, against a bare blocking MPI_Allreduce of the same");
    println!("bytes: slim's all-reduce of one buffer (its communication thread and deadline wait; median and fastest");
    println!("round), and the median of what its buckets add to a backward pass (copies in, sums, the wait after)");
    println!(
        "  workload  floats    bare (ms)      slim sum (ms)  ratio      buckets  slim adds (ms)  waited  overlapped"
    );
    for (workload, ..) in WORKLOADS.into_iter().filter(|(name, ..)| workloads.contains(name)) {
        let slim = line_of(myself(2, &format!("reducer {workload} {iterations}")), "reducer")?;
        let floats = field(&slim, 2);
        let mut command = Command::new(mpi_program("mpirun"));
        command.args(["--oversubscribe", "--bind-to", "none", "-np", "2"]).arg(&bare);
        command.args([format!("{floats}"), iterations.to_string()]);
        let bare = line_of(command, "bare_allreduce_ms")?;
        let (bare_median, bare_fastest) = (field(&bare, 1), field(&bare, 2));
        let added = field(&slim, 5) - field(&slim, 4);
        let (sum_median, sum_fastest) = (field(&slim, 8), field(&slim, 9));
        println!(
            "  {workload:<8}  {floats:<8}  {bare_median:.3}/{bare_fastest:.3}  {sum_median:.3}/{sum_fastest:.3}  \
             {:.2}/{:.2}  {:>7}  {added:>14.3}  {:>6.3}  {:>10}",
            sum_median / bare_median,
            sum_fastest / bare_fastest,
            field(&slim, 3),
            field(&slim, 7),
            field(&slim, 6)
        );
    }
    Ok(())
}

fn scaling(steps: usize, workloads: &[&str]) -> Result<()> {
    println!("training steps, median of {steps} (each process on the threads given):");
    println!("  workload  setting            step (ms)  examples/s");
    for (workload, batch, _) in WORKLOADS.into_iter().filter(|(name, ..)| workloads.contains(name)) {
        let mut best = [f64::INFINITY; 4];
        let settings = [(0, 1, batch), (2, 1, batch), (0, 2, 2 * batch)];
        for _ in 0..2 {
            // Alternated twice, the best of each kept: the machine's speed drifts.
            for (slot, (ranks, threads, size)) in settings.into_iter().enumerate() {
                let role = format!("train {workload} {threads} {size} {steps}");
                best[slot] = best[slot].min(field(&line_of(myself(ranks, &role), "train")?, 1));
            }
            if let Ok(python) = std::env::var("SLIM_TORCH_PYTHON") {
                let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peers/torch_ddp.py");
                let mut command = Command::new(python);
                command.arg(script).args([workload, "2", &steps.to_string(), "3"]);
                best[3] = best[3].min(field(&line_of(command, "ddp")?, 3));
            }
        }
        let names = ["1 rank × 1 thread", "2 ranks × 1 thread", "1 rank × 2 threads", "DDP 2 × 1 (gloo)"];
        let examples = [batch, 2 * batch, 2 * batch, 2 * batch];
        for ((name, ms), examples) in names.iter().zip(best).zip(examples) {
            if ms.is_finite() {
                println!("  {workload:<8}  {name:<18} {ms:>9.1}  {:>10.0}", examples as f64 * 1e3 / ms);
            }
        }
        let throughput = |slot: usize| examples[slot] as f64 / best[slot];
        let versus_ddp = match best[3].is_finite() {
            true => format!("; slim 2×1 step / DDP's {:.2}", best[1] / best[3]),
            false => String::new(),
        };
        println!(
            "  {workload}: weak scaling (2×1 / 1×1 throughput) {:.2}×; 2×1 / 1×2 throughput {:.2}×{versus_ddp}",
            throughput(1) / throughput(0),
            throughput(1) / throughput(2),
        );
    }
    Ok(())
}

// --------------------------------------------------------------------------------------------------------------
// The measurements, in the launched processes.

fn measure(role: &str) -> Result<()> {
    let parts: Vec<&str> = role.split_whitespace().collect();
    let number = |i: usize| parts.get(i).and_then(|v| v.parse::<i64>().ok()).unwrap_or(1);
    tch::set_num_interop_threads(1);
    match parts.first() {
        Some(&"reducer") => reducer(parts[1], number(2) as usize),
        Some(&"train") => {
            tch::set_num_threads(number(2) as i32);
            train_steps(parts[1], number(3), number(4) as usize)
        }
        _ => Err(Error::invalid("distributed bench", format!("no role {role:?}"))),
    }
}

/// A built net's training-mode forward pass.
type Forward = Box<dyn Fn(&Tensor) -> Result<Tensor>>;

/// Builds workload `workload`'s net into `vs`.
fn build(workload: &str, vs: &VarStore) -> Result<Forward> {
    Ok(match workload {
        "w1" => {
            let net = Lenet { num_classes: Some(10), dropout_keep_prob: 0.5 }.build(vs, "LeNet", &[1, 1, 28, 28])?;
            Box::new(move |x| Ok(net.forward_t(x, Mode::Train)?.output))
        }
        _ => {
            let net = PeerResNet32 { weight_decay: 2e-4 }.build(vs, "resnet_v2_32", &[1, 3, 32, 32])?;
            Box::new(move |x| Ok(net.forward_t(x, Mode::Train)?.output))
        }
    })
}

/// The reducer's cost on 2 ranks: a backward pass of `Σ v·c` over the net's variables, plain and with the
/// reducer armed (interleaved); rank 0 prints `reducer <workload> <floats> <buckets> <plain ms> <armed ms>
/// <overlapped buckets> <ms waited after the backward pass> <median and fastest ms of slim's all-reduce of one
/// buffer as large>`.
fn reducer(workload: &str, iterations: usize) -> Result<()> {
    tch::set_num_threads(1);
    let mpi = Mpi::init()?;
    let vs = VarStore::new(Device::Cpu);
    let _forward = build(workload, &vs)?; // creates the variables
    let variables = vs.collection(slim::variables::collections::TRAINABLE_VARIABLES);
    let floats: i64 = variables.iter().map(|v| v.tensor().numel() as i64).sum();
    let mut reducer = mpi.gradient_reducer(&variables, slim::distributed::DEFAULT_BUCKET_BYTES)?;
    let tensors: Vec<&Tensor> = variables.iter().map(|v| v.tensor()).collect();
    let factors: Vec<Tensor> = tensors.iter().map(|t| t.detach().rand_like()).collect();
    let backward = || -> Result<()> {
        let loss = tensors
            .iter()
            .zip(&factors)
            .map(|(v, c)| (*v * c).sum(Kind::Float))
            .fold(Tensor::zeros([], (Kind::Float, Device::Cpu)), |total, part| total + part);
        Tensor::f_run_backward(&[loss], &tensors, false, false)?;
        Ok(())
    };
    let (mut plain, mut armed, mut waits) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..iterations + 3 {
        mpi.barrier()?;
        let started = Instant::now();
        backward()?;
        let plain_ms = started.elapsed().as_secs_f64() * 1e3;
        mpi.barrier()?;
        let started = Instant::now();
        reducer.begin_step()?;
        backward()?;
        let backward_ms = started.elapsed().as_secs_f64() * 1e3;
        reducer.finish_step()?;
        let armed_ms = started.elapsed().as_secs_f64() * 1e3;
        if round >= 3 {
            plain.push(plain_ms);
            armed.push(armed_ms);
            waits.push(armed_ms - backward_ms);
        }
    }
    // slim's own all-reduce path (the communication thread, the deadline wait) on one buffer of the same size.
    let flat = Tensor::ones([floats], (Kind::Float, Device::Cpu));
    let mut sums = Vec::new();
    for round in 0..iterations + 3 {
        mpi.barrier()?;
        let started = Instant::now();
        mpi.all_reduce_sum(&flat)?;
        if round >= 3 {
            sums.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    if mpi.world().is_chief() {
        println!(
            "reducer {workload} {floats} {} {:.4} {:.4} {} {:.4} {:.4} {:.4}",
            reducer.buckets(),
            median(plain),
            median(armed),
            reducer.overlapped_buckets(),
            median(waits),
            median(sums.clone()),
            sums.iter().copied().fold(f64::INFINITY, f64::min)
        );
    }
    Ok(())
}

/// `steps` training steps (after 3 warm-up steps) of `workload` at `batch` examples per rank, data-parallel
/// when an MPI launcher started several ranks; rank 0 prints `train <median ms>`.
fn train_steps(workload: &str, batch: i64, steps: usize) -> Result<()> {
    let launched = slim::distributed::World::from_env()?.filter(|world| world.size() > 1);
    let vs = VarStore::new(Device::Cpu);
    let forward = build(workload, &vs)?;
    let learning_rate = if workload == "w1" { 0.01 } else { 0.1 };
    let mut builder = create_train_op(&vs, Momentum::new(0.9)?, learning_rate);
    let mut chief = true;
    if launched.is_some() {
        let mpi = Mpi::init()?;
        chief = mpi.world().is_chief();
        builder = builder.distributed(mpi);
    }
    let mut train_op = builder.build()?;
    let shape = match workload {
        "w1" => [batch, 1, 28, 28],
        _ => [batch, 3, 32, 32],
    };
    let images = Tensor::randn(shape, (Kind::Float, Device::Cpu));
    let labels = Tensor::randint(10, [batch], (Kind::Int64, Device::Cpu));
    let _store = vs.as_default();
    let mut times = Vec::new();
    for step in 0..steps + 3 {
        let started = Instant::now();
        train_op.step(|| {
            let logits = forward(&images)?;
            let _ = sparse_softmax_cross_entropy(&logits, &labels).call()?;
            get_total_loss(true)
        })?;
        if step >= 3 {
            times.push(started.elapsed().as_secs_f64() * 1e3);
        }
    }
    if chief {
        println!("train {:.3}", median(times));
    }
    Ok(())
}
