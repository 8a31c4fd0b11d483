//! Compare mode: the same scenario and seed under 2–4 presets in synchronized panes (one
//! transport for all), each with a compact timeline, gauges, lanes and an outcome badge,
//! and the key metrics side by side. Predict mode hides outcomes until revealed.

use std::cell::RefCell;
use std::rc::Rc;

use yew::prelude::*;

use super::engine::Engine;
use super::insight::{metric_rows, outcome_badge, stuck, stuck_line};
use super::player::Action;
use super::timeline::EngineRef;
use super::{cb, lanes, timeline, zones, Dispatch};
use crate::share::url::COMPARE_MAX;
use crate::sim::policy;

type DomEvent = yew::events::Event;

/// What a viewer can predict.
const PREDICTIONS: &[&str] = &[
    "completed",
    "stalled",
    "deadlocked",
    "oom_kill",
    "stack_overflow",
    "incomplete",
];

pub fn view(e: &Engine, d: &Dispatch, engine: &Rc<RefCell<Engine>>) -> Html {
    let hide = e.predict && !e.revealed;
    let n = e.compare_panes.len();
    let panes = e.compare_panes.iter().enumerate().map(|(i, pane)| {
        let on_pick = cb(d, move |ev: DomEvent| Action::SetComparePane(i, Some(ev.target_unchecked_into::<web_sys::HtmlSelectElement>().value())));
        let on_predict = cb(d, move |ev: DomEvent| Action::Predict(i, ev.target_unchecked_into::<web_sys::HtmlSelectElement>().value()));
        let guess = e.predictions.get(i).cloned().unwrap_or_default();
        let verdict = (e.predict && e.revealed && !guess.is_empty()).then(|| {
            let actual = pane.rec.outcome().map(|o| o.kind.name()).unwrap_or("running");
            let right = actual == guess;
            html! { <span class={classes!("guess", if right { "right" } else { "wrong" })}>{ if right { format!("✓ you said {guess}") } else { format!("✗ you said {guess}") } }</span> }
        });
        html! {
            <section class="pane" aria-label={format!("Policy {}", pane.label)} data-preset={pane.preset.clone()}>
                <div class="pane-head">
                    <select aria-label={format!("Preset of pane {}", i + 1)} onchange={on_pick}>
                        { for policy::PRESETS.iter().map(|p| html! { <option value={p.name} selected={p.name == pane.preset}>{ p.name }</option> }) }
                    </select>
                    if n > 2 {
                        <button class="remove" aria-label={format!("Remove pane {}", i + 1)} onclick={cb(d, move |_| Action::SetComparePane(i, None))}>{ "×" }</button>
                    }
                    { outcome_badge(e, pane, None) }
                </div>
                if e.predict && !e.revealed {
                    <label class="predict">{ "Your prediction: " }
                        <select aria-label={format!("Your prediction for {}", pane.label)} onchange={on_predict}>
                            <option value="" selected={guess.is_empty()}>{ "choose…" }</option>
                            { for PREDICTIONS.iter().map(|p| html! { <option value={*p} selected={guess == *p}>{ *p }</option> }) }
                        </select>
                    </label>
                }
                { for verdict }
                <timeline::Timeline engine={EngineRef(engine.clone())} pane={i} data_rev={pane.data_rev} tick={pane.tick()} end={e.end_tick()}
                    compact={true} hide_future={hide} id={format!("timeline-{i}")} on_seek={cb(d, Action::Seek)} />
                { zones::zones_view(pane, true) }
                <lanes::Lanes engine={EngineRef(engine.clone())} pane={i} data_rev={pane.data_rev} tick={pane.tick()} end={e.end_tick()}
                    selected={lanes::selected_task(e, pane)} hide_future={hide} on_select={cb(d, |t| Action::SelectTask(Some(t)))} />
                // Each pane's wait-for cycle, compact: side by side, which policy freezes.
                if !hide {
                    { stuck_line(stuck(pane).as_ref(), format!("stuck-{i}")) }
                }
            </section>
        }
    });
    let add = (n < COMPARE_MAX).then(|| {
        let on_add = cb(d, move |ev: DomEvent| Action::SetComparePane(usize::MAX, Some(ev.target_unchecked_into::<web_sys::HtmlSelectElement>().value())));
        html! {
            <label class="add-pane">{ "add a pane: " }
                <select id="add-pane" aria-label="Add a pane with this preset" onchange={on_add}>
                    <option value="" selected=true>{ "preset…" }</option>
                    { for policy::PRESETS.iter().map(|p| html! { <option value={p.name}>{ p.name }</option> }) }
                </select>
            </label>
        }
    });
    let reveal = (e.predict && !e.revealed).then(|| html! {
        <button id="btn-reveal" aria-label="Reveal the outcomes" onclick={cb(d, |_| Action::Reveal)}>{ "reveal outcomes" }</button>
    });
    html! {
        <main class="compare" style={format!("--panes: {n}")}>
            <div class="panes">{ for panes }</div>
            <div class="compare-foot"><div class="legends">{ timeline::legend(true) }{ lanes::legend() }</div>{ for add }{ for reveal }</div>
            { metrics_table(e) }
        </main>
    }
}

fn metrics_table(e: &Engine) -> Html {
    let hide = e.predict && !e.revealed;
    let per_pane: Vec<Vec<(&str, &str, String)>> =
        e.compare_panes.iter().map(metric_rows).collect();
    let Some(first) = per_pane.first() else {
        return html! {};
    };
    let rows = first.iter().enumerate().map(|(r, (name, doc, _))| {
        html! {
            <tr title={*doc}><th scope="row">{ *name }</th>
                { for per_pane.iter().map(|rows| html! { <td class="num">{ if hide { "?".to_string() } else { rows[r].2.clone() } }</td> }) }
            </tr>
        }
    });
    html! {
        <table id="compare-metrics" class="compare-metrics">
            <thead><tr><th>{ "metric at the cursor" }</th>{ for e.compare_panes.iter().map(|p| html! { <th scope="col">{ &p.label }</th> }) }</tr></thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}
