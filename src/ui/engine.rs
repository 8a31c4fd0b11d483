//! The state the [`super::player::Player`] reducer owns: the scenario, one recorded run per
//! pane (one pane normally, 2–4 in compare mode), the shared cursor and the transport.
//! Every user intent arrives as an `Action` and lands in one method here; the panels only
//! read.

use std::cell::RefCell;
use std::rc::Rc;

use crate::charts::lanes::LaneCache;
use crate::scenario::{self, Scenario};
use crate::share::event_filter::FilterIndex;
use crate::share::params::{self, Edit};
use crate::share::recording::{Fork, Recording, SNAPSHOT_EVERY};
use crate::share::url::{self, UrlState, COMPARE_MAX, MODEL_VERSION, SPEEDS};
use crate::sim::policy::{self, Knobs};
use crate::sim::Sim;

/// Ticks computed per `advance` call between two clock checks.
const COMPUTE_CHUNK: u64 = 1000;
/// While a run is still being computed, its charts redraw every this many frames.
const REDRAW_EVERY: u32 = 6;

/// One policy's run: its recording and a cursor simulation at the shared time.
pub struct Pane {
    /// `linux-4.7`, or `linux-4.7 + 1 knob` when knobs differ from the preset.
    pub label: String,
    pub preset: String,
    pub rec: Recording,
    pub cursor: Sim,
    /// Bumped whenever the recording changes (more computed, a fork): charts redraw on it.
    pub data_rev: u64,
    /// Compute rounds since `data_rev` was last bumped.
    computes_since_redraw: u32,
    /// The events matching the event log's filter, brought up to date where it is read
    /// (the log, Shift+←/→): a `RefCell` because rendering only borrows the engine.
    pub filter: RefCell<FilterIndex>,
    /// The lanes' pixel columns from the last draw, extended on the next.
    pub lane_cache: RefCell<LaneCache>,
    /// The words for a stall that has ended, keyed by (recording generation, resume tick).
    pub stall_words: RefCell<Option<((u64, u64), String)>>,
}

impl Pane {
    fn new(sc: &Scenario, preset: &str, knobs: Knobs, label: String) -> Pane {
        let sim = Sim::new(sc.config.clone(), knobs);
        let rec = Recording::new(sim.clone(), &sc.file.chapter_starts());
        Pane {
            label,
            preset: preset.to_string(),
            rec,
            cursor: sim,
            data_rev: 0,
            computes_since_redraw: 0,
            filter: RefCell::default(),
            lane_cache: RefCell::default(),
            stall_words: RefCell::default(),
        }
    }

    /// The cursor's tick for a shared target: clamped to what this pane has computed.
    pub fn tick(&self) -> u64 {
        self.cursor.tick()
    }

    /// The outcome shown at the cursor: only once the cursor stands at the run's end.
    pub fn outcome_at_cursor(&self) -> Option<&crate::sim::outcome::Outcome> {
        (self.rec.is_done() && self.cursor.tick() >= self.rec.computed_tick())
            .then(|| self.rec.outcome())
            .flatten()
    }

    fn seek(&mut self, tick: u64) {
        self.rec.seek(&mut self.cursor, tick);
    }

    /// Re-seeks from a snapshot (the recording changed under the cursor).
    fn reseek(&mut self, tick: u64) {
        self.cursor = self.rec.sim_at(tick);
        self.data_rev += 1;
    }
}

pub struct Engine {
    pub scenario: Rc<Scenario>,
    pub scenario_name: String,
    pub edits: Vec<Edit>,
    pub preset: String,
    /// Knob values changed from the preset at tick 0 (the URL's `k`).
    pub knobs: Vec<(String, String)>,
    pub seed: Option<u64>,
    pub single: Pane,
    pub compare_on: bool,
    pub compare: Vec<String>,
    pub compare_panes: Vec<Pane>,
    /// The shared time the cursor aims at (may run ahead of what is computed).
    pub target: u64,
    pub playing: bool,
    pub speed: u64,
    pub loop_ticks: Option<(u64, u64)>,
    pub selected_task: Option<usize>,
    pub event_filter: String,
    pub presenter: bool,
    pub embed: bool,
    pub help_open: bool,
    pub predict: bool,
    pub revealed: bool,
    pub predictions: Vec<String>,
    /// Problems to show: bad URL fields, rejected parameter edits.
    pub messages: Vec<String>,
    pub param_error: Option<String>,
    pub tab: &'static str,
    /// Forks undone, for redo-free "undo": the previous branches' fork lists.
    fork_history: Vec<Vec<Fork>>,
    /// The run a change of policy at 0 s replaced, kept so that changing back (a teacher
    /// flipping between two kernels in front of a class) shows it at once instead of
    /// computing it again. One run only: a whole recording is tens of megabytes, and the
    /// page's memory never shrinks. Taken back only when it is the same scenario (the
    /// same `Rc`: a parameter edit makes a new one), preset and knobs, and has no forks.
    previous: Option<(Rc<Scenario>, Pane)>,
    /// The scenario `single` was built from (none for the placeholder before the first).
    single_scenario: Option<Rc<Scenario>>,
}

fn pane_label(preset: &str, knobs: &[(String, String)]) -> String {
    match knobs.len() {
        0 => preset.to_string(),
        1 => format!("{preset} + {}={}", knobs[0].0, knobs[0].1),
        n => format!("{preset} + {n} knobs"),
    }
}

impl Engine {
    /// Builds the engine from a (parsed) URL state; problems go to `messages`.
    pub fn from_url(
        st: &UrlState,
        mut messages: Vec<String>,
        edits_text: Option<String>,
    ) -> Engine {
        let file = scenario::builtin(&st.scenario).expect("url::parse returns a built-in name");
        let mut edits = edits_text
            .as_deref()
            .map(params::decode_edits)
            .transpose()
            .unwrap_or_else(|e| {
                messages.push(format!("e: {e}; scenario parameters not changed"));
                None
            });
        let mut sc = match &edits {
            Some(list) => params::apply(&file, list).unwrap_or_else(|e| {
                messages.push(format!("e: {e}; scenario parameters not changed"));
                edits = None;
                scenario::validate(file.clone()).expect("built-in scenarios validate")
            }),
            None => scenario::validate(file.clone()).expect("built-in scenarios validate"),
        };
        if let Some(seed) = st.seed {
            sc.config.seed = seed;
            sc.file.seed = seed;
        }
        let speed = st.speed.unwrap_or(10);
        let mut e = Engine {
            scenario: Rc::new(sc),
            scenario_name: st.scenario.clone(),
            edits: edits.unwrap_or_default(),
            preset: st.preset.clone(),
            knobs: st.knobs.clone(),
            seed: st.seed,
            single: placeholder_pane(),
            compare_on: !st.compare.is_empty(),
            compare: st.compare.clone(),
            compare_panes: Vec::new(),
            target: st.tick,
            playing: st.autoplay,
            speed,
            loop_ticks: st.loop_ticks,
            selected_task: None,
            event_filter: st.event_filter.clone().unwrap_or_default(),
            presenter: st.presenter,
            embed: st.embed,
            help_open: false,
            predict: st.predict,
            revealed: false,
            predictions: Vec::new(),
            messages,
            param_error: None,
            tab: "events",
            previous: None,
            single_scenario: None,
            fork_history: Vec::new(),
        };
        e.rebuild_single();
        if !st.forks.is_empty() {
            e.single.rec.set_forks(st.forks.clone());
        }
        if e.compare_on && e.compare.len() < 2 {
            e.messages
                .push("cmp: compare mode needs at least 2 presets; showing one".to_string());
            e.compare_on = false;
        }
        e.rebuild_compare();
        if let Some(name) = &st.task {
            e.selected_task = e.scenario.config.task_index(name);
            if e.selected_task.is_none() {
                e.messages
                    .push(format!("task={name}: no such task in this scenario"));
            }
        }
        if st.loop_ticks.is_some() && st.tick == 0 {
            e.target = st.loop_ticks.map_or(0, |(a, _)| a);
        }
        e
    }

    /// The knobs of `preset` on this scenario (plus its own overrides and `extra`).
    pub fn base_knobs(&self, preset: &str, extra: &[(String, String)]) -> Knobs {
        let mut knobs = (policy::preset(preset)
            .expect("preset names are checked")
            .knobs)();
        for (k, v) in &self.scenario.file.knobs {
            let _ = knobs.set(k, v);
        }
        for (k, v) in extra {
            let _ = knobs.set(k, v);
        }
        knobs
    }

    fn rebuild_single(&mut self) {
        let knobs = self.base_knobs(&self.preset, &self.knobs);
        let label = pane_label(&self.preset, &self.knobs);
        let rev = self.single.data_rev + 1;
        let kept = self.previous.take().filter(|(sc, pane)| {
            Rc::ptr_eq(sc, &self.scenario)
                && pane.preset == self.preset
                && pane.label == label
                && pane.rec.forks().is_empty()
                && *pane.rec.base().knobs() == knobs
        });
        let pane = match kept {
            Some((_, pane)) => pane,
            None => Pane::new(&self.scenario, &self.preset, knobs, label),
        };
        let replaced = std::mem::replace(&mut self.single, pane);
        let replaced_scenario = self.single_scenario.replace(self.scenario.clone());
        // A run with forks is a branch of history, not a policy to change back to; a run of
        // a scenario since edited can never be taken back (an edit makes a new scenario).
        if let Some(sc) = replaced_scenario
            .filter(|sc| Rc::ptr_eq(sc, &self.scenario) && replaced.rec.forks().is_empty())
        {
            self.previous = Some((sc, replaced));
        }
        self.single.data_rev = rev;
    }

    fn rebuild_compare(&mut self) {
        let panes = self
            .compare
            .iter()
            .map(|p| Pane::new(&self.scenario, p, self.base_knobs(p, &[]), p.clone()))
            .collect();
        self.compare_panes = panes;
        self.predictions = vec![String::new(); self.compare.len()];
        self.revealed = false;
    }

    pub fn panes(&self) -> Vec<&Pane> {
        if self.compare_on {
            self.compare_panes.iter().collect()
        } else {
            vec![&self.single]
        }
    }

    fn panes_mut(&mut self) -> Vec<&mut Pane> {
        if self.compare_on {
            self.compare_panes.iter_mut().collect()
        } else {
            vec![&mut self.single]
        }
    }

    /// The time on screen: the furthest any pane's cursor stands.
    pub fn tick(&self) -> u64 {
        self.panes().iter().map(|p| p.tick()).max().unwrap_or(0)
    }

    /// The end of the run(s) once known, else the scenario's duration.
    pub fn end_tick(&self) -> u64 {
        let panes = self.panes();
        if panes.iter().all(|p| p.rec.is_done()) {
            panes
                .iter()
                .map(|p| p.rec.computed_tick())
                .max()
                .unwrap_or(0)
        } else {
            self.scenario.config.duration_ticks
        }
    }

    pub fn all_done(&self) -> bool {
        self.panes().iter().all(|p| p.rec.is_done())
    }

    /// Whether the page needs animation frames (playing, or runs still computing).
    pub fn needs_frames(&self) -> bool {
        self.playing
            || !self.all_done()
            || self
                .panes()
                .iter()
                .any(|p| p.tick() < self.target.min(p.rec.computed_tick()))
    }

    /// One animation frame: compute ahead within `budget`, advance the cursor if playing.
    /// `time_left` says whether the frame's compute budget has time left.
    pub fn frame(&mut self, time_left: &dyn Fn() -> bool) {
        self.compute(time_left);
        if self.playing {
            let now = self.tick();
            let computed_min = self
                .panes()
                .iter()
                .filter(|p| !p.rec.is_done())
                .map(|p| p.rec.computed_tick())
                .min();
            let mut next = now + self.speed;
            // At speeds of a snapshot interval or more, land on snapshot ticks: the cursor
            // is then a restore without replay, and the numbers shown are still exact.
            if self.speed >= SNAPSHOT_EVERY {
                next = (next + SNAPSHOT_EVERY / 2) / SNAPSHOT_EVERY * SNAPSHOT_EVERY;
            }
            if let Some(limit) = computed_min {
                next = next.min(limit.max(now));
            }
            if let Some((from, to)) = self.loop_ticks {
                if next >= to {
                    next = from;
                }
            } else if self.all_done() && next >= self.end_tick() {
                next = self.end_tick();
                self.playing = false;
            }
            self.target = next;
        }
        self.sync_cursors();
    }

    /// Computes ahead, a chunk per pane in turn, while `time_left`. Charts redraw (the
    /// pane's `data_rev`) when a pane finishes, and otherwise every few calls only: a
    /// redraw of every chart on every frame would eat the time meant for computing.
    pub fn compute(&mut self, time_left: &dyn Fn() -> bool) {
        let mut progressed = true;
        let mut touched = vec![false; self.panes().len()];
        while progressed && time_left() {
            progressed = false;
            for (i, pane) in self.panes_mut().into_iter().enumerate() {
                if !pane.rec.is_done() {
                    pane.rec.advance(COMPUTE_CHUNK);
                    touched[i] = true;
                    progressed = true;
                }
            }
        }
        for (i, pane) in self.panes_mut().into_iter().enumerate() {
            if touched[i] {
                pane.computes_since_redraw += 1;
                if pane.rec.is_done() || pane.computes_since_redraw >= REDRAW_EVERY {
                    pane.computes_since_redraw = 0;
                    pane.data_rev += 1;
                }
            }
        }
    }

    fn sync_cursors(&mut self) {
        let target = self.target;
        for pane in self.panes_mut() {
            pane.seek(target);
        }
    }

    pub fn seek(&mut self, tick: u64) {
        self.target = tick;
        self.sync_cursors();
    }

    pub fn step(&mut self, forward: bool) {
        self.playing = false;
        let now = self.tick();
        let t = if forward {
            now + 1
        } else {
            now.saturating_sub(1)
        };
        self.seek(t.min(self.end_tick()));
    }

    pub fn toggle_play(&mut self) {
        if !self.playing
            && self.all_done()
            && self.tick() >= self.end_tick()
            && self.loop_ticks.is_none()
        {
            // Play at the end starts over, as a video player does.
            self.seek(0);
        }
        self.playing = !self.playing;
    }

    pub fn set_speed(&mut self, speed: u64) {
        self.speed = if SPEEDS.contains(&speed) { speed } else { 10 };
    }

    pub fn next_event(&mut self, forward: bool) {
        self.playing = false;
        let now = self.tick();
        let pane = self.panes()[0];
        let mut index = pane.filter.borrow_mut();
        index.update(&pane.rec, &self.event_filter);
        // An event emitted by the step from tick t is visible from cursor t + 1 on.
        let found = if forward {
            index.first_from(&pane.rec, now)
        } else {
            index.last_before(&pane.rec, now.saturating_sub(1))
        }
        .map(|i| pane.rec.events()[i].0 + 1);
        drop(index);
        if let Some(t) = found {
            self.seek(t);
        }
    }

    /// Chapter start ticks of the (first) pane, resolved so far.
    pub fn chapter_ticks(&self) -> Vec<Option<u64>> {
        self.panes()[0].rec.chapters().to_vec()
    }

    /// The chapter the cursor is in: the last one that has started.
    pub fn current_chapter(&self) -> Option<usize> {
        let now = self.tick();
        let ticks = self.chapter_ticks();
        let mut best: Option<(usize, u64)> = None;
        for (i, t) in ticks.iter().enumerate() {
            if let Some(t) = t {
                if *t <= now && best.is_none_or(|(_, b)| *t >= b) {
                    best = Some((i, *t));
                }
            }
        }
        best.map(|(i, _)| i)
    }

    pub fn next_chapter(&mut self, forward: bool) {
        self.playing = false;
        let now = self.tick();
        let mut ticks: Vec<u64> = self.chapter_ticks().into_iter().flatten().collect();
        ticks.sort_unstable();
        ticks.dedup();
        let t = if forward {
            ticks.into_iter().find(|t| *t > now)
        } else {
            ticks.into_iter().rev().find(|t| *t < now)
        };
        if let Some(t) = t {
            self.seek(t);
        } else if forward {
            self.seek(self.end_tick());
        } else {
            self.seek(0);
        }
    }

    /// A knob change: at tick 0 it changes the starting policy, later it forks.
    pub fn set_knob(&mut self, knob: &str, value: &str) {
        let now = self.tick();
        let mut probe = self.single.cursor.knobs().clone();
        if let Err(e) = probe.set(knob, value) {
            self.messages.push(e.0);
            return;
        }
        if now == 0 && self.single.rec.forks().is_empty() {
            self.knobs.retain(|(k, _)| k != knob);
            let preset_value = self.base_knobs(&self.preset, &[]).get(knob);
            if preset_value.as_deref() != Some(value) {
                self.knobs.push((knob.to_string(), value.to_string()));
            }
            self.rebuild_single();
            self.seek(0);
            return;
        }
        self.fork_history.push(self.single.rec.forks().to_vec());
        self.single.rec.fork(now, knob, value);
        self.single.reseek(now);
    }

    pub fn undo_fork(&mut self) {
        if let Some(prev) = self.fork_history.pop() {
            self.single.rec.set_forks(prev);
        } else if self.single.rec.undo_fork().is_none() {
            return;
        }
        let now = self.tick();
        self.single.reseek(now);
    }

    /// A preset chosen in the picker: at tick 0 the starting policy, later a fork of every
    /// knob that differs.
    pub fn set_preset(&mut self, name: &str) {
        if policy::preset(name).is_none() {
            return;
        }
        if self.tick() == 0 && self.single.rec.forks().is_empty() {
            self.preset = name.to_string();
            self.knobs.clear();
            self.rebuild_single();
            self.seek(0);
            return;
        }
        let now = self.tick();
        let want = self.base_knobs(name, &[]);
        let diff = want.diff(self.single.cursor.knobs());
        if diff.is_empty() {
            return;
        }
        self.fork_history.push(self.single.rec.forks().to_vec());
        for (k, v) in diff {
            self.single.rec.fork(now, k, &v);
        }
        self.single.reseek(now);
    }

    pub fn load_scenario(&mut self, name: &str) {
        let Some(file) = scenario::builtin(name) else {
            return;
        };
        let keep = (self.presenter, self.embed, self.speed);
        let st = UrlState {
            compare: if self.compare_on {
                self.compare.clone()
            } else {
                Vec::new()
            },
            ..UrlState::default_for(name)
        };
        let _ = file;
        *self = Engine::from_url(&st, Vec::new(), None);
        (self.presenter, self.embed, self.speed) = keep;
    }

    /// A scenario parameter edited in place: validated, then the run restarts.
    pub fn set_param(&mut self, pointer: &str, value: u64) {
        let mut edits = self.edits.clone();
        edits.retain(|e| e.pointer != pointer);
        let file = scenario::builtin(&self.scenario_name).expect("current scenario is built in");
        let original = params::params(&file)
            .into_iter()
            .find(|p| p.pointer == pointer)
            .map(|p| p.value);
        if original != Some(value) {
            edits.push(Edit {
                pointer: pointer.to_string(),
                value,
            });
        }
        match params::apply(&file, &edits) {
            Ok(sc) => {
                self.param_error = None;
                self.edits = edits;
                self.seed = None;
                self.scenario = Rc::new(sc);
                self.fork_history.clear();
                // Forks are part of the policy's timeline: they survive a restart.
                let forks = self.single.rec.forks().to_vec();
                self.rebuild_single();
                if !forks.is_empty() {
                    self.single.rec.set_forks(forks);
                }
                self.rebuild_compare();
                self.playing = false;
                self.seek(0);
            }
            Err(e) => self.param_error = Some(e.0),
        }
    }

    pub fn reset_params(&mut self) {
        self.edits.clear();
        self.param_error = None;
        let name = self.scenario_name.clone();
        let keep = (self.preset.clone(), self.knobs.clone());
        self.load_scenario(&name);
        (self.preset, self.knobs) = keep;
        self.rebuild_single();
    }

    pub fn set_compare_on(&mut self, on: bool) {
        if on && self.compare.len() < 2 {
            let mut set = vec![self.preset.clone()];
            for p in ["linux-4.7+neilbrown", "linux-4.9", "linux-2.6.35"] {
                if set.len() < 3 && !set.iter().any(|s| s == p) {
                    set.push(p.to_string());
                }
            }
            self.compare = set;
            self.rebuild_compare();
        }
        let now = self.tick();
        self.compare_on = on;
        self.seek(now);
    }

    pub fn set_compare_pane(&mut self, index: usize, preset: Option<String>) {
        match preset {
            Some(p) if policy::preset(&p).is_some() => {
                if index < self.compare.len() {
                    self.compare[index] = p;
                } else if self.compare.len() < COMPARE_MAX {
                    self.compare.push(p);
                }
            }
            None if self.compare.len() > 2 && index < self.compare.len() => {
                self.compare.remove(index);
            }
            _ => return,
        }
        self.rebuild_compare();
        let now = self.tick();
        self.seek(now);
    }

    pub fn reset(&mut self) {
        self.playing = false;
        self.seek(0);
    }

    /// The URL state of what is on screen.
    pub fn url_state(&self, edits_blob: Option<String>) -> UrlState {
        UrlState {
            version: MODEL_VERSION,
            scenario: self.scenario_name.clone(),
            preset: self.preset.clone(),
            knobs: self.knobs.clone(),
            seed: self.seed,
            tick: self.tick(),
            forks: self.single.rec.forks().to_vec(),
            compare: if self.compare_on {
                self.compare.clone()
            } else {
                Vec::new()
            },
            edits: edits_blob,
            task: self
                .selected_task
                .map(|t| self.scenario.config.tasks[t].name.clone()),
            event_filter: (!self.event_filter.is_empty()).then(|| self.event_filter.clone()),
            presenter: self.presenter,
            predict: self.predict,
            embed: self.embed,
            autoplay: false,
            speed: (self.speed != 10).then_some(self.speed),
            loop_ticks: self.loop_ticks,
        }
    }

    /// Query string for the current state (`edits` compacted by the caller's encoder).
    pub fn query(&self, encode_edits: &dyn Fn(&str) -> String) -> String {
        let blob =
            (!self.edits.is_empty()).then(|| encode_edits(&params::encode_edits(&self.edits)));
        url::format(&self.url_state(blob))
    }
}

/// A tiny valid pane used only while the engine is being built.
fn placeholder_pane() -> Pane {
    let sc =
        scenario::validate(scenario::builtin(url::DEFAULT_SCENARIO).expect("default scenario"))
            .expect("validates");
    let knobs = sc.knobs.clone();
    Pane::new(&sc, &sc.file.default_preset, knobs, String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    fn engine(query: &str) -> Engine {
        let (st, errors) = url::parse(query);
        let edits = st
            .edits
            .as_deref()
            .map(|b| crate::ui::browser::expand(b).unwrap());
        let mut e = Engine::from_url(&st, errors, edits);
        while !e.all_done() {
            e.frame(&|| true);
        }
        e.seek(st.tick);
        e
    }

    /// The URL the app writes reads back to the same screen: same time, same numbers.
    #[wasm_bindgen_test]
    fn url_round_trip_reproduces_the_numbers() {
        let mut a = engine("?s=dm-crypt-swap&p=linux-4.7&t=1.5");
        a.set_knob("mempool_variant", "neilbrown");
        a.set_param("/pools/2/min_nr", 128);
        while !a.all_done() {
            a.frame(&|| true);
        }
        a.seek(2345);
        let query = a.query(&crate::ui::browser::compact);
        assert!(query.contains("t=2.345") && query.contains("e="), "{query}");
        let b = engine(&query);
        assert!(b.messages.is_empty(), "{:?}", b.messages);
        assert_eq!(b.tick(), 2345);
        assert_eq!(b.single.cursor.snapshot(), a.single.cursor.snapshot());
        assert_eq!(b.query(&crate::ui::browser::compact), query);
    }

    /// Step then step back is exact.
    #[wasm_bindgen_test]
    fn step_back_is_exact() {
        let mut e = engine("?s=watermarks-101&t=2");
        let before = e.single.cursor.snapshot();
        e.step(true);
        assert_eq!(e.tick(), 2001);
        e.step(false);
        assert_eq!(e.single.cursor.snapshot(), before);
    }

    /// A bad URL falls back to the default screen with messages, never a panic.
    #[wasm_bindgen_test]
    fn garbage_falls_back() {
        let e = engine("?s=%zz&t=x&cmp=linux-4.7&e=%%%");
        assert_eq!(e.scenario_name, url::DEFAULT_SCENARIO);
        assert!(!e.compare_on, "one preset is not a comparison");
        assert!(e.messages.len() >= 3, "{:?}", e.messages);
    }
}
