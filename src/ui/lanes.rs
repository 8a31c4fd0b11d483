//! Task lanes (canvas, `charts::lanes`) under the timeline, and the selected task's call
//! stack with its depth against thread_size.

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use yew::prelude::*;

use super::engine::{Engine, Pane};
use super::timeline::{pane_of, x_css, EngineRef};
use crate::charts::lanes::{self, LaneView};
use crate::charts::timeline::RIGHT_PX;
use crate::sim::config::TaskKind;
use crate::sim::event::SleepFn;
use crate::sim::sample::TaskState;

#[derive(Properties, PartialEq)]
pub struct LanesProps {
    pub engine: EngineRef,
    pub pane: usize,
    pub data_rev: u64,
    pub tick: u64,
    pub end: u64,
    pub selected: usize,
    pub hide_future: bool,
    pub on_select: Callback<usize>,
}

/// The task whose stack is shown: the one selected; else the one whose stack overflowed;
/// else, while "Why is it stuck?" shows a wait-for cycle (`insight::stuck`), the task
/// where the cycle closes (the reader in mempool_alloc that oom-victim-mempool is
/// about, not its idle kcryptd); else the first kernel worker (kcryptd, nfsd); else the
/// first task that must finish and has not exited (a stalled swap over NBD shows a reader
/// still spinning in reclaim, not one that finished); else the first that must finish.
pub fn selected_task(e: &Engine, pane: &Pane) -> usize {
    let cfg = pane.rec.base().config();
    let state = pane.cursor.state();
    e.selected_task
        .filter(|t| *t < cfg.tasks.len())
        .or_else(|| state.overflow.map(|(t, _)| t))
        // Not while predict mode hides the outcome: the task where a cycle closes would
        // give it away.
        .or_else(|| {
            if e.predict && !e.revealed {
                return None;
            }
            let stuck = super::insight::stuck(pane)?;
            let link = stuck.chain.get(stuck.closes_at)?;
            cfg.task_index(link.split(" → ").next()?)
        })
        .or_else(|| {
            cfg.tasks
                .iter()
                .position(|t| matches!(t.kind, TaskKind::Kcryptd { .. } | TaskKind::Nfsd { .. }))
        })
        .or_else(|| {
            (0..cfg.tasks.len()).find(|&t| cfg.tasks[t].must_finish && !state.tasks[t].exited)
        })
        .or_else(|| cfg.tasks.iter().position(|t| t.must_finish))
        .unwrap_or(0)
}

/// Lane height: the mode's size, shrunk so that many tasks (swap-over-nbd has twenty)
/// still leave the transport and narration on a 1280×720 screen.
fn lane_px(e: &Engine, n_tasks: usize) -> u32 {
    let (px, total) = if e.presenter {
        (26, 184)
    } else if e.compare_on {
        (20, 150)
    } else {
        (24, 264)
    };
    (total / n_tasks.max(1) as u32).clamp(14, px)
}

/// What the lane colours mean (the same fixed colours as `charts::lanes::state_colour`).
pub fn legend() -> Html {
    const KEYS: &[(&str, &str, &str)] = &[
        ("running", "running", "on the CPU, not in reclaim"),
        ("reclaim", "direct reclaim", "allocating: reclaiming pages itself"),
        ("throttled", "asleep in a throttle", "throttle_vm_writeout, congestion_wait, balance_dirty_pages, pfmemalloc_wait, …: the lane names the function where it fits"),
        ("mempool", "mempool wait", "asleep in mempool_alloc until an element is freed"),
        ("io", "I/O wait", "waiting for a read or a request to complete"),
        ("killed", "killed", "killed by the OOM killer"),
        ("exited", "exited", "finished its work"),
        ("brief", "brief", "a state too short to fill its pixel of the axis (a one-millisecond reclaim or wake-up), drawn low in the lane"),
    ];
    html! {
        <div class="lane-legend" aria-label="Lane colours">
            { for KEYS.iter().map(|(class, label, doc)| html! {
                <span class={classes!("key", *class)} title={*doc}><i></i>{ *label }</span>
            }) }
        </div>
    }
}

#[function_component]
pub fn Lanes(props: &LanesProps) -> Html {
    let canvas = use_node_ref();
    let (n_tasks, px, presenter) = {
        let e = props.engine.0.borrow();
        (
            pane_of(&e, props.pane).rec.base().config().tasks.len(),
            lane_px(&e, pane_of(&e, props.pane).rec.base().config().tasks.len()),
            e.presenter,
        )
    };
    {
        let canvas = canvas.clone();
        let engine = props.engine.clone();
        let (pane, end, selected) = (props.pane, props.end, props.selected);
        use_effect_with((props.data_rev, end, selected, presenter, px), move |_| {
            let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() else {
                return;
            };
            let e = engine.0.borrow();
            let pane = pane_of(&e, pane);
            let (w, h) = (
                c.client_width().max(200) as u32,
                c.client_height().max(20) as u32,
            );
            if c.width() != w || c.height() != h {
                c.set_width(w);
                c.set_height(h);
            }
            let Some(backend) = CanvasBackend::with_canvas_object(c) else {
                return;
            };
            let names = task_names(pane);
            let view = LaneView {
                names: &names,
                lanes: pane.rec.lanes(),
                until_tick: pane.rec.computed_tick(),
                end_tick: end,
                selected: Some(selected),
                font_px: (if presenter { 16 } else { 12 }).min(px - 3),
                lane_px: px,
                cache: Some((&pane.lane_cache, pane.rec.generation())),
            };
            if let Err(err) = lanes::draw(&backend.into_drawing_area(), &view) {
                gloo::console::warn!(format!("lanes: {err}"));
            }
        });
    }
    let onclick = {
        let on_select = props.on_select.clone();
        Callback::from(move |ev: MouseEvent| {
            let y = ev.offset_y().max(0) as u32;
            let t = (y / px) as usize;
            if t < n_tasks {
                on_select.emit(t);
            }
        })
    };
    let height = format!("height: {}px", n_tasks as u32 * px);
    let e = props.engine.0.borrow();
    let pane = pane_of(&e, props.pane);
    let names = task_names(pane);
    // A text version of the lanes at the cursor, for screen readers and tests.
    let sample = pane.cursor.sample();
    let states: Vec<Html> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let s = sample.tasks.get(i).map_or("?", |t| t.state.label());
            html! { <li data-task={n.clone()} data-state={s}>{ format!("{n}: {s}") }</li> }
        })
        .collect();
    html! {
        <div class="lanes-wrap" style={height.clone()}>
            <canvas class="lanes" style={height} ref={canvas} {onclick} role="img"
                aria-label="Task lanes: each task's state over time; click a lane to see its call stack" />
            if props.hide_future {
                <div class="future-cover" style={format!("left: {}; right: {RIGHT_PX}px", x_css(props.tick, props.end))}></div>
            }
            <div class="cursor" style={format!("left: {}", x_css(props.tick, props.end))} aria-hidden="true"></div>
            <ul class="offscreen task-states">{ for states }</ul>
        </div>
    }
}

/// The task picker and call stack panel (deepest frame on top). Once the selected task's
/// stack has overflowed, the panel shows the stack that overflowed, frame by frame
/// (`Sim::overflow_stack`: the reclaim path, `->writepage` and the seeded extra depth),
/// with THREAD_SIZE drawn where the frames cross it.
pub fn stack(e: &Engine, pane: &Pane) -> Html {
    let task = selected_task(e, pane);
    let cfg = pane.rec.base().config();
    let sample = pane.cursor.sample();
    let overflow = pane
        .cursor
        .state()
        .overflow
        .filter(|(t, _)| *t == task)
        .map(|(_, d)| d);
    let overflow_frames = overflow.and_then(|_| pane.cursor.overflow_stack());
    let frames: Vec<crate::sim::stack::Frame> = match overflow_frames {
        Some(f) => f.to_vec(),
        None => pane.cursor.call_stack(task),
    };
    let depth = overflow.unwrap_or_else(|| sample.tasks.get(task).map_or(0, |t| t.depth_bytes));
    let listed: u64 = frames.iter().map(|f| f.bytes).sum();
    // An overflow the model reports without its frames: the missing part as one row.
    let extra = overflow.map(|d| d.saturating_sub(listed)).filter(|x| *x > 0).map(|x| {
        html! { <tr class="est over"><td class="fn">{ "reclaim → ->writepage path (xfs_vm_writepage …)" }</td><td class="num">{ format!("~{x}") }</td></tr> }
    });
    let max = pane
        .cursor
        .state()
        .tasks
        .get(task)
        .map_or(0, |t| t.depth_bytes_max);
    let thread_size = u64::from(pane.cursor.knobs().thread_size);
    let over = depth > thread_size;
    let pct = super::percent(depth, thread_size);
    let state = match sample.tasks.get(task).map(|t| t.state) {
        // "idle" says little to a student: whose sleep is it?
        Some(TaskState::Sleeping(SleepFn::Idle)) => match cfg.tasks[task].kind {
            TaskKind::User { .. } => "nanosleep (the program's own sleep)",
            _ => "idle (waiting for work)",
        },
        Some(s) => s.label(),
        None => "?",
    };
    // The lane's state is the tick's (a pass that ended within the tick still counts as
    // direct reclaim); the frames are the stack at the tick's end. Say so where they part.
    let now = pane.cursor.state().tasks.get(task);
    let state_note = match sample.tasks.get(task).map(|t| t.state) {
        // The stack that overflowed is shown as it was, not the one after the tick.
        _ if overflow_frames.is_some() => "",
        Some(TaskState::DirectReclaim) if now.is_some_and(|t| t.reclaim.is_none()) => {
            " (the pass ended within this tick; the stack is the one after it)"
        }
        Some(TaskState::Running) if now.is_some_and(|t| t.wait.is_some()) => {
            " (then went back to waiting; the stack is the waiting one)"
        }
        _ => "",
    };
    // Depth at the top of each frame (outermost first), to place the THREAD_SIZE line.
    let mut top = 0u64;
    let tops: Vec<u64> = frames
        .iter()
        .map(|f| {
            top += f.bytes;
            top
        })
        .collect();
    let mut rows: Vec<Html> = Vec::new();
    for (i, f) in frames.iter().enumerate().rev() {
        let bytes = if f.bytes == 0 {
            String::new()
        } else if f.estimated {
            format!("~{}", f.bytes)
        } else {
            f.bytes.to_string()
        };
        let title = if f.estimated {
            "estimated frame size (not from a measured trace)"
        } else {
            "frame size in bytes, from a measured kernel stack trace"
        };
        let below = tops[i] - f.bytes;
        let past = tops[i] > thread_size;
        let seeded = f.function.contains("seeded)");
        rows.push(html! {
            <tr class={classes!(f.estimated.then_some("est"), past.then_some("past"), seeded.then_some("seeded"))}>
                <td class="fn">{ &f.function }</td><td class="num" title={title}>{ bytes }</td>
            </tr>
        });
        if overflow_frames.is_some() && below <= thread_size && tops[i] > thread_size {
            rows.push(html! {
                <tr class="thread-size" title="The end of the kernel stack: the frames above this line were written past it, over whatever lies below the stack">
                    <td colspan="2">{ format!("▲ past THREAD_SIZE ({} B) ▲", super::pages(thread_size)) }</td></tr>
            });
        }
    }
    // An exited task has no kernel stack left (do_exit freed it): say so, not an empty table.
    if rows.is_empty() {
        rows.push(html! { <tr class="none"><td colspan="2">{ "no kernel stack: not running in the kernel" }</td></tr> });
    }
    let heading = if overflow_frames.is_some() {
        "stack that overflowed, deepest on top"
    } else {
        "function (deepest on top)"
    };
    html! {
        <section class="panel stack" aria-label="Selected task's call stack">
            <h2>{ "Task " }<span id="selected-task">{ &cfg.tasks[task].name }</span></h2>
            <div class="task-state">{ "state: " }<b>{ state }</b><span class="state-note">{ state_note }</span></div>
            <div class="stack-scroll">
                <table class={classes!("frames", overflow_frames.is_some().then_some("overflowed"))} id="stack-frames">
                    <thead><tr><th>{ heading }</th><th class="num">{ "bytes" }</th></tr></thead>
                    <tbody>{ for extra }{ for rows }</tbody>
                </table>
            </div>
            <div class="depth" title="Kernel stack in use now (sum of frame sizes, the model's depth) against THREAD_SIZE; it turns red past it">
                <div class={classes!("bar", over.then_some("over"))} role="meter" aria-label="stack depth" aria-valuemin="0"
                    aria-valuemax={thread_size.to_string()} aria-valuenow={depth.to_string()}>
                    <div class="fill" style={format!("width: {pct}")}></div>
                </div>
                <div class="depth-num">{ format!("stack {} / {} B", super::pages(depth), super::pages(thread_size)) }
                    { format!(" · max {} B", super::pages(max)) }{ if over { " · OVERFLOW" } else { "" } }</div>
            </div>
        </section>
    }
}

/// The task names of a pane's scenario, in lane order.
fn task_names(pane: &Pane) -> Vec<String> {
    pane.rec
        .base()
        .config()
        .tasks
        .iter()
        .map(|t| t.name.clone())
        .collect()
}
