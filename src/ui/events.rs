//! The event log (typed events with the kernel function involved, filterable, click to
//! seek) and the kernel log (dmesg style, from `share::klog`).

use yew::prelude::*;

use super::engine::{Engine, Pane};
use super::player::Action;
use super::{cb, Dispatch};
use crate::share::recording::EVENTS_MAX;
use crate::share::{klog, pages};
use crate::sim::event::Event;

/// Rows shown at most: the latest before the cursor.
const ROWS_MAX: usize = 80;

/// `kcryptd sleep function=throttle_vm_writeout timeout_ms=100`: every field, with
/// indices turned into names.
pub fn describe(pane: &Pane, ev: &Event) -> String {
    let cfg = pane.rec.base().config();
    // An event always serialises to an object (derived Serialize, string keys); the
    // fallback names its kernel function rather than pulling Event's Debug into the .wasm.
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(ev) else {
        return ev.function().to_string();
    };
    let mut who = String::new();
    let mut kind = String::new();
    let mut rest = Vec::new();
    for (k, v) in map {
        let idx = v.as_u64().map(|n| n as usize);
        let name = |list: Vec<&str>| {
            idx.and_then(|i| list.get(i).map(|s| s.to_string()))
                .unwrap_or_else(|| v.to_string())
        };
        match k.as_str() {
            "kind" => kind = v.as_str().unwrap_or("").to_string(),
            "task" => who = name(cfg.tasks.iter().map(|t| t.name.as_str()).collect()),
            "victim" | "trigger" => rest.push(format!(
                "{k}={}",
                name(cfg.tasks.iter().map(|t| t.name.as_str()).collect())
            )),
            "zone" => rest.push(format!(
                "zone={}",
                name(cfg.zones.iter().map(|z| z.name.as_str()).collect())
            )),
            "pool" => rest.push(format!(
                "pool={}",
                name(cfg.pools.iter().map(|p| p.name.as_str()).collect())
            )),
            "device" => rest.push(format!(
                "device={}",
                name(cfg.devices.iter().map(|d| d.name.as_str()).collect())
            )),
            _ => rest.push(format!(
                "{k}={}",
                v.as_str().map_or_else(|| v.to_string(), str::to_string)
            )),
        }
    }
    let who = if who.is_empty() {
        String::new()
    } else {
        format!("{who} ")
    };
    format!("{who}{kind} {}", rest.join(" "))
}

pub fn event_log(e: &Engine, d: &Dispatch) -> Html {
    let pane = e.panes()[0];
    let now = pane.tick();
    let events = pane.rec.events();
    let visible = events.partition_point(|(t, _)| *t < now);
    let (shown, matching): (Vec<&(u64, Event)>, usize) = {
        let mut index = pane.filter.borrow_mut();
        index.update(&pane.rec, &e.event_filter);
        let shown = index
            .latest_before(&pane.rec, now, ROWS_MAX)
            .into_iter()
            .map(|i| &events[i])
            .collect();
        (shown, index.count_before(&pane.rec, now))
    };
    // Past the recording's bound the list stops (the charts, lanes and kernel log do not).
    let full = pane.rec.events_full_at().filter(|at| *at < now).map(|at| {
        format!(
            "; the list keeps a run's first {} events, so none after {}.{:03} s is listed",
            pages(EVENTS_MAX as u64),
            at / 1000,
            at % 1000
        )
    });
    let count = if e.event_filter.is_empty() {
        format!(
            "{} of {} events up to now",
            shown.len(),
            pages(visible as u64)
        )
    } else {
        format!(
            "{} of {} matching events up to now (of {})",
            shown.len(),
            pages(matching as u64),
            pages(visible as u64)
        )
    };
    let functions = pane.rec.functions();
    let rows = shown.iter().map(|(t, ev)| {
        let at = t + 1;
        let text = describe(pane, ev);
        html! {
            <li><button class="ev" aria-label={format!("seek to {} s: {text}", klog::timestamp(*t))} onclick={cb(d, move |_| Action::Seek(at))}>
                <span class="ts">{ klog::timestamp(*t) }</span>
                <span class="fnname">{ ev.function() }</span>
                <span class="desc">{ text }</span>
            </button></li>
        }
    });
    let on_filter = cb(d, |ev: InputEvent| {
        Action::SetFilter(
            ev.target_unchecked_into::<web_sys::HtmlInputElement>()
                .value(),
        )
    });
    let on_pick = cb(d, |ev: Event2| {
        Action::SetFilter(
            ev.target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value(),
        )
    });
    html! {
        <div class="event-log">
            <div class="filter">
                <label>{ "Filter " }<input id="event-filter" type="search" value={e.event_filter.clone()} placeholder="kernel function, task or event"
                    aria-label="Filter events by kernel function, task or event kind" oninput={on_filter} /></label>
                <select aria-label="Pick a kernel function to filter by" onchange={on_pick}>
                    <option value="" selected={e.event_filter.is_empty()}>{ "all functions" }</option>
                    { for functions.iter().map(|f| html! { <option value={*f} selected={e.event_filter == *f}>{ *f }</option> }) }
                </select>
                <span class="count">{ format!("{count}; newest first; Shift+←/→ jumps between them{}", full.unwrap_or_default()) }</span>
            </div>
            <ol id="event-log" class="events">{ for rows }</ol>
        </div>
    }
}

type Event2 = yew::events::Event;

pub fn kernel_log(e: &Engine) -> Html {
    let pane = e.panes()[0];
    let now = pane.tick();
    let log = pane.rec.klog();
    let entries: Vec<&klog::Entry> = log.entries().iter().filter(|en| en.tick < now).collect();
    let mut lines: Vec<Html> = Vec::new();
    for en in &entries {
        let ts = klog::timestamp(en.tick);
        // An allocation failure's call trace and Mem-Info fold under its first lines: ten
        // reports per 5 s would bury everything else. The fold is one text node (a
        // swap-over-network run logs a couple of hundred reports).
        let head = if en.kind == "alloc_fail" {
            klog::ALLOC_FAIL_HEAD_LINES
        } else {
            en.lines.len()
        };
        for l in en.lines.iter().take(head) {
            lines.push(html! { <div class={classes!("kl", en.kind)}><span class="ts">{ ts.clone() }</span>{ " " }{ l }</div> });
        }
        if let Some(rest) = en.lines.get(head..).filter(|rest| !rest.is_empty()) {
            let text: String = rest.iter().map(|l| format!("{ts} {l}\n")).collect();
            lines.push(html! {
                <details class={classes!("kl", en.kind)}>
                    <summary>{ format!("Call Trace and Mem-Info ({} lines)", rest.len()) }</summary>
                    <div class="kl-fold">{ text }</div>
                </details>
            });
        }
    }
    if lines.is_empty() {
        lines.push(html! { <div class="kl quiet">{ "(nothing logged yet: OOM kills, hung tasks, allocation failures and stack overflows appear here)" }</div> });
    }
    html! { <div id="kernel-log" class="kernel-log" role="log" aria-label="Kernel log">{ for lines }</div> }
}
