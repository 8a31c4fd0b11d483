//! The backing devices: what fills each one against its limit (requests on a disk's queue,
//! the socket's send buffer, bios waiting for kcryptd, pages under writeback to the NFS
//! server) and whether it is congested — the state `congestion_wait` and
//! `wait_iff_congested` ask about. Numbers from `sim::block::load`.

use yew::prelude::*;

use super::engine::Pane;
use crate::sim::block::{load, Load};

fn congestion_words(congested: bool) -> &'static str {
    if congested {
        "congested: congestion_wait and wait_iff_congested sleep"
    } else {
        "not congested"
    }
}

/// (used, bar capacity, congestion mark, words, alert).
fn row(pane: &Pane, device: usize) -> (u64, u64, u64, String, bool) {
    let cfg = pane.rec.base().config();
    match load(cfg, pane.cursor.state(), device) {
        Load::Requests {
            used,
            limit,
            on,
            congested,
        } => {
            let state = congestion_words(congested);
            (
                used,
                limit,
                on,
                format!("{used} / {limit} requests, {state}"),
                congested,
            )
        }
        Load::SendBuffer {
            used,
            limit,
            awaiting,
        } => {
            let full = used >= limit;
            let state = if full {
                "full: writers wait in io_schedule"
            } else {
                "room"
            };
            let words = format!(
                "send buffer {used} / {limit} pages, {state}; {awaiting} requests await replies"
            );
            (used, limit, 0, words, full)
        }
        Load::Bios { queued, lower } => {
            let words = format!(
                "{queued} bios queued for kcryptd; no congestion of its own, {}'s counts",
                cfg.devices[lower].name
            );
            (queued, 0, 0, words, false)
        }
        Load::NfsPages {
            used,
            on,
            congested,
        } => {
            let state = congestion_words(congested);
            (
                used,
                2 * on,
                on,
                format!("{used} pages under writeback, {state} (above {on})"),
                congested,
            )
        }
    }
}

pub fn devices(pane: &Pane) -> Html {
    let cfg = pane.rec.base().config();
    let rows = (0..cfg.devices.len()).map(|d| {
        let (used, limit, mark, words, alert) = row(pane, d);
        let pct = |n: u64| super::percent(n, limit);
        // One element: the fill and the congestion mark are layers of its background.
        let (u, m) = (pct(used), pct(mark));
        let mark_layer = if mark > 0 {
            format!("linear-gradient(to right, #0000 {m}, var(--ink) {m} calc({m} + 2px), #0000 0), ")
        } else {
            String::new()
        };
        html! {
            <div class="pool device">
                <span class="pname">{ &cfg.devices[d].name }</span>
                if limit > 0 {
                    <div class={classes!("bar", alert.then_some("full"))} role="meter"
                        aria-label={cfg.devices[d].name.clone()} aria-valuenow={used.to_string()}
                        aria-valuemax={limit.to_string()}
                        style={format!("background: {mark_layer}linear-gradient(to right, var(--writeback) {u}, #fff 0)")}>
                    </div>
                }
                <div class={classes!("pool-more", alert.then_some("alert"))}>{ words }</div>
            </div>
        }
    });
    html! {
        <section class="panel pools devices" aria-label="Devices">
            <h2>{ "Devices" }</h2>
            { for rows }
        </section>
    }
}
