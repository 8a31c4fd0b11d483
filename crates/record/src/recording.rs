//! A recorded run: the whole run is computed ahead (in chunks, so the page stays
//! responsive), keeping compact timeline points, task-state changes, events and a
//! [`Snapshot`] every [`SNAPSHOT_EVERY`] ticks. The cursor then moves through the
//! recording; the exact state at any tick is "restore the nearest snapshot at or before it
//! and replay", so step back and seek land on the same numbers every time.
//!
//! A knob change at tick `F` forks: everything before `F` stays, the future is recomputed
//! from the state at `F` under the new knobs. Forks are a list of `(tick, knob, value)`,
//! applied at the start of their tick, before it is stepped.
//!
//! Tick convention: "the state at tick T" is the simulation after T calls to `step` (what
//! `Sim::tick() == T` shows). Events emitted by the step that starts at tick `e` carry tick
//! `e`; they are visible at every cursor `T > e`.

use crate::point::Point;
use pressure_lab_sim::event::Event;
use pressure_lab_sim::outcome::Outcome;
use pressure_lab_sim::policy::Knobs;
use pressure_lab_sim::sample::{task_state, TaskState};
use pressure_lab_sim::{Sim, Snapshot};

use crate::klog;

/// Ticks between two snapshots. Replaying at most this many ticks takes ~0.7 ms natively
/// in the costliest scenario (swap-over-nbd, ~1.4 µs a tick): quick enough for step back
/// and scrubbing. Snapshots cost more than they look: every 256 ticks, cloning the state
/// (kcryptd's queue of bios under 4.7 holds hundreds of requests) was two thirds of
/// recording dm-crypt-swap (15.7 ms; 9.9 ms every 512 ticks) and 11 ms of swap-over-nbd's
/// 70. At most 512, so playing at ×1000 and ×5000 still lands on snapshot ticks (a restore,
/// no replay, per frame: see `Engine`'s play step).
pub const SNAPSHOT_EVERY: u64 = 512;
/// Timeline points kept per run at most (a point every `stride` ticks).
pub const POINTS_MAX: u64 = 60_000;
/// Events kept per run at most, 72 bytes each: three times what the busiest built-in run
/// records (swap-over-nbd: 166 000 in 41 s). Without a bound, swap-over-nbd edited to run
/// 600 s recorded 3.6 million (256 MB per pane, four panes in compare mode). Later events
/// still reach the kernel log, the chapters and the charts; only the event list stops.
pub const EVENTS_MAX: usize = 500_000;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fork {
    pub tick: u64,
    pub knob: String,
    pub value: String,
}

/// Where a narration chapter starts, as the scenario file says: at a simulated time, or
/// at the first event of a kind (for a task named in the scenario, in a kernel function).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChapterStart {
    At(u64),
    OnEvent {
        kind: String,
        task: Option<String>,
        function: Option<String>,
    },
}

/// A chapter trigger resolved against the recorded events.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Trigger {
    At(u64),
    OnEvent {
        kind: String,
        /// The task's index (a name no task has never matches).
        task: Option<usize>,
        function: Option<String>,
    },
}

pub struct Recording {
    /// The simulation at tick 0 under the base knobs: the template every seek starts from.
    base: Sim,
    forks: Vec<Fork>,
    /// A point every `stride` ticks (`points[i].tick == i * stride`), plus the final tick.
    stride: u64,
    points: Vec<Point>,
    /// Per task: (tick, state) whenever the state changed, starting at tick 0.
    lanes: Vec<Vec<(u64, TaskState)>>,
    events: Vec<(u64, Event)>,
    /// `snapshots[i]` is the state at tick `i * SNAPSHOT_EVERY`, before forks at that tick.
    snapshots: Vec<Snapshot>,
    triggers: Vec<Trigger>,
    /// The tick each chapter starts at, once the recording has reached it.
    chapters: Vec<Option<u64>>,
    klog: klog::Klog,
    /// The kernel functions of the recorded events, sorted, each once (the event filter's
    /// choices), kept up to date as events arrive instead of re-sorted on every render.
    functions: Vec<&'static str>,
    /// The simulation computing ahead.
    head: Sim,
    done: bool,
    /// The earliest tick a time-pinned chapter not yet reached starts at (checked on
    /// every tick; the triggers only when it is due).
    next_time_chapter_at: u64,
    /// Per event kind ([`Event::kind_index`]): whether a chapter not started yet waits
    /// for an event of that kind (most events concern none, and skip the triggers).
    watched_kinds: [bool; Event::KINDS.len()],
    /// The function of the last recorded event (already in `functions`).
    last_function: &'static str,
    /// Events kept at most ([`EVENTS_MAX`]; smaller in tests).
    events_max: usize,
    /// The tick of the first event not kept because the list was full.
    events_full_at: Option<u64>,
    /// Bumped whenever recorded history is thrown away (a fork, an undo), so what was
    /// derived from it (the event filter's index) knows to start over.
    generation: u64,
}

impl Recording {
    /// A recording of `sim` (at tick 0) that has computed nothing yet beyond tick 0.
    /// `chapters` are the scenario's narration chapters, in order
    /// (`ScenarioFile::chapter_starts`).
    pub fn new(sim: Sim, chapters: &[ChapterStart]) -> Recording {
        assert_eq!(sim.tick(), 0, "a recording starts at tick 0");
        let duration = sim.config().duration_ticks;
        let stride = duration.div_ceil(POINTS_MAX).max(1);
        let triggers = chapters
            .iter()
            .map(|c| match c {
                ChapterStart::At(at) => Trigger::At(*at),
                ChapterStart::OnEvent {
                    kind,
                    task,
                    function,
                } => Trigger::OnEvent {
                    kind: kind.clone(),
                    task: task.as_ref().map(|name| {
                        let tasks = &sim.config().tasks;
                        tasks
                            .iter()
                            .position(|t| &t.name == name)
                            .unwrap_or(usize::MAX)
                    }),
                    function: function.clone(),
                },
            })
            .collect::<Vec<_>>();
        let lanes = sim
            .state()
            .tasks
            .iter()
            .map(|t| vec![(0, task_state(t, 0))])
            .collect();
        let mut rec = Recording {
            base: sim.clone(),
            forks: Vec::new(),
            stride,
            points: Vec::new(),
            lanes,
            events: Vec::new(),
            snapshots: Vec::new(),
            chapters: vec![None; triggers.len()],
            triggers,
            klog: klog::Klog::default(),
            functions: Vec::new(),
            head: sim,
            done: false,
            generation: 0,
            events_full_at: None,
            events_max: EVENTS_MAX,
            next_time_chapter_at: 0,
            watched_kinds: [false; Event::KINDS.len()],
            last_function: "",
        };
        rec.points.push(Point::from_state(rec.head.state()));
        rec.watched_kinds = watched_kinds(&rec.triggers, &rec.chapters);
        rec.resolve_time_chapters();
        rec
    }

    pub fn base(&self) -> &Sim {
        &self.base
    }
    pub fn forks(&self) -> &[Fork] {
        &self.forks
    }
    pub fn points(&self) -> &[Point] {
        &self.points
    }
    pub fn lanes(&self) -> &[Vec<(u64, TaskState)>] {
        &self.lanes
    }
    /// The same recording keeping at most `n` events (for tests of the bound).
    pub fn with_events_max(mut self, n: usize) -> Recording {
        self.events_max = n;
        self
    }
    /// The recorded events in order, the first [`EVENTS_MAX`] of the run.
    pub fn events(&self) -> &[(u64, Event)] {
        &self.events
    }
    pub fn chapters(&self) -> &[Option<u64>] {
        &self.chapters
    }
    pub fn klog(&self) -> &klog::Klog {
        &self.klog
    }
    /// The kernel functions the recorded events name, sorted, each once.
    pub fn functions(&self) -> &[&'static str] {
        &self.functions
    }
    /// Whether the run has reached its outcome.
    pub fn is_done(&self) -> bool {
        self.done
    }
    /// The last tick computed so far (the run's end once [`Self::is_done`]).
    pub fn computed_tick(&self) -> u64 {
        self.head.tick()
    }
    /// The scenario's duration: the x axis while the run is still being computed.
    pub fn duration_ticks(&self) -> u64 {
        self.base.config().duration_ticks
    }
    /// The tick from which events are no longer kept ([`EVENTS_MAX`] reached), if so.
    pub fn events_full_at(&self) -> Option<u64> {
        self.events_full_at
    }
    /// Changes whenever recorded history is thrown away; see [`Recording::events`].
    pub fn generation(&self) -> u64 {
        self.generation
    }
    /// How the run ended, once it has.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.head.state().outcome.as_ref()
    }
    /// The simulation at the end of what is computed (for end-of-run summaries).
    pub fn head(&self) -> &Sim {
        &self.head
    }

    /// Computes at most `max_ticks` more ticks; returns how many were computed.
    pub fn advance(&mut self, max_ticks: u64) -> u64 {
        let mut n = 0;
        while n < max_ticks && !self.done {
            self.step_head();
            n += 1;
        }
        n
    }

    fn step_head(&mut self) {
        let t = self.head.tick();
        if t.is_multiple_of(SNAPSHOT_EVERY) && self.snapshots.len() as u64 == t / SNAPSHOT_EVERY {
            self.snapshots.push(self.head.snapshot());
        }
        apply_forks(&mut self.head, &self.forks, t);
        self.head.step();
        let now = self.head.tick();
        // Chapters, the kernel log and the function list see every event; the event list
        // keeps the first EVENTS_MAX.
        for ev in self.head.events() {
            if self.watched_kinds[ev.kind_index()]
                && resolve_event_chapters(&self.triggers, &mut self.chapters, t, ev)
            {
                self.watched_kinds = watched_kinds(&self.triggers, &self.chapters);
            }
            self.klog.record(t, ev, &self.head);
            let f = ev.function();
            // Runs of events name the same function: skip the list then.
            if !std::ptr::eq(f, self.last_function) {
                note_function(&mut self.functions, f);
                self.last_function = f;
            }
        }
        // The event list keeps the first EVENTS_MAX, moved out of the simulation.
        let room = self.events_max - self.events.len();
        if self.head.events().len() > room && self.events_full_at.is_none() {
            self.events_full_at = Some(t);
        }
        self.events
            .extend(self.head.drain_events().take(room).map(|ev| (t, ev)));
        for (lane, task) in self.lanes.iter_mut().zip(&self.head.state().tasks) {
            let s = task_state(task, now);
            // Every lane starts with an entry at tick 0, so `last` exists.
            if lane.last().is_some_and(|(_, last)| *last != s) {
                lane.push((now, s));
            }
        }
        self.done = self.head.is_finished() || now >= self.duration_ticks();
        if now.is_multiple_of(self.stride) || self.done {
            self.points.push(Point::from_state(self.head.state()));
        }
        self.resolve_time_chapters();
    }

    fn resolve_time_chapters(&mut self) {
        let now = self.head.tick();
        if now < self.next_time_chapter_at {
            return;
        }
        self.next_time_chapter_at = u64::MAX;
        for (i, trig) in self.triggers.iter().enumerate() {
            if let (None, Trigger::At(at)) = (self.chapters[i], trig) {
                if *at <= now {
                    self.chapters[i] = Some(*at);
                } else {
                    self.next_time_chapter_at = self.next_time_chapter_at.min(*at);
                }
            }
        }
    }

    /// Forks at `tick`: the knob takes `value` from then on; the future is recomputed.
    /// A fork at tick 0 is not a fork but a different starting policy: callers rebuild
    /// the recording with new base knobs instead.
    pub fn fork(&mut self, tick: u64, knob: &str, value: &str) {
        let tick = tick.min(self.head.tick());
        self.forks
            .retain(|f| f.tick < tick || (f.tick == tick && f.knob != knob));
        self.forks.push(Fork {
            tick,
            knob: knob.to_string(),
            value: value.to_string(),
        });
        self.truncate_to(tick);
    }

    /// Drops the last fork (undo), recomputing from its tick.
    pub fn undo_fork(&mut self) -> Option<Fork> {
        let last = self.forks.pop()?;
        self.truncate_to(last.tick);
        Some(last)
    }

    /// Replaces the whole fork list (from a URL) and recomputes from the earliest change.
    pub fn set_forks(&mut self, mut forks: Vec<Fork>) {
        forks.sort_by_key(|f| f.tick);
        self.forks = forks;
        self.truncate_to(0);
    }

    /// Forgets everything computed at or after `tick` and puts the head there.
    fn truncate_to(&mut self, tick: u64) {
        self.generation += 1;
        let mut head = self.base.clone();
        self.seek(&mut head, tick.min(self.head.tick()));
        let tick = head.tick();
        self.head = head;
        self.done = false;
        self.points.retain(|p| p.tick < tick);
        self.points.push(Point::from_state(self.head.state()));
        self.events.retain(|(t, _)| *t < tick);
        if self.events_full_at.is_some_and(|at| at >= tick) {
            self.events_full_at = None;
        }
        for (i, lane) in self.lanes.iter_mut().enumerate() {
            lane.retain(|(t, _)| *t <= tick);
            let s = task_state(&self.head.state().tasks[i], tick);
            if lane.last().map(|(_, l)| *l) != Some(s) {
                lane.push((tick, s));
            }
        }
        self.snapshots
            .truncate((tick / SNAPSHOT_EVERY + 1) as usize);
        for c in &mut self.chapters {
            if c.is_some_and(|at| at > tick) {
                *c = None;
            }
        }
        // A chapter an event started begins the tick after it, so the chapters reset here
        // were started by truncated events: no kept event can start them (it would have
        // started them first), and the events computed from here on will.
        self.watched_kinds = watched_kinds(&self.triggers, &self.chapters);
        self.next_time_chapter_at = 0;
        self.last_function = "";
        self.klog.truncate(tick);
        // Rebuilt the way events add to it (a sort here would be code of its own, 9 KB of
        // the page at this crate's opt-level).
        self.functions.clear();
        for (_, ev) in &self.events {
            let f = ev.function();
            if !std::ptr::eq(f, self.last_function) {
                note_function(&mut self.functions, f);
                self.last_function = f;
            }
        }
        self.resolve_time_chapters();
    }

    /// Moves `sim` (built from this recording's base) to the state at `tick` (clamped to
    /// what is computed), with the forks at `tick` applied. Steps forward when that is
    /// short, else restores the nearest snapshot and replays.
    pub fn seek(&self, sim: &mut Sim, tick: u64) {
        let tick = tick.min(self.head.tick());
        let cur = sim.tick();
        let idx = ((tick / SNAPSHOT_EVERY) as usize).min(self.snapshots.len().saturating_sub(1));
        let snap_tick = idx as u64 * SNAPSHOT_EVERY;
        // Restore when that replays fewer ticks than stepping on from where `sim` stands.
        if cur > tick || tick - cur > tick - snap_tick.min(tick) {
            match self.snapshots.get(idx) {
                Some(snap) => sim.restore(snap),
                None => *sim = self.base.clone(),
            }
        }
        loop {
            apply_forks(sim, &self.forks, sim.tick());
            if sim.tick() >= tick || sim.is_finished() {
                break;
            }
            sim.step();
        }
    }

    /// A fresh simulation at `tick` (see [`Self::seek`]).
    pub fn sim_at(&self, tick: u64) -> Sim {
        let mut sim = self.base.clone();
        self.seek(&mut sim, tick);
        sim
    }

    /// The task's state at `tick`, from the recorded lane.
    pub fn task_state_at(&self, task: usize, tick: u64) -> Option<TaskState> {
        let lane = self.lanes.get(task)?;
        let i = lane.partition_point(|(t, _)| *t <= tick);
        i.checked_sub(1).map(|i| lane[i].1)
    }

    /// The timeline point at or just before `tick`.
    pub fn point_at(&self, tick: u64) -> Option<&Point> {
        let i = self.points.partition_point(|p| p.tick <= tick);
        i.checked_sub(1).map(|i| &self.points[i])
    }
}

/// Starts the chapters `ev` (emitted by the step at `tick`) triggers; returns whether it
/// started any.
fn resolve_event_chapters(
    triggers: &[Trigger],
    chapters: &mut [Option<u64>],
    tick: u64,
    ev: &Event,
) -> bool {
    let mut started = false;
    let kind = ev.kind();
    for (i, trig) in triggers.iter().enumerate() {
        if chapters[i].is_some() {
            continue;
        }
        if let Trigger::OnEvent {
            kind: k,
            task: want_task,
            function,
        } = trig
        {
            if kind != k.as_str() || want_task.is_some_and(|w| ev.task() != Some(w)) {
                continue;
            }
            if function.as_deref().is_none_or(|f| f == ev.function()) {
                chapters[i] = Some(tick + 1);
                started = true;
            }
        }
    }
    started
}

/// Which event kinds a chapter not started yet waits for.
fn watched_kinds(triggers: &[Trigger], chapters: &[Option<u64>]) -> [bool; Event::KINDS.len()] {
    let mut watched = [false; Event::KINDS.len()];
    for (trig, c) in triggers.iter().zip(chapters) {
        if let (None, Trigger::OnEvent { kind, .. }) = (c, trig) {
            if let Some(i) = Event::KINDS.iter().position(|k| k == kind) {
                watched[i] = true;
            }
        }
    }
    watched
}

/// Adds `f` to the sorted list of kernel functions seen. Most events name a function
/// already listed: the pointer comparison finds those without comparing strings.
fn note_function(functions: &mut Vec<&'static str>, f: &'static str) {
    if functions.iter().any(|g| std::ptr::eq(*g, f)) {
        return;
    }
    if let Err(i) = functions.binary_search(&f) {
        functions.insert(i, f);
    }
}

fn apply_forks(sim: &mut Sim, forks: &[Fork], tick: u64) {
    if !forks.iter().any(|f| f.tick == tick) {
        return;
    }
    let mut knobs: Knobs = sim.knobs().clone();
    for f in forks.iter().filter(|f| f.tick == tick) {
        // Forks are validated before they are recorded; a stale one is skipped, not fatal.
        let _ = knobs.set(&f.knob, &f.value);
    }
    sim.set_knobs(knobs);
}
