//! Zone gauges (free pages against min/low/high, coloured by band, always with numbers),
//! kswapd's state, and the mempools.

use yew::prelude::*;

use super::engine::Pane;
use super::{mib, pages};
use crate::share::floors;
use crate::sim::config::TaskKind;
use crate::sim::sample::ZoneSample;
use crate::sim::state::WaitQueue;

/// The band free pages are in, with what it means (colour is never the only cue).
pub fn band(z: &ZoneSample) -> (&'static str, &'static str) {
    if z.free < z.min {
        (
            "below-min",
            "below min: only reserve-entitled allocations succeed",
        )
    } else if z.free < z.low {
        ("below-low", "below low: kswapd is woken")
    } else if z.free < z.high {
        ("below-high", "below high: kswapd reclaims until high")
    } else {
        ("above-high", "above high: no pressure")
    }
}

/// A floor to mark on a gauge: pages, and whose allocation it is in words.
struct Floor {
    pages: u64,
    text: String,
}

fn gauge(name: &str, z: &ZoneSample, compact: bool, floors: &[Floor]) -> Html {
    // Zoomed to the watermarks: free beyond 3 × high is off the scale (and says so).
    let scale = (z.high * 3).max(1);
    let pct = |v: u64| super::percent(v, scale);
    let (band_class, band_text) = band(z);
    let off_scale = z.free > scale;
    let mark = |class: &'static str, label: &'static str, v: u64, kernel: &'static str| {
        html! {
            <div class={classes!("wm", class)} style={format!("left: {}", pct(v))}
                title={format!("{label} watermark: {} pages ({kernel})", pages(v))}><span>{ label }</span></div>
        }
    };
    html! {
        <div class="zone">
            <div class="zone-head"><span class="zname">{ name }</span>
                if compact {
                    <b class="free-num" title="NR_FREE_PAGES">{ format!("free {}", pages(z.free)) }</b>
                }
                <span class={classes!("band", band_class)} title={band_text}>{ if compact { band_text.split(':').next().unwrap_or(band_text) } else { band_text } }</span></div>
            <div class="gauge" role="meter" aria-label={format!("free pages in zone {name}")}
                aria-valuemin="0" aria-valuemax={scale.to_string()} aria-valuenow={z.free.min(scale).to_string()}
                title="NR_FREE_PAGES: pages on the zone's free lists. The bar is zoomed to 3 × high so the watermarks show.">
                <div class={classes!("fill", band_class)} style={format!("width: {}", pct(z.free))}></div>
                { mark("wm-min", "min", z.min, "zone->watermark[WMARK_MIN]") }
                { mark("wm-low", "low", z.low, "zone->watermark[WMARK_LOW]") }
                { mark("wm-high", "high", z.high, "zone->watermark[WMARK_HIGH]") }
                if off_scale { <span class="off-scale">{ "≫" }</span> }
                { for floors.iter().map(|f| html! {
                    <div class="floor" style={format!("left: {}", pct(f.pages))} aria-hidden="true"
                        title={format!("effective floor of {}: free may go down to {} pages", f.text, pages(f.pages))}></div>
                }) }
            </div>
            if !compact {
                <div class="znum">
                    <b class="free-num" title="NR_FREE_PAGES">{ format!("free {}", pages(z.free)) }</b>
                    <span>{ format!(" pages ({})", mib(z.free)) }</span>
                    <div class="wm-nums">
                        <span class="k-min">{ format!("min {}", pages(z.min)) }</span>
                        <span class="k-low">{ format!("low {}", pages(z.low)) }</span>
                        <span class="k-high">{ format!("high {}", pages(z.high)) }</span>
                    </div>
                </div>
            }
            { for floors.iter().map(|f| html! {
                <div class="floor-note" data-floor={f.pages.to_string()}
                    title="An allocation took pages below min in the last 100 ms; the dashed line is how far down its watermark check lets free go">
                    <i aria-hidden="true"></i>{ &f.text }</div>
            }) }
        </div>
    }
}

pub fn zones(pane: &Pane, _end: u64) -> Html {
    zones_view(pane, false)
}

pub fn zones_view(pane: &Pane, compact: bool) -> Html {
    let sample = pane.cursor.sample();
    let cfg = pane.rec.base().config();
    let kswapd = cfg
        .tasks
        .iter()
        .position(|t| matches!(t.kind, TaskKind::Kswapd));
    let kswapd_name = kswapd.map_or("kswapd0", |i| cfg.tasks[i].name.as_str());
    let kswapd_task_state = kswapd
        .and_then(|i| sample.tasks.get(i))
        .map(|t| t.state.label());
    let (class, text) = match (sample.kswapd_awake, kswapd_task_state) {
        (true, Some(state)) if state != "running" && state != "idle" => (
            "awake",
            format!("{kswapd_name}: woken, but stuck in {state}"),
        ),
        (true, _) => (
            "awake",
            format!("{kswapd_name}: awake, reclaiming until free ≥ high"),
        ),
        (false, _) => ("asleep", format!("{kswapd_name}: asleep (free above low)")),
    };
    // Allocations below min in the last 100 ms: where their watermark check stops them.
    let marks = floors::recent(pane.rec.events(), pane.tick());
    let zone_floors = |zi: usize, z: &ZoneSample| -> Vec<Floor> {
        let mut out: Vec<Floor> = marks
            .iter()
            .filter(|m| m.zone == zi)
            .map(|m| Floor {
                pages: m.floor,
                text: format!(
                    "{}: {}",
                    cfg.tasks[m.task].name,
                    floors::describe(m.floor, z.min, m.reason)
                ),
            })
            .collect();
        out.sort_by_key(|f| std::cmp::Reverse(f.pages));
        out
    };
    let swap = (sample.swap_total > 0).then(|| {
        html! { <div class="swap" title="Swap slots in use (anonymous pages written to swap)">{ format!("swap used {} / {} pages", pages(sample.swap_used), pages(sample.swap_total)) }</div> }
    });
    html! {
        <section class="panel zones" aria-label="Zones">
            <h2>{ "Zones" }</h2>
            { for sample.zones.iter().enumerate().map(|(i, z)| gauge(&cfg.zones[i].name, z, compact, &zone_floors(i, z))) }
            <div id={(!compact).then_some("kswapd-state")} class={classes!("kswapd", class)} title="kswapd wakes when an allocation finds free below low and sleeps again once every zone is above high">{ text }</div>
            { for swap }
        </section>
    }
}

pub fn pools(pane: &Pane) -> Html {
    let cfg = pane.rec.base().config();
    if cfg.pools.is_empty() {
        return html! {};
    }
    let sample = pane.cursor.sample();
    let st = pane.cursor.state();
    let rows = sample.pools.iter().enumerate().map(|(i, p)| {
        let pct = super::percent(p.curr_nr, p.min_nr);
        let waiters: Vec<&str> = st.tasks.iter().enumerate().filter(|(_, t)| t.wait.as_ref().is_some_and(|w| w.queue == WaitQueue::Pool(i))).map(|(t, _)| cfg.tasks[t].name.as_str()).collect();
        let empty = p.curr_nr == 0;
        html! {
            <div class="pool">
                <div class="pool-head"><span class="pname">{ &cfg.pools[i].name }</span>
                    <span class="pnum" title="curr_nr / min_nr: reserved elements left in the pool">{ format!("{} / {}", p.curr_nr, p.min_nr) }</span></div>
                <div class={classes!("bar", empty.then_some("empty"))} role="meter" aria-label={format!("pool {} elements", cfg.pools[i].name)}
                    aria-valuemin="0" aria-valuemax={p.min_nr.to_string()} aria-valuenow={p.curr_nr.to_string()}>
                    <div class="fill" style={format!("width: {pct}")}></div>
                </div>
                <div class="pool-more">
                    <span title="elements handed out and not yet returned with mempool_free">{ format!("out {}", p.outstanding) }</span>
                    <span class={classes!((!waiters.is_empty()).then_some("waiting"))} title="tasks asleep on pool->wait">
                        { if waiters.is_empty() { "no waiters".to_string() } else { format!("waiting: {}", waiters.join(", ")) } }</span>
                </div>
            </div>
        }
    });
    html! {
        <section class="panel pools" aria-label="Mempools">
            <h2>{ "Mempools" }</h2>
            { for rows }
        </section>
    }
}
