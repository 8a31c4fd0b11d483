//! The header (scenario, policy, compare, share, export, help) and the transport bar
//! (play/pause, step, step back, events, chapters, speed, time, scrub, reset). Every
//! control is a real button or input with an aria-label, reachable by keyboard.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::browser;
use super::engine::Engine;
use super::insight::outcome_badge;
use super::player::Action;
use super::{cb, Dispatch};
use crate::scenario;
use crate::share::url::{parse_seconds, SPEEDS};
use crate::sim::policy;

type DomEvent = yew::events::Event;

fn select_value(e: &DomEvent) -> String {
    e.target_unchecked_into::<web_sys::HtmlSelectElement>()
        .value()
}

pub fn header(e: &Engine, d: &Dispatch, engine: &Rc<RefCell<Engine>>) -> Html {
    let scenarios = scenario::builtin_names();
    let on_scenario = cb(d, |ev: DomEvent| Action::LoadScenario(select_value(&ev)));
    let on_preset = cb(d, |ev: DomEvent| Action::SetPreset(select_value(&ev)));
    let current_preset = e.single.cursor.knobs().clone();
    // The preset whose knobs equal the cursor's, if any (after forks it may be none).
    let showing = policy::PRESETS
        .iter()
        .find(|p| e.base_knobs(p.name, &[]) == current_preset)
        .map_or(e.preset.clone(), |p| p.name.to_string());
    let compare_on = e.compare_on;
    let copy = {
        let d = d.clone();
        Callback::from(move |_: MouseEvent| {
            let url = browser::page_url();
            let d2 = d.clone();
            browser::copy_text(&url, move |msg| d2.dispatch(Action::Message(msg)));
        })
    };
    let png = {
        let engine = engine.clone();
        Callback::from(move |_: MouseEvent| {
            let id = if compare_on { "timeline-0" } else { "timeline" };
            if let Some(data) = super::timeline::png(&engine.borrow(), 0, id) {
                browser::download(&data, "pressure-lab-timeline.png");
            }
        })
    };
    // Built on click: a long run has tens of thousands of rows.
    let csv_cb = {
        let engine = engine.clone();
        Callback::from(move |_: MouseEvent| {
            let e = engine.borrow();
            browser::download_text(
                &csv(&e),
                &format!("pressure-lab-{}.csv", e.scenario_name),
                "text/csv",
            );
        })
    };
    html! {
        <header class="top">
            <h1>{ "Pressure Lab" }</h1>
            <label class="pick"><span class="pick-word">{ "scenario " }</span>
                <select id="scenario-select" aria-label="Scenario" onchange={on_scenario}>
                    { for scenarios.iter().map(|s| html! { <option value={*s} selected={*s == e.scenario_name}>{ *s }</option> }) }
                </select>
            </label>
            if !e.compare_on {
                <label class="pick"><span class="pick-word">{ "policy " }</span>
                    <select id="preset-select" aria-label="Policy preset (a change after 0 s forks the run)" onchange={on_preset}>
                        { for policy::PRESETS.iter().map(|p| html! { <option value={p.name} title={p.why} selected={p.name == showing}>{ p.name }</option> }) }
                    </select>
                </label>
                <button id="btn-knobs" aria-label="Show the policy knobs" onclick={cb(d, |_| Action::SetTab("policy"))}>{ "knobs" }</button>
                // On a projector the verdict sits beside the policy it belongs to, whole:
                // the transport has no room for it at presenter sizes.
                if verdict_in_header(e) {
                    { outcome_badge(e, &e.single, Some("outcome")) }
                }
            }
            <span class="spacer"></span>
            <button id="btn-compare" aria-pressed={e.compare_on.to_string()} aria-label="Compare policies side by side (c)"
                onclick={cb(d, move |_| Action::SetCompare(!compare_on))}>{ if e.compare_on { "single view" } else { "+ compare" } }</button>
            if e.compare_on {
                <button id="btn-predict" aria-pressed={e.predict.to_string()} aria-label="Predict mode: hide the outcomes and guess them"
                    onclick={cb(d, |_| Action::TogglePredict)}>{ "predict" }</button>
            }
            <button id="btn-copy-link" aria-label="Copy a link to exactly this screen" onclick={copy}>{ "copy link" }</button>
            <button id="btn-png" aria-label="Download the timeline chart as PNG" onclick={png}>{ "PNG" }</button>
            <button id="btn-csv" aria-label="Download the run's samples as CSV" onclick={csv_cb}>{ "CSV" }</button>
            <button id="btn-presenter" aria-pressed={e.presenter.to_string()} aria-label="Presenter mode (p)" onclick={cb(d, |_| Action::TogglePresenter)}>{ "presenter" }</button>
            <button id="btn-help" aria-label="Keyboard shortcuts (?)" onclick={cb(d, |_| Action::ToggleHelp)}>{ "?" }</button>
        </header>
    }
}

/// The timeline points of every pane as CSV.
fn csv(e: &Engine) -> String {
    let mut out = String::from("policy,tick_ms,free_pages,min_pages,low_pages,high_pages,dirty_pages,writeback_pages,swap_used_pages\n");
    for pane in e.panes() {
        for p in pane.rec.points() {
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{}\n",
                pane.label, p.tick, p.free, p.min, p.low, p.high, p.dirty, p.writeback, p.swap_used
            ));
        }
    }
    out
}

fn button(
    id: &'static str,
    label: &'static str,
    aria: &'static str,
    d: &Dispatch,
    action: fn() -> Action,
) -> Html {
    html! { <button id={id} class="tbtn" aria-label={aria} title={aria} onclick={cb(d, move |_| action())}>{ label }</button> }
}

/// Presenter mode's single view shows the verdict in the header (large and never cut);
/// an embed hides the header, so there it stays in the transport.
fn verdict_in_header(e: &Engine) -> bool {
    e.presenter && !e.embed && !e.compare_on
}

pub fn transport(e: &Engine, d: &Dispatch) -> Html {
    let tick = e.tick();
    let end = e.end_tick();
    let on_speed = cb(d, |ev: DomEvent| {
        Action::SetSpeed(select_value(&ev).parse().unwrap_or(10))
    });
    let on_scrub = cb(d, |ev: InputEvent| {
        Action::Seek(
            ev.target_unchecked_into::<web_sys::HtmlInputElement>()
                .value()
                .parse()
                .unwrap_or(0),
        )
    });
    let on_jump = {
        let d = d.clone();
        Callback::from(move |ev: KeyboardEvent| {
            if ev.key() == "Enter" {
                let input = ev.target_unchecked_into::<web_sys::HtmlInputElement>();
                match parse_seconds(input.value().trim()) {
                    Some(t) => d.dispatch(Action::Seek(t)),
                    None => d.dispatch(Action::Message(format!(
                        "jump to time: '{}' is not a time in seconds like 12.5",
                        input.value()
                    ))),
                }
            }
        })
    };
    let play_label = if e.playing {
        "❚❚ pause"
    } else {
        "▶ play"
    };
    html! {
        <nav class="transport" aria-label="Transport">
            { button("btn-home", "|◀", "Go to the start (Home)", d, || Action::Home) }
            { button("btn-prev-chapter", "◀◀ ch", "Previous chapter (PageUp)", d, || Action::PrevChapter) }
            { button("btn-prev-event", "◀ ev", "Previous event (Shift+←)", d, || Action::PrevEvent) }
            { button("btn-step-back", "◀ 1", "Step back one tick (←)", d, || Action::StepBack) }
            <button id="btn-play" class={classes!("tbtn", "play", e.playing.then_some("playing"))} aria-pressed={e.playing.to_string()}
                aria-label={if e.playing { "Pause (Space)" } else { "Play (Space)" }} onclick={cb(d, |_| Action::TogglePlay)}>{ play_label }</button>
            { button("btn-step", "1 ▶", "Step one tick (→)", d, || Action::Step) }
            { button("btn-next-event", "ev ▶", "Next event (Shift+→)", d, || Action::NextEvent) }
            { button("btn-next-chapter", "ch ▶▶", "Next chapter (PageDown)", d, || Action::NextChapter) }
            { button("btn-end", "▶|", "Go to the end (End)", d, || Action::End) }
            <label class="speed">{ "speed " }
                <select id="speed" aria-label="Speed in ticks (ms) per frame" onchange={on_speed}>
                    { for SPEEDS.iter().map(|s| html! { <option value={s.to_string()} selected={*s == e.speed}>{ format!("×{s}") }</option> }) }
                </select>
            </label>
            <span id="sim-time" class="time" data-tick={tick.to_string()} aria-live="off" title="Simulated time (1 tick = 1 ms)">
                { format!("t = {} s", format_time(tick)) }</span>
            <input id="scrub" class="scrub" type="range" min="0" max={end.to_string()} value={tick.min(end).to_string()}
                aria-label="Scrub through simulated time" aria-valuetext={format!("{} seconds", format_time(tick))} oninput={on_scrub} />
            <input id="jump-time" class="jump" type="text" inputmode="decimal" placeholder="go to s" size="6"
                aria-label="Jump to a time in seconds, then Enter" onkeydown={on_jump} />
            if !e.compare_on && !verdict_in_header(e) {
                { outcome_badge(e, &e.single, Some("outcome")) }
            }
            { button("btn-reset", "reset", "Reset to the start, paused (r)", d, || Action::Reset) }
        </nav>
    }
}

/// `12.345` with fixed three decimals, so the number does not jump about while playing.
pub fn format_time(tick: u64) -> String {
    format!("{}.{:03}", tick / 1000, tick % 1000)
}
