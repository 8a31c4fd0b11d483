//! The app shell: builds the run from the URL, drives animation frames, keyboard
//! shortcuts and the address bar, and lays the panels out.

use std::cell::RefCell;
use std::rc::Rc;

use gloo::events::{EventListener, EventListenerOptions};
use gloo::render::request_animation_frame;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::browser;
use super::engine::Engine;
use super::player::{Action, Player};
use super::{
    cb, compare, controls, devices, events, help, insight, lanes, narration, policy, timeline,
    zones,
};
use crate::share::url;

/// Address-bar updates at most this often, the last one of a burst written when the time
/// is up: Safari refuses more than 100 `history.replaceState` calls in 30 s (and Firefox
/// rate-limits too), so stepping with a held arrow key must not write every step.
const URL_EVERY_MS: f64 = 500.0;

/// What the address bar was last given, when, and the write waiting for its turn.
struct UrlWriter {
    written: String,
    at_ms: f64,
    pending: Option<gloo::timers::callback::Timeout>,
}

fn initial_player() -> Player {
    let (st, mut errors) = url::parse(&browser::location_search());
    let edits = st
        .edits
        .as_deref()
        .and_then(|blob| match browser::expand(blob) {
            Ok(text) => Some(text),
            Err(e) => {
                errors.push(format!("e: {e}; scenario parameters not changed"));
                None
            }
        });
    Player {
        engine: Rc::new(RefCell::new(Engine::from_url(&st, errors, edits))),
        rev: 0,
    }
}

#[function_component]
pub fn App() -> Html {
    let player = use_reducer(initial_player);
    let d = player.dispatcher();
    let engine_rc = player.engine.clone();

    // Animation frames while playing or computing ahead: each frame dispatches one
    // `Frame`, whose render schedules the next.
    {
        let needs = engine_rc.borrow().needs_frames();
        let d = d.clone();
        use_effect_with((needs, player.rev), move |(needs, _)| {
            let handle = needs.then(|| request_animation_frame(move |_| d.dispatch(Action::Frame)));
            move || drop(handle)
        });
    }
    // The frame's work ends once the render (and the canvases' redraws) are done.
    use_effect(browser::frame_finished);

    // Keyboard shortcuts (ui-design.md): no action needs a mouse.
    {
        let d = d.clone();
        let engine = engine_rc.clone();
        use_effect_with((), move |_| {
            let window = web_sys::window().expect("a window");
            let opts = EventListenerOptions::enable_prevent_default();
            let down = EventListener::new_with_options(&window, "keydown", opts, move |e| {
                let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() else {
                    return;
                };
                on_key(e, &d, &engine);
            });
            // Space on a focused button would also "click" it on keyup: Space is play/pause.
            let up = EventListener::new_with_options(&window, "keyup", opts, move |e| {
                if let Some(e) = e.dyn_ref::<web_sys::KeyboardEvent>() {
                    if e.key() == " " && target_tag(e) == "BUTTON" {
                        e.prevent_default();
                    }
                }
            });
            move || drop((down, up))
        });
    }

    // The address bar always holds the state (within URL_EVERY_MS).
    {
        let engine = engine_rc.clone();
        let writer = use_mut_ref(|| UrlWriter {
            written: String::new(),
            at_ms: f64::NEG_INFINITY,
            pending: None,
        });
        use_effect(move || {
            let query = engine.borrow().query(&browser::compact);
            let now = browser::now_ms();
            let mut w = writer.borrow_mut();
            if query == w.written {
                w.pending = None;
                return;
            }
            let wait_ms = URL_EVERY_MS - (now - w.at_ms);
            if wait_ms <= 0.0 {
                browser::replace_query(&query);
                *w = UrlWriter {
                    written: query,
                    at_ms: now,
                    pending: None,
                };
                return;
            }
            // A later state replaces this write; the timer is dropped once it has fired
            // (never from inside its own callback).
            let writer = writer.clone();
            w.pending = Some(gloo::timers::callback::Timeout::new(
                wait_ms.ceil() as u32,
                move || {
                    let mut w = writer.borrow_mut();
                    browser::replace_query(&query);
                    w.written = query;
                    w.at_ms = browser::now_ms();
                },
            ));
        });
    }

    let e = engine_rc.borrow();
    let root_class = classes!(
        "app",
        e.presenter.then_some("presenter"),
        e.embed.then_some("embed"),
        e.compare_on.then_some("comparing")
    );
    // Once per render: the compact line beside the chart and the panel below both show it.
    let single_stuck = (!e.compare_on).then(|| insight::stuck(&e.single)).flatten();
    let main = if e.compare_on {
        compare::view(&e, &d, &engine_rc)
    } else {
        single_view(&e, &d, &engine_rc, single_stuck.as_ref())
    };
    html! {
        <div class={root_class}>
            { controls::header(&e, &d, &engine_rc) }
            { messages(&e, &d) }
            { main }
            { controls::transport(&e, &d) }
            { narration::line(&e) }
            { insight::why_stuck(&e, single_stuck.as_ref()) }
            if !e.embed {
                { tabs(&e, &d) }
            }
            if e.help_open {
                { help::overlay(&d) }
            }
        </div>
    }
}

fn messages(e: &Engine, d: &super::Dispatch) -> Html {
    if e.messages.is_empty() {
        return html! {};
    }
    html! {
        <div id="messages" class="messages" role="alert">
            <ul>{ for e.messages.iter().map(|m| html! { <li>{ m }</li> }) }</ul>
            <button class="dismiss" aria-label="Dismiss these messages" onclick={cb(d, |_| Action::DismissMessages)}>{ "Dismiss" }</button>
        </div>
    }
}

fn single_view(
    e: &Engine,
    d: &super::Dispatch,
    engine: &Rc<RefCell<Engine>>,
    stuck: Option<&insight::Stuck>,
) -> Html {
    let pane = &e.single;
    html! {
        <main class="single">
            <aside class="side">
                { zones::zones(pane, e.end_tick()) }
                { zones::pools(pane) }
            </aside>
            <section class="center">
                <timeline::Timeline engine={timeline::EngineRef(engine.clone())} pane={0} data_rev={pane.data_rev} tick={pane.tick()}
                    end={e.end_tick()} compact={false} hide_future={false} id="timeline" on_seek={cb(d, Action::Seek)} />
                <lanes::Lanes engine={timeline::EngineRef(engine.clone())} pane={0} data_rev={pane.data_rev} tick={pane.tick()}
                    end={e.end_tick()} selected={lanes::selected_task(e, pane)} hide_future={false} on_select={cb(d, |t| Action::SelectTask(Some(t)))} />
                { lanes::legend() }
                // Presenter mode keeps the right column for the gauges and the stack.
                if e.presenter && (!e.predict || e.revealed) {
                    { insight::stuck_line(stuck, "stuck-line".to_string()) }
                }
            </section>
            <aside class="right">
                // Presenter mode folds the side column; the zone gauge moves here, and
                // the devices under it, above the stack, whose frames may run past the
                // bottom of the screen (an XFS reclaim stack has 30).
                if e.presenter {
                    { zones::zones_view(pane, true) }
                    { devices::devices(pane) }
                }
                { lanes::stack(e, pane) }
                // Beside the chart, not under the lanes, so that it stays on a 720-line
                // screen however many tasks the scenario has.
                if !e.presenter && (!e.predict || e.revealed) {
                    { insight::stuck_line(stuck, "stuck-line".to_string()) }
                }
                // Here rather than under the zones and pools: a two-zone, three-pool
                // scenario (dm-crypt-swap) fills the left column of a 720-line screen.
                if !e.presenter {
                    { devices::devices(pane) }
                }
            </aside>
        </main>
    }
}

fn tabs(e: &Engine, d: &super::Dispatch) -> Html {
    let tab = |id: &'static str, label: &'static str| {
        let selected = e.tab == id;
        html! {
            <button role="tab" id={format!("tab-{id}")} aria-selected={selected.to_string()} aria-controls="tabpanel"
                class={classes!("tab", selected.then_some("selected"))} onclick={cb(d, move |_| Action::SetTab(id))}>{ label }</button>
        }
    };
    let body = match e.tab {
        "klog" => events::kernel_log(e),
        "metrics" => insight::metrics_panel(e),
        "policy" => policy::policy_panel(e, d),
        "params" => policy::params_panel(e, d),
        "about" => narration::about(e, d),
        _ => events::event_log(e, d),
    };
    html! {
        <section class="tabs" aria-label="Details">
            <div role="tablist" class="tablist">
                { tab("events", "Events") }
                { tab("klog", "Kernel log") }
                { tab("metrics", "Metrics") }
                { tab("policy", "Policy & knobs") }
                { tab("params", "Scenario parameters") }
                { tab("about", "About this scenario") }
            </div>
            <div id="tabpanel" role="tabpanel" class="tabpanel">{ body }</div>
            // Metrics are always in the page (hidden when another tab is open) so the
            // numbers at the cursor can be read and compared whatever tab is showing.
            if e.tab != "metrics" {
                <div class="offscreen">{ insight::metrics_panel(e) }</div>
            }
        </section>
    }
}

fn target_tag(e: &web_sys::KeyboardEvent) -> String {
    e.target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        .map(|el| el.tag_name())
        .unwrap_or_default()
}

fn on_key(e: &web_sys::KeyboardEvent, d: &super::Dispatch, engine: &Rc<RefCell<Engine>>) {
    let tag = target_tag(e);
    let typing = matches!(tag.as_str(), "INPUT" | "SELECT" | "TEXTAREA");
    if e.key() == "Escape" {
        d.dispatch(Action::CloseOverlays);
        return;
    }
    if typing || e.ctrl_key() || e.meta_key() || e.alt_key() {
        return;
    }
    let action = match (e.key().as_str(), e.shift_key()) {
        (" ", _) => Action::TogglePlay,
        ("ArrowRight", false) => Action::Step,
        ("ArrowLeft", false) => Action::StepBack,
        ("ArrowRight", true) => Action::NextEvent,
        ("ArrowLeft", true) => Action::PrevEvent,
        ("Home", _) => Action::Home,
        ("End", _) => Action::End,
        ("PageDown", _) => Action::NextChapter,
        ("PageUp", _) => Action::PrevChapter,
        ("?", _) => Action::ToggleHelp,
        ("p", false) | ("P", true) => Action::TogglePresenter,
        ("c", false) => Action::SetCompare(!engine.borrow().compare_on),
        ("r", false) => Action::Reset,
        _ => return,
    };
    e.prevent_default();
    d.dispatch(action);
}
