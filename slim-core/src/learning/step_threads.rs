//! Intra-op threads for training steps: a small network's whole step (forward, backward, update) can run faster
//! on one thread than on several, because each parallel op hands its data between cores and the next op writes
//! what the other core last read. [`TrainOp::step`](super::TrainOp::step) times both now and then and runs its
//! steps with the faster; the rest of the program keeps its thread count.

use std::time::Duration;

use crate::backend::CpuPath;
use crate::native;

/// Whether [`TrainOp::step`](super::TrainOp::step) tries one thread against the calling thread's count and keeps
/// the faster ([`Config::tune_step_threads`](crate::backend::Config::tune_step_threads), on by default), rather
/// than always running with the calling thread's count.
pub(crate) fn tune_step_threads_enabled() -> bool {
    CpuPath::TuneStepThreads.enabled()
}

/// Steps run with the thread's own count before the first trial: the first steps allocate and warm caches.
const WARMUP_STEPS: u64 = 3;
/// Steps in one block of a trial; the first of each block pays for the switch and is not counted.
const BLOCK_STEPS: u64 = 4;
/// Blocks in a full trial, alternating the thread's own count and one thread, starting with its own.
const TRIAL_BLOCKS: u64 = 6;
/// One thread is kept only when its median step is at least this much shorter (3%).
const REQUIRED_GAIN: f64 = 0.03;
/// After the first one-thread block, a median this much longer than the own count's ends the trial early, so
/// that large networks pay for four one-thread steps per trial, not twelve.
const GIVE_UP_RATIO: f64 = 1.2;
/// Steps from the end of the first trial to the start of the next (the machine's state changes, so the choice is
/// checked again); the distance doubles after each trial, and is back to this after one that changes the choice.
const FIRST_INTERVAL: u64 = 500;
/// The longest interval between trials.
const LONGEST_INTERVAL: u64 = 8000;

/// How the next step runs and whether its time counts in the trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StepPlan {
    /// Run the step on one thread (else with the calling thread's own count).
    pub(crate) one_thread: bool,
    /// Record the step's time for the running trial.
    pub(crate) counted: bool,
}

/// The schedule and the decision, fed with step times: a few warm-up steps, then a trial of alternating blocks,
/// then the faster choice until the next trial.
#[derive(Debug)]
pub(crate) struct ThreadTrial {
    /// Where the next step falls.
    phase: Phase,
    /// Whether settled steps run on one thread.
    one_thread: bool,
    /// Steps between the end of this trial and the next.
    interval: u64,
    /// Counted step times of the running trial: the own count's, then one thread's.
    samples: [Vec<f64>; 2],
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// This many steps left before the first trial.
    WarmingUp(u64),
    /// The position of the next step in the running trial.
    Trial(u64),
    /// This many steps left before the next trial.
    Settled(u64),
}

impl ThreadTrial {
    /// A trial schedule that starts with the thread's own count.
    pub(crate) fn new() -> Self {
        ThreadTrial {
            phase: Phase::WarmingUp(WARMUP_STEPS),
            one_thread: false,
            interval: FIRST_INTERVAL,
            samples: [Vec::new(), Vec::new()],
        }
    }

    /// Whether settled steps run on one thread (the last trial's choice).
    pub(crate) fn one_thread(&self) -> bool {
        self.one_thread
    }

    /// How the next step runs; moves the schedule on by one step.
    pub(crate) fn plan(&mut self) -> StepPlan {
        let settled = StepPlan { one_thread: self.one_thread, counted: false };
        let (plan, next) = match self.phase {
            Phase::WarmingUp(0) | Phase::Settled(0) => return self.start_trial(),
            Phase::WarmingUp(left) => (StepPlan { one_thread: false, counted: false }, Phase::WarmingUp(left - 1)),
            Phase::Settled(left) => (settled, Phase::Settled(left - 1)),
            Phase::Trial(position) if self.trial_over(position) => {
                self.decide();
                return self.plan();
            }
            Phase::Trial(position) => {
                let block = position / BLOCK_STEPS;
                let plan = StepPlan { one_thread: block % 2 == 1, counted: position % BLOCK_STEPS != 0 };
                (plan, Phase::Trial(position + 1))
            }
        };
        self.phase = next;
        plan
    }

    /// Records the time of a step run as `plan` said.
    pub(crate) fn record(&mut self, plan: StepPlan, time: Duration) {
        let Phase::Trial(position) = self.phase else { return };
        if plan.counted {
            self.samples[usize::from(plan.one_thread)].push(time.as_secs_f64());
        }
        if self.trial_over(position) {
            self.decide();
        }
    }

    fn start_trial(&mut self) -> StepPlan {
        self.samples.iter_mut().for_each(Vec::clear);
        self.phase = Phase::Trial(0);
        self.plan()
    }

    /// Whether the trial has run all its blocks, or, right after the first one-thread block, one thread is so much
    /// slower that the trial can stop (`position`: the next step's).
    fn trial_over(&self, position: u64) -> bool {
        position == BLOCK_STEPS * TRIAL_BLOCKS || position == 2 * BLOCK_STEPS && self.losing_clearly()
    }

    fn losing_clearly(&self) -> bool {
        match (median(&self.samples[0]), median(&self.samples[1])) {
            (Some(own), Some(one)) => one > own * GIVE_UP_RATIO,
            _ => false,
        }
    }

    /// Ends the trial: one thread when its median step is clearly shorter, and the next trial's distance.
    fn decide(&mut self) {
        let one_thread = match (median(&self.samples[0]), median(&self.samples[1])) {
            (Some(own), Some(one)) => one < own * (1.0 - REQUIRED_GAIN),
            _ => self.one_thread,
        };
        if one_thread != self.one_thread {
            self.interval = FIRST_INTERVAL;
        }
        self.phase = Phase::Settled(self.interval);
        self.interval = (self.interval * 2).min(LONGEST_INTERVAL);
        self.one_thread = one_thread;
    }
}

fn median(samples: &[f64]) -> Option<f64> {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied()
}

/// The calling thread runs on one thread until this is dropped, then gets its own count back.
pub(crate) struct OneThreadScope {
    own: i32,
}

impl OneThreadScope {
    /// Puts the calling thread on one thread (its count was `own`).
    pub(crate) fn enter(own: i32) -> Self {
        native::set_calling_thread_threads(1, false);
        OneThreadScope { own }
    }
}

impl Drop for OneThreadScope {
    fn drop(&mut self) {
        native::set_calling_thread_threads(self.own, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `steps` steps whose time is `own` or `one` milliseconds by thread count; returns each step's plan.
    fn run(trial: &mut ThreadTrial, steps: u64, own: f64, one: f64) -> Vec<StepPlan> {
        (0..steps)
            .map(|_| {
                let plan = trial.plan();
                let ms = if plan.one_thread { one } else { own };
                trial.record(plan, Duration::from_secs_f64(ms / 1e3));
                plan
            })
            .collect()
    }

    fn ones(plans: &[StepPlan]) -> Vec<bool> {
        plans.iter().map(|p| p.one_thread).collect()
    }

    #[test]
    fn warm_up_then_alternating_blocks_with_their_first_steps_uncounted() {
        let mut trial = ThreadTrial::new();
        let plans = run(&mut trial, 3 + 24, 1.0, 1.0);
        assert!(plans[..3].iter().all(|p| !p.one_thread && !p.counted));
        let blocks: Vec<Vec<bool>> = plans[3..].chunks(4).map(ones).collect();
        for (index, block) in blocks.iter().enumerate() {
            assert_eq!(block, &vec![index % 2 == 1; 4], "block {index}");
        }
        let counted: Vec<bool> = plans[3..7].iter().map(|p| p.counted).collect();
        assert_eq!(counted, [false, true, true, true]);
    }

    #[test]
    fn one_thread_is_kept_only_when_clearly_faster() {
        let mut faster = ThreadTrial::new();
        run(&mut faster, 27, 0.27, 0.22);
        assert!(faster.one_thread());
        assert_eq!(ones(&run(&mut faster, 500, 0.27, 0.22)), vec![true; 500]);

        let mut level = ThreadTrial::new();
        run(&mut level, 27, 0.27, 0.265);
        assert!(!level.one_thread(), "2% faster is within the required 3%");
    }

    #[test]
    fn a_clearly_slower_thread_ends_the_trial_after_one_block() {
        let mut trial = ThreadTrial::new();
        let plans = run(&mut trial, 3 + 8 + 500, 16.0, 25.0);
        assert_eq!(ones(&plans).iter().filter(|&&one| one).count(), 4);
        assert!(!trial.one_thread());
        // The next trial comes after the first interval, then twice as far once the choice held.
        let plans = run(&mut trial, 8 + 1000, 16.0, 25.0);
        assert_eq!(ones(&plans[..8]), [false, false, false, false, true, true, true, true]);
        assert!(ones(&plans[8..]).iter().all(|&one| !one));
    }

    #[test]
    fn a_later_trial_follows_the_machine_back() {
        let mut trial = ThreadTrial::new();
        run(&mut trial, 27 + 500, 0.27, 0.22);
        assert!(trial.one_thread());
        run(&mut trial, 24, 0.15, 0.22);
        assert!(!trial.one_thread(), "the second trial found the own count faster again");
    }
}
