//! The reducer: every user intent is an [`Action`], and `reduce` is the only place that
//! changes the run. The heavy state (recordings, snapshots, cursor simulations) lives in
//! an [`Engine`] behind a `RefCell`, so an action costs no copy of it; `rev` tells Yew
//! that something changed.

use std::cell::RefCell;
use std::rc::Rc;

use yew::Reducible;

use super::browser;
use super::engine::Engine;

pub enum Action {
    /// An animation frame: compute ahead, move the cursor if playing.
    Frame,
    TogglePlay,
    Step,
    StepBack,
    Seek(u64),
    SetSpeed(u64),
    NextEvent,
    PrevEvent,
    NextChapter,
    PrevChapter,
    Home,
    End,
    Reset,
    SetKnob(String, String),
    SetPreset(String),
    UndoFork,
    LoadScenario(String),
    SetParam(String, u64),
    /// A parameter field whose text is not a number: said beside the fields, in place of
    /// the last such message.
    RejectParam(String),
    ResetParams,
    SetCompare(bool),
    SetComparePane(usize, Option<String>),
    SelectTask(Option<usize>),
    SetFilter(String),
    SetTab(&'static str),
    TogglePresenter,
    ToggleHelp,
    CloseOverlays,
    TogglePredict,
    Predict(usize, String),
    Reveal,
    DismissMessages,
    Message(String),
}

pub struct Player {
    pub engine: Rc<RefCell<Engine>>,
    pub rev: u64,
}

impl PartialEq for Player {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.engine, &other.engine) && self.rev == other.rev
    }
}

/// Per-frame compute-ahead budget while paused: the rest of a 16.7 ms frame is left for
/// rendering and input, so the page stays responsive while a run is recomputed.
const FRAME_BUDGET_MS: f64 = 10.0;
/// While playing, the app's whole per-frame work should stay under 8 ms (p95).
const PLAYING_BUDGET_MS: f64 = 3.0;
/// After an action that recomputes the future (a knob, a preset, a parameter, undo, a
/// scenario), compute this long at once — the recompute budget: a default-length
/// run is then complete in the first screen, and a longer one shows its first part and
/// fills in per frame.
const RECOMPUTE_BUDGET_MS: f64 = 50.0;

impl Reducible for Player {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        {
            let mut e = self.engine.borrow_mut();
            let start = browser::now_ms();
            let recomputes = matches!(
                action,
                Action::SetKnob(..)
                    | Action::SetPreset(_)
                    | Action::UndoFork
                    | Action::LoadScenario(_)
                    | Action::SetParam(..)
                    | Action::ResetParams
                    | Action::SetCompare(_)
                    | Action::SetComparePane(..)
            );
            match action {
                Action::Frame => {
                    browser::frame_started();
                    let start = browser::now_ms();
                    let budget = if e.playing {
                        PLAYING_BUDGET_MS
                    } else {
                        FRAME_BUDGET_MS
                    };
                    e.frame(&|| browser::now_ms() - start < budget);
                }
                Action::TogglePlay => e.toggle_play(),
                Action::Step => e.step(true),
                Action::StepBack => e.step(false),
                Action::Seek(t) => {
                    e.playing = false;
                    e.seek(t);
                }
                Action::SetSpeed(s) => e.set_speed(s),
                Action::NextEvent => e.next_event(true),
                Action::PrevEvent => e.next_event(false),
                Action::NextChapter => e.next_chapter(true),
                Action::PrevChapter => e.next_chapter(false),
                Action::Home => {
                    e.playing = false;
                    e.seek(0);
                }
                Action::End => {
                    e.playing = false;
                    // The end may not be computed yet: aim past it; frames catch up.
                    e.seek(u64::MAX / 2);
                }
                Action::Reset => e.reset(),
                Action::SetKnob(k, v) => e.set_knob(&k, &v),
                Action::SetPreset(p) => e.set_preset(&p),
                Action::UndoFork => e.undo_fork(),
                Action::LoadScenario(name) => e.load_scenario(&name),
                Action::SetParam(ptr, v) => e.set_param(&ptr, v),
                Action::RejectParam(why) => e.param_error = Some(why),
                Action::ResetParams => e.reset_params(),
                Action::SetCompare(on) => e.set_compare_on(on),
                Action::SetComparePane(i, p) => e.set_compare_pane(i, p),
                Action::SelectTask(t) => e.selected_task = t,
                Action::SetFilter(f) => e.event_filter = f,
                Action::SetTab(t) => e.tab = t,
                Action::TogglePresenter => e.presenter = !e.presenter,
                Action::ToggleHelp => e.help_open = !e.help_open,
                Action::CloseOverlays => e.help_open = false,
                Action::TogglePredict => {
                    e.predict = !e.predict;
                    e.revealed = false;
                }
                Action::Predict(i, o) => {
                    if let Some(p) = e.predictions.get_mut(i) {
                        *p = o;
                    }
                }
                Action::Reveal => e.revealed = true,
                Action::DismissMessages => e.messages.clear(),
                Action::Message(m) => e.messages.push(m),
            }
            if recomputes {
                e.compute(&|| browser::now_ms() - start < RECOMPUTE_BUDGET_MS);
                let target = e.target;
                e.seek(target);
                let computed = e
                    .panes()
                    .iter()
                    .map(|p| p.rec.computed_tick())
                    .min()
                    .unwrap_or(0);
                browser::publish_recompute(browser::now_ms() - start, e.all_done(), computed);
            }
        }
        Rc::new(Player {
            engine: self.engine.clone(),
            rev: self.rev + 1,
        })
    }
}
