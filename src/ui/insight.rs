//! The metrics panel (from `report::metrics`, so the UI and the CLI agree), the outcome
//! badge, and "Why is it stuck?" (the wait-for chain in words and as a small graph).

use yew::prelude::*;

use super::engine::{Engine, Pane};
use super::pages;
use crate::report;
use crate::share::url::format_seconds;
use crate::sim::outcome::OutcomeKind;

/// The metrics shown, with what each one is in the kernel.
const ROWS: &[(&str, &str)] = &[
    ("min_free_pages", "lowest NR_FREE_PAGES seen in any zone"),
    (
        "reserve_pages_used_max",
        "most pages taken below the min watermark",
    ),
    (
        "allocstall",
        "allocstall: times a task entered direct reclaim",
    ),
    ("pgscan_kswapd", "pgscan_kswapd: pages scanned by kswapd"),
    (
        "pgscan_direct",
        "pgscan_direct: pages scanned in direct reclaim",
    ),
    (
        "pgsteal_kswapd",
        "pgsteal_kswapd: pages reclaimed by kswapd",
    ),
    (
        "pgsteal_direct",
        "pgsteal_direct: pages reclaimed in direct reclaim",
    ),
    (
        "pages_swapped_out",
        "pages whose swap write completed (the kernel's pswpout counts them when submitted)",
    ),
    ("pages_written_back", "pages whose writeback completed"),
    ("oom_kills", "oom_kill: processes killed by the OOM killer"),
    ("alloc_failures", "allocations that failed for good"),
    ("packets_dropped", "packets dropped for want of memory"),
    ("max_stack_bytes", "deepest kernel stack seen, bytes"),
    (
        "throttled_ms_total",
        "ms spent asleep in throttles (all tasks)",
    ),
    ("kswapd_wakeups", "kswapd wakeups"),
];

/// The metrics at the pane's cursor as (name, value) rows.
pub fn metric_rows(pane: &Pane) -> Vec<(&'static str, &'static str, String)> {
    let m = report::metrics(&pane.cursor);
    let json = serde_json::to_value(&m).unwrap_or_default();
    ROWS.iter()
        .map(|(k, doc)| {
            (
                *k,
                *doc,
                json.get(*k).map_or_else(
                    || "–".to_string(),
                    |v| v.as_u64().map_or_else(|| v.to_string(), pages),
                ),
            )
        })
        .collect()
}

pub fn metrics_panel(e: &Engine) -> Html {
    let pane = e.panes()[0];
    let m = report::metrics(&pane.cursor);
    let rows = metric_rows(pane).into_iter().map(|(k, doc, v)| html! { <tr title={doc}><th scope="row">{ k }</th><td class="num">{ v }</td></tr> });
    let by_task = m.throttled_ms_by_task.iter().filter(|(_, ms)| **ms > 0).map(|(t, ms)| html! { <tr><th scope="row">{ t }</th><td class="num">{ format!("{} ms", pages(*ms)) }</td></tr> });
    let by_fn = m.sleep_ms_by_function.iter().filter(|(_, ms)| **ms > 0).map(|(f, ms)| html! { <tr><th scope="row">{ f }</th><td class="num">{ format!("{} ms", pages(*ms)) }</td></tr> });
    html! {
        <div id="metrics" class="metrics" data-tick={pane.tick().to_string()}>
            <table class="kv"><caption>{ format!("At t = {} s", format_seconds(pane.tick())) }</caption><tbody>{ for rows }</tbody></table>
            <table class="kv"><caption>{ "Throttled, by task" }</caption><tbody>{ for by_task }</tbody></table>
            <table class="kv"><caption>{ "Asleep, by kernel function" }</caption><tbody>{ for by_fn }</tbody></table>
        </div>
    }
}

/// Words for an outcome.
pub fn outcome_words(kind: OutcomeKind) -> &'static str {
    match kind {
        OutcomeKind::StackOverflow => "stack overflow",
        OutcomeKind::OomKill => "OOM kill",
        OutcomeKind::Deadlocked => "deadlocked",
        OutcomeKind::Stalled => "stalled",
        OutcomeKind::Completed => "completed",
        OutcomeKind::Incomplete => "incomplete",
    }
}

fn outcome_help(name: &str) -> &'static str {
    match name {
        "completed" => "every task that must finish finished",
        "incomplete" => "the scenario's time ran out while tasks were still making progress",
        "stalled" => "the tasks that must finish made no progress for a whole stall window (the I/O they wait for still trickles, or nothing closes a cycle of waits)",
        "deadlocked" => "the tasks that must finish made no progress, the blocked tasks wait on each other in a cycle, and nothing that cycle waits for moved",
        "oom_kill" => "the OOM killer killed a task that had to finish",
        "stack_overflow" => "a kernel stack grew past THREAD_SIZE",
        "hidden" => "predict mode: outcomes are hidden until you reveal them",
        STALLED_SO_FAR => "the tasks that must finish made no progress for a whole stall window; the run goes on to show whether they resume, and its final outcome may still change",
        _ => "the run has not reached its end at this time",
    }
}

/// ", then completed at N s" when a stalled run's tasks went on to finish, ", resumed at
/// N s" when they moved again but had not finished by the end (a stall is history
/// and stays the verdict, e.g. after a live toggle to a policy that recovers).
fn resumed_after_stall(pane: &Pane, o: &crate::sim::outcome::Outcome) -> String {
    let sim = &pane.cursor;
    if o.kind != OutcomeKind::Stalled {
        return String::new();
    }
    let must = || (0..sim.config().tasks.len()).filter(|&t| sim.config().tasks[t].must_finish);
    if must().all(|t| sim.state().tasks[t].finished_at.is_some()) {
        return must()
            .filter_map(|t| sim.state().tasks[t].finished_at)
            .max()
            .map_or(String::new(), |at| {
                format!(", then completed at {} s", format_seconds(at))
            });
    }
    stall_resumed_by_cursor(pane).map_or(String::new(), |at| {
        format!(", resumed at {} s", format_seconds(at))
    })
}

/// When the stalled workload started moving again, if it has by the pane's cursor.
fn stall_resumed_by_cursor(pane: &Pane) -> Option<u64> {
    let sim = &pane.cursor;
    sim.state().stall_resumed_at.filter(|&at| at <= sim.tick())
}

/// [`crate::share::stall::without_chain`] for the pane: at the cursor while the freeze
/// lasts, else at the freeze's last tick — replayed from a snapshot once per resumed stall
/// and recording generation (a fork before it changes both), not on every frame.
fn stall_words(pane: &Pane, since: u64) -> String {
    let Some(resumed) = stall_resumed_by_cursor(pane) else {
        return crate::share::stall::without_chain(&pane.cursor, since, None);
    };
    let key = (pane.rec.generation(), resumed);
    let mut memo = pane.stall_words.borrow_mut();
    match &*memo {
        Some((k, words)) if *k == key => words.clone(),
        _ => {
            let frozen = pane.rec.sim_at(resumed.saturating_sub(1));
            let words = crate::share::stall::without_chain(&frozen, since, Some(resumed));
            *memo = Some((key, words.clone()));
            words
        }
    }
}

/// The outcome badge of a pane: `data-outcome` is `running` until the cursor reaches the
/// run's end; hidden in predict mode until revealed. The verdict, then what followed a
/// stall (", resumed at …") in a span of its own, which a narrow compare pane cuts with an
/// ellipsis while the verdict keeps its width (four panes on a projector leave ~300 px).
pub fn outcome_badge(e: &Engine, pane: &Pane, id: Option<&'static str>) -> Html {
    let (name, verdict, after) = outcome_text(e, pane);
    // A stall found before the run's end looks like the stall verdict, dashed: the run
    // goes on and its final outcome may still change (a deadlock, an OOM kill).
    let class = if name == STALLED_SO_FAR {
        classes!("outcome", "o-stalled", "o-so-far")
    } else {
        classes!("outcome", format!("o-{name}"))
    };
    html! {
        <span id={id} class={class} data-outcome={name} role="status"
            title={format!("{verdict}{after}: {}", outcome_help(name))}>{ verdict }<span class="outcome-after">{ after }</span></span>
    }
}

/// `data-outcome` of a stall found before the run's end: not a final outcome (the
/// end-to-end tests wait for those), shown like one.
const STALLED_SO_FAR: &str = "stalled_so_far";

/// The outcome's name (`data-outcome`), the verdict ("stalled at 2.53 s") and what
/// followed it (", resumed at 55.604 s"; empty for most outcomes).
fn outcome_text(e: &Engine, pane: &Pane) -> (&'static str, String, String) {
    let hidden = e.predict && !e.revealed;
    match pane.outcome_at_cursor() {
        _ if hidden => (
            "hidden",
            "outcome hidden: predict it!".to_string(),
            String::new(),
        ),
        Some(o) => (
            o.kind.name(),
            format!(
                "{} at {} s",
                outcome_words(o.kind),
                format_seconds(o.at_tick)
            ),
            resumed_after_stall(pane, o),
        ),
        // The stall verdict is history once the cursor is past the tick it was found
        // (a whole stall window after the workload's last progress): say so, rather than
        // "running" beside a chart already marked "! stalled".
        None if pane.cursor.state().stall.is_some() => {
            let stall = pane
                .cursor
                .state()
                .stall
                .as_ref()
                .expect("matched just above");
            let after = resumed_after_stall(pane, stall);
            (
                STALLED_SO_FAR,
                format!("stalled at {} s", format_seconds(stall.at_tick)),
                if after.is_empty() {
                    ", the run goes on".to_string()
                } else {
                    after
                },
            )
        }
        None if !pane.rec.is_done() => (
            "running",
            format!(
                "running… (computing {} %)",
                pane.rec.computed_tick() * 100 / pane.rec.duration_ticks().max(1)
            ),
            String::new(),
        ),
        None => ("running", "running".to_string(), String::new()),
    }
}

/// "Why is it stuck?": shown when the run at the cursor ended deadlocked or stalled.
/// What the "Why is it stuck?" panel shows for a pane at its cursor, if anything.
pub struct Stuck {
    pub title: String,
    pub chain: Vec<String>,
    pub closes_at: usize,
    /// Words for a verdict without a chain (stalled).
    pub no_chain: Option<String>,
    /// Why a stall with a cycle of waits is not a deadlock.
    pub note: Option<String>,
}

/// The deadlock or stall verdict at the end of the run or the stall found so far, or —
/// before any verdict — the wait-for cycle as it stands once a task that must finish has
/// slept a whole stall window.
pub fn stuck(pane: &Pane) -> Option<Stuck> {
    let verdict = pane
        .outcome_at_cursor()
        .filter(|o| matches!(o.kind, OutcomeKind::Deadlocked | OutcomeKind::Stalled));
    if let Some(o) = verdict {
        return Some(verdict_stuck(pane, o));
    }
    // Before the end: the cycle of waits as it stands now, else the stall found by the
    // cursor's time (a stall window after the workload's last progress) — a livelock, or
    // a freeze that has begun to thaw.
    cycle_now(pane).or_else(|| {
        let stall = pane.cursor.state().stall.as_ref()?;
        Some(verdict_stuck(pane, stall))
    })
}

/// "Why is it stuck?" for a deadlock or stall verdict (at the end, or found so far).
fn verdict_stuck(pane: &Pane, o: &crate::sim::outcome::Outcome) -> Stuck {
    let title = match stall_resumed_by_cursor(pane).filter(|_| o.kind == OutcomeKind::Stalled) {
        Some(resumed) => format!(
            "Why was it stuck? (stalled from {} s to {} s; moving again since)",
            format_seconds(o.at_tick),
            format_seconds(resumed)
        ),
        None => format!(
            "Why is it stuck? ({} since {} s)",
            outcome_words(o.kind),
            format_seconds(o.at_tick)
        ),
    };
    Stuck {
        title,
        chain: o.chain.clone(),
        closes_at: o.chain_closes_at,
        no_chain: o.chain.is_empty().then(|| stall_words(pane, o.at_tick)),
        note: (o.kind == OutcomeKind::Stalled && !o.chain.is_empty()).then(|| {
            "Stalled, not deadlocked: the worker this cycle waits for still completes some I/O — far too little for the tasks that must finish.".to_string()
        }),
    }
}

/// The wait-for cycle at the cursor, once a task that must finish has slept a whole stall
/// window in it.
fn cycle_now(pane: &Pane) -> Option<Stuck> {
    let sim = &pane.cursor;
    let (task, since) = sim.longest_blocked()?;
    let asleep = sim.tick().saturating_sub(since);
    if asleep < sim.config().stall_window_ticks {
        return None;
    }
    let (chain, closes_at) = sim.wait_for_chain_now();
    (!chain.is_empty()).then(|| Stuck {
        title: format!(
            "Why is {} stuck? (asleep for {} s: a cycle of waits)",
            sim.config().tasks[task].name,
            format_seconds(asleep)
        ),
        chain,
        closes_at,
        no_chain: None,
        note: None,
    })
}

/// The chain as a small graph: each link's first two parts (task → what it sleeps in),
/// then back to the task where the cycle closes (not always the first: a path may lead
/// into the cycle).
pub fn chain_graph(chain: &[String], closes_at: usize) -> Html {
    let nodes: Vec<(&str, &str)> = chain
        .iter()
        .map(|link| {
            let mut parts = link.split(" → ");
            (parts.next().unwrap_or(""), parts.next().unwrap_or(""))
        })
        .collect();
    let Some(first) = nodes.first() else {
        return html! {};
    };
    html! {
        <div class="chain-graph" aria-hidden="true">
            { for nodes.iter().map(|(task, waits)| html! { <><span class="node">{ *task }</span><span class="edge">{ format!("→ {waits} →") }</span></> }) }
            <span class="node back">{ format!("↺ {}", nodes.get(closes_at).unwrap_or(first).0) }</span>
        </div>
    }
}

/// The compact form that is always on screen (beside the chart in the single view, under
/// the lanes in presenter mode and in each compare pane): the title and the graph, or —
/// for a stall no chain explains — its words (two lines of them under lanes); all of it in
/// the panel below and in the tooltip.
pub fn stuck_line(stuck: Option<&Stuck>, id: String) -> Html {
    let Some(st) = stuck else {
        return html! {};
    };
    let words = st.chain.is_empty().then(|| st.no_chain.clone()).flatten();
    let detail = words.clone().unwrap_or_else(|| st.chain.join("\n"));
    html! {
        <div class="pane-stuck" id={id} role="note" title={detail.clone()}
            aria-label={format!("{}: {}", st.title, detail.replace('\n', "; "))}>
            <span class="pane-stuck-title">{ &st.title }</span>
            { chain_graph(&st.chain, st.closes_at) }
            { for words.map(|w| html! { <span class="pane-stuck-words">{ w }</span> }) }
        </div>
    }
}

/// The panel under the transport in the single view. `stuck` is [`stuck`] of the single
/// pane, computed once per render for this panel and the compact line beside the chart.
pub fn why_stuck(e: &Engine, stuck: Option<&Stuck>) -> Html {
    if e.compare_on || (e.predict && !e.revealed) {
        return html! {};
    }
    let Some(st) = stuck else {
        return html! {};
    };
    let words = if st.chain.is_empty() {
        html! { <p>{ st.no_chain.clone().unwrap_or_default() }</p> }
    } else {
        html! { <ol class="chain-words">{ for st.chain.iter().map(|c| html! { <li>{ c }</li> }) }</ol> }
    };
    html! {
        <section id="why-stuck" class="why panel" aria-label="Why is it stuck?">
            <h2>{ &st.title }</h2>
            { chain_graph(&st.chain, st.closes_at) }
            { words }
            if let Some(note) = &st.note { <p class="chain-note">{ note }</p> }
        </section>
    }
}
