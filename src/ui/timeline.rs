//! The timeline canvas: `charts::timeline` drawn with plotters-canvas whenever the
//! recording changes; the cursor is a positioned element on top, so moving it costs no
//! redraw. Click or drag seeks (x pixel → tick through the chart's fixed margins).

use std::cell::RefCell;
use std::rc::Rc;

use plotters::prelude::*;
use plotters_canvas::CanvasBackend;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use super::engine::{Engine, Pane};
use crate::charts::timeline::{self, Marker, MarkerKind, View, LEFT_PX, RIGHT_PX};

/// The engine, compared by identity (its changes are signalled by `data_rev`).
#[derive(Clone)]
pub struct EngineRef(pub Rc<RefCell<Engine>>);

impl PartialEq for EngineRef {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    pub engine: EngineRef,
    pub pane: usize,
    pub data_rev: u64,
    pub tick: u64,
    pub end: u64,
    pub compact: bool,
    /// Predict mode: the future is covered until the outcomes are revealed.
    pub hide_future: bool,
    pub id: AttrValue,
    pub on_seek: Callback<u64>,
}

/// `left` of an element standing at `tick` on an axis `0..end`, in the chart's plot area.
pub fn x_css(tick: u64, end: u64) -> String {
    // The fraction to five decimals, by integers (see `super::mib`).
    let n = tick.min(end) * 100_000 / end.max(1);
    format!(
        "calc({LEFT_PX}px + (100% - {}px) * {}.{:05})",
        LEFT_PX + RIGHT_PX,
        n / 100_000,
        n % 100_000
    )
}

/// The tick under a pointer at `client_x` over `el`.
pub fn tick_at(el: &web_sys::Element, client_x: i32, end: u64) -> u64 {
    let rect = el.get_bounding_client_rect();
    let plot_w = (rect.width() - f64::from(LEFT_PX + RIGHT_PX)).max(1.0);
    let frac = ((f64::from(client_x) - rect.left() - f64::from(LEFT_PX)) / plot_w).clamp(0.0, 1.0);
    (frac * end as f64).round() as u64
}

pub fn pane_of(e: &Engine, index: usize) -> &Pane {
    e.panes()[index.min(e.panes().len() - 1)]
}

fn markers(e: &Engine, pane: &Pane) -> Vec<Marker> {
    let mut out = Vec::new();
    for (i, t) in pane.rec.chapters().iter().enumerate() {
        if let Some(t) = t {
            out.push(Marker {
                tick: *t,
                label: format!("{}", i + 1),
                kind: MarkerKind::Chapter,
            });
        }
    }
    let hide = e.predict && !e.revealed;
    if !hide {
        for v in &pane.rec.head().state().verdicts {
            if matches!(v.kind.as_str(), "completed" | "incomplete") {
                continue;
            }
            out.push(Marker {
                tick: v.at_ms,
                label: format!("! {}", v.kind),
                kind: MarkerKind::Verdict,
            });
        }
    }
    for f in pane.rec.forks() {
        out.push(Marker {
            tick: f.tick,
            label: format!("fork: {}={}", f.knob, f.value),
            kind: MarkerKind::Fork,
        });
    }
    out
}

fn font_px(e: &Engine, compact: bool) -> u32 {
    if e.presenter {
        18
    } else if compact {
        12
    } else {
        13
    }
}

/// The pixel size `canvas` is laid out at.
fn laid_out(canvas: &web_sys::HtmlCanvasElement) -> (u32, u32) {
    (
        canvas.client_width().max(200) as u32,
        canvas.client_height().max(100) as u32,
    )
}

/// Draws pane `pane`'s timeline on `canvas` at `(w, h)` pixels. On screen (`export` None)
/// the legend, the cursor and predict mode's cover are HTML around and on top of the
/// canvas; for a picture (`export` = the cursor's tick) all three go into the drawing —
/// the legend as a row under the chart, the cursor as a line, and under a hidden future no
/// curve past the cursor.
fn draw(
    canvas: &web_sys::HtmlCanvasElement,
    (w, h): (u32, u32),
    e: &Engine,
    pane: &Pane,
    end: u64,
    compact: bool,
    export: Option<u64>,
) {
    let font_px = font_px(e, compact);
    // scenario · policy · time, as the page's header shows them.
    let caption = match export {
        Some(t) => format!(
            "{} · {} · t = {}.{:03} s",
            e.scenario_name,
            pane.label,
            t / 1000,
            t % 1000
        ),
        None => String::new(),
    };
    if canvas.width() != w || canvas.height() != h {
        canvas.set_width(w);
        canvas.set_height(h);
    }
    let Some(backend) = CanvasBackend::with_canvas_object(canvas.clone()) else {
        return;
    };
    let area = backend.into_drawing_area();
    let plot_w = w.saturating_sub(LEFT_PX + RIGHT_PX) as usize;
    let mut points = timeline::decimate(pane.rec.points(), plot_w * 2);
    let mut markers = markers(e, pane);
    // As on screen, where compare panes in predict mode cover their future.
    if let Some(cursor) = export.filter(|_| e.compare_on && e.predict && !e.revealed) {
        points.retain(|p| p.tick <= cursor);
        markers.retain(|m| m.tick <= cursor);
    }
    let managed: u64 = pane
        .rec
        .base()
        .config()
        .zones
        .iter()
        .map(|z| z.managed_pages)
        .sum();
    let view = View {
        points: &points,
        end_tick: end,
        cursor_tick: export,
        markers: &markers,
        y_max: managed,
        log_y: true,
        font_px,
        compact,
        legend: export.is_some(),
        caption: &caption,
    };
    if let Err(err) = timeline::draw(&area, &view) {
        gloo::console::warn!(format!("timeline: {err}"));
    }
}

/// The timeline shown on canvas `id` (pane `index`) as a PNG `data:` URL, with what the
/// page draws around and over it in HTML put into the picture (see `draw`), so that a
/// slide made from it explains itself — and a caption above it: scenario, policy and time.
/// Drawn on a canvas of its own, the chart as wide and high as on screen plus those rows.
pub fn png(e: &Engine, index: usize, id: &str) -> Option<String> {
    let doc = web_sys::window()?.document()?;
    let shown: web_sys::HtmlCanvasElement = doc.get_element_by_id(id)?.dyn_into().ok()?;
    let canvas: web_sys::HtmlCanvasElement = doc.create_element("canvas").ok()?.dyn_into().ok()?;
    let (w, h) = laid_out(&shown);
    let compact = e.compare_on;
    let pane = pane_of(e, index);
    // The caption's row and the legend's rows.
    let font_px = font_px(e, compact);
    let size = (w, h + 2 * font_px + timeline::legend_px(w, font_px));
    draw(
        &canvas,
        size,
        e,
        pane,
        e.end_tick(),
        compact,
        Some(pane.tick()),
    );
    canvas.to_data_url_with_type("image/png").ok()
}

#[function_component]
pub fn Timeline(props: &TimelineProps) -> Html {
    let canvas = use_node_ref();
    let wrap = use_node_ref();
    let dragging = use_mut_ref(|| false);
    {
        let canvas = canvas.clone();
        let engine = props.engine.clone();
        let (pane, end, compact) = (props.pane, props.end, props.compact);
        let (presenter, revealed) = {
            let e = engine.0.borrow();
            (e.presenter, e.revealed)
        };
        use_effect_with(
            (props.data_rev, end, compact, presenter, revealed),
            move |_| {
                if let Some(c) = canvas.cast::<web_sys::HtmlCanvasElement>() {
                    let e = engine.0.borrow();
                    draw(&c, laid_out(&c), &e, pane_of(&e, pane), end, compact, None);
                }
            },
        );
    }
    let seek_at = {
        let (wrap, on_seek, end) = (wrap.clone(), props.on_seek.clone(), props.end);
        move |x: i32| {
            if let Some(el) = wrap.cast::<web_sys::Element>() {
                on_seek.emit(tick_at(&el, x, end));
            }
        }
    };
    let onpointerdown = {
        let (seek_at, dragging) = (seek_at.clone(), dragging.clone());
        Callback::from(move |e: PointerEvent| {
            *dragging.borrow_mut() = true;
            if let Some(t) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            {
                let _ = t.set_pointer_capture(e.pointer_id());
            }
            seek_at(e.client_x());
        })
    };
    let onpointermove = {
        let (seek_at, dragging) = (seek_at.clone(), dragging.clone());
        Callback::from(move |e: PointerEvent| {
            if *dragging.borrow() && e.buttons() & 1 == 1 {
                seek_at(e.client_x());
            }
        })
    };
    let onpointerup = {
        let dragging = dragging.clone();
        Callback::from(move |_: PointerEvent| *dragging.borrow_mut() = false)
    };
    let cursor_style = format!("left: {}", x_css(props.tick, props.end));
    let future_style = format!(
        "left: {}; right: {RIGHT_PX}px",
        x_css(props.tick, props.end)
    );
    html! {
        <>
        // Compare panes share one legend, under the panes.
        if !props.compact {
            { legend(false) }
        }
        <div class={classes!("timeline-wrap", props.compact.then_some("compact"))} ref={wrap}
            {onpointerdown} {onpointermove} {onpointerup}
            title="Click or drag to move the cursor in time">
            <canvas id={props.id.clone()} class="timeline" ref={canvas}
                role="img" aria-label="Timeline: free pages against the min, low and high watermarks, with dirty, writeback and swap used; click to seek" />
            if props.hide_future {
                <div class="future-cover" style={future_style}>{ "?" }</div>
            }
            <div class="cursor" style={cursor_style} aria-hidden="true"></div>
        </div>
        </>
    }
}

/// What the timeline's lines and markers mean (HTML, so it never hides data).
pub fn legend(compact: bool) -> Html {
    const KEYS: &[(&str, &str)] = &[
        ("free", "free"),
        ("min", "min"),
        ("low", "low"),
        ("high", "high"),
        ("dirty", "dirty"),
        ("writeback", "writeback"),
        ("swap", "swap used"),
        ("reserve", "below min (reserve use)"),
        ("mark-ch", "chapter"),
        ("mark-v", "! verdict"),
        ("mark-f", "fork"),
    ];
    html! {
        <div class={classes!("legend", compact.then_some("compact"))} aria-hidden="true">
            { for KEYS.iter().map(|(class, label)| html! { <span class={classes!("key", *class)}><i></i>{ *label }</span> }) }
        </div>
    }
}
