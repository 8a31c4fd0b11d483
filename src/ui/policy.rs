//! The policy panel (preset picker and every knob; a change after 0 s forks the run) and
//! the scenario parameters editable in place (an edit restarts the run).

use yew::prelude::*;

use super::engine::Engine;
use super::player::Action;
use super::{cb, Dispatch};
use crate::share::params;
use crate::share::url::format_seconds;
use crate::sim::policy;

type DomEvent = yew::events::Event;

#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub id: AttrValue,
    pub kind: AttrValue,
    pub value: AttrValue,
    pub label: AttrValue,
    pub pointer: AttrValue,
    pub onchange: Callback<DomEvent>,
}

/// An input whose value is set only when the model's value changes, never on a mere
/// re-render: the app re-renders every animation frame while a run is computed, and a
/// controlled `value` would wipe out what the user is typing.
#[function_component]
pub fn Field(props: &FieldProps) -> Html {
    let node = use_node_ref();
    {
        let node = node.clone();
        use_effect_with(props.value.clone(), move |v| {
            if let Some(input) = node.cast::<web_sys::HtmlInputElement>() {
                input.set_value(v);
            }
        });
    }
    let id = (!props.id.is_empty()).then(|| props.id.clone());
    let pointer = (!props.pointer.is_empty()).then(|| props.pointer.clone());
    html! {
        <input ref={node} {id} type={props.kind.clone()} size="8" min={(props.kind == "number").then_some("0")}
            aria-label={props.label.clone()} data-pointer={pointer} onchange={props.onchange.clone()} />
    }
}

pub fn policy_panel(e: &Engine, d: &Dispatch) -> Html {
    if e.compare_on {
        return html! { <p>{ "In compare mode each pane runs one preset; pick them in the pane headers." }</p> };
    }
    let knobs = e.single.cursor.knobs().clone();
    let now = e.tick();
    let base = e.base_knobs(&e.preset, &[]);
    let rows = policy::knob_specs().into_iter().map(|spec| {
        let name = spec.name;
        let value = knobs.get(name).unwrap_or_default();
        let changed = base.get(name).as_deref() != Some(value.as_str());
        let input = if spec.values.is_empty() {
            let onchange = cb(d, move |ev: DomEvent| Action::SetKnob(name.to_string(), ev.target_unchecked_into::<web_sys::HtmlInputElement>().value().trim().to_string()));
            html! { <Field id={format!("knob-{name}")} kind="text" value={value.clone()} label={format!("{name} ({})", spec.allowed)} pointer="" {onchange} /> }
        } else {
            let onchange = cb(d, move |ev: DomEvent| Action::SetKnob(name.to_string(), ev.target_unchecked_into::<web_sys::HtmlSelectElement>().value()));
            html! {
                <select id={format!("knob-{name}")} aria-label={format!("{name}: {}", spec.doc)} {onchange}>
                    { for spec.values.iter().map(|v| html! { <option value={*v} selected={*v == value}>{ *v }</option> }) }
                </select>
            }
        };
        html! {
            <tr class={classes!(changed.then_some("changed"))}>
                <th scope="row"><code>{ name }</code></th>
                <td>{ input }</td>
                <td class="doc">{ spec.doc }{ format!(" (allowed: {})", spec.allowed) }</td>
            </tr>
        }
    });
    let forks = e.single.rec.forks();
    let fork_list = forks.iter().map(|f| html! { <li>{ format!("at {} s: {} = {}", format_seconds(f.tick), f.knob, f.value) }</li> });
    let why = policy::preset(&e.preset).map_or("", |p| p.why);
    html! {
        <div class="policy">
            <p class="hint">{ if now == 0 { "At 0 s a change sets the starting policy.".to_string() } else { format!("A change now forks the run at {} s: the past stays, the future is recomputed.", format_seconds(now)) } }</p>
            <p class="why-preset"><b>{ &e.preset }</b>{ ": " }{ why }</p>
            <table class="knobs"><tbody>{ for rows }</tbody></table>
            if !forks.is_empty() {
                <h3>{ "Forks" }</h3>
                <ul id="fork-list">{ for fork_list }</ul>
                <button id="btn-undo-fork" aria-label="Undo the last fork" onclick={cb(d, |_| Action::UndoFork)}>{ "undo last fork" }</button>
            }
        </div>
    }
}

pub fn params_panel(e: &Engine, d: &Dispatch) -> Html {
    let list = params::params(&e.scenario.file);
    let groups = ["machine", "workload", "devices", "pools", "run"];
    // A group the scenario has nothing in (no mempools over NFS) gets no empty heading.
    let section = |group: &str| {
        if !list.iter().any(|p| p.group == group) {
            return html! {};
        }
        let rows = list.iter().filter(|p| p.group == group).map(|p| {
            let (pointer, label) = (p.pointer.clone(), p.label.clone());
            let onchange = cb(d, move |ev: DomEvent| {
                let v = ev.target_unchecked_into::<web_sys::HtmlInputElement>().value();
                let v = v.trim();
                match v.parse::<u64>() {
                    Ok(n) => Action::SetParam(pointer.clone(), n),
                    // Digits past u64: the range check would name a different number.
                    Err(_) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                        Action::RejectParam(format!("{label}: {v} is far too large"))
                    }
                    // A number field holds "" for text that is not a number.
                    Err(_) if v.is_empty() => Action::RejectParam(format!("{label}: type a whole number")),
                    Err(_) => Action::RejectParam(format!("{label}: '{v}' is not a whole number")),
                }
            });
            let edited = e.edits.iter().any(|x| x.pointer == p.pointer);
            html! {
                <tr class={classes!(edited.then_some("changed"))}>
                    <th scope="row">{ &p.label }</th>
                    <td><Field id="" kind="number" value={p.value.to_string()} label={p.label.clone()} pointer={p.pointer.clone()} {onchange} /></td>
                </tr>
            }
        });
        html! { <table class="params"><caption>{ group }</caption><tbody>{ for rows }</tbody></table> }
    };
    html! {
        <div class="params-panel">
            <p class="hint">{ "Edit a number and press Enter or leave the field: the scenario is checked and the run restarts. Edits travel in the link." }</p>
            if let Some(err) = &e.param_error {
                <p id="param-error" class="error" role="alert">{ err }</p>
            }
            <div class="param-groups">{ for groups.iter().map(|g| section(g)) }</div>
            if !e.edits.is_empty() {
                <button id="btn-reset-params" aria-label="Back to the scenario's own parameters" onclick={cb(d, |_| Action::ResetParams)}>{ "reset parameters" }</button>
            }
        </div>
    }
}
