//! Browser adapters: the clock for frame budgets, per-frame work statistics exposed to
//! benchmarks as `window.__plFrameStats`, the address bar, the clipboard, downloads and
//! the compact (deflate + base64url) form of edited parameters.

use std::cell::RefCell;

use base64::Engine as _;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

pub fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Frames whose work is kept for the rolling p95.
const STATS_FRAMES: usize = 240;

#[derive(Default)]
struct FrameStats {
    started: Option<f64>,
    work_ms: Vec<f64>,
    next: usize,
    frames: u64,
}

thread_local! {
    static STATS: RefCell<FrameStats> = RefCell::new(FrameStats::default());
}

/// Marks the start of a frame's work (the reducer handling `Action::Frame`).
pub fn frame_started() {
    STATS.with(|s| s.borrow_mut().started = Some(now_ms()));
}

/// Marks the end of the frame's work (after render and drawing); publishes the stats.
pub fn frame_finished() {
    let Some(ms) = STATS
        .with(|s| s.borrow_mut().started.take())
        .map(|start| now_ms() - start)
    else {
        return;
    };
    let (p95, max, frames, mean) = STATS.with(|s| {
        let mut s = s.borrow_mut();
        if s.work_ms.len() < STATS_FRAMES {
            s.work_ms.push(ms);
        } else {
            let i = s.next;
            s.work_ms[i] = ms;
        }
        s.next = (s.next + 1) % STATS_FRAMES;
        s.frames += 1;
        let mut sorted = s.work_ms.clone();
        sorted.sort_by(f64::total_cmp);
        let p95 = sorted[((sorted.len() as f64 * 0.95).ceil() as usize).clamp(1, sorted.len()) - 1];
        let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
        (p95, sorted[sorted.len() - 1], s.frames, mean)
    });
    let Some(window) = web_sys::window() else {
        return;
    };
    let obj = js_sys::Object::new();
    for (k, v) in [
        ("p95_ms", p95),
        ("max_ms", max),
        ("mean_ms", mean),
        ("last_ms", ms),
        ("frames", frames as f64),
        ("window", STATS_FRAMES as f64),
    ] {
        let _ = js_sys::Reflect::set(&obj, &k.into(), &v.into());
    }
    let _ = js_sys::Reflect::set(&window, &"__plFrameStats".into(), &obj);
}

/// Publishes the cost of the last recompute (a knob, preset or parameter change) as
/// `window.__plRecompute = { ms, done, computed_tick }` for benchmarks: `ms` is the time
/// the action took, `done` whether every run was complete when it returned.
pub fn publish_recompute(ms: f64, done: bool, computed_tick: u64) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"ms".into(), &ms.into());
    let _ = js_sys::Reflect::set(&obj, &"done".into(), &done.into());
    let _ = js_sys::Reflect::set(
        &obj,
        &"computed_tick".into(),
        &(computed_tick as f64).into(),
    );
    let _ = js_sys::Reflect::set(&window, &"__plRecompute".into(), &obj);
}

/// Clears the rolling window (a benchmark calls `window.__plResetFrameStats()`).
pub fn install_stats_reset() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let f = Closure::<dyn Fn()>::new(|| STATS.with(|s| *s.borrow_mut() = FrameStats::default()));
    let _ = js_sys::Reflect::set(&window, &"__plResetFrameStats".into(), f.as_ref());
    f.forget();
}

/// The page's query string (`?…`), empty if none.
pub fn location_search() -> String {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default()
}

/// Puts `query` in the address bar without a navigation or a history entry.
pub fn replace_query(query: &str) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let path = window
        .location()
        .pathname()
        .unwrap_or_else(|_| "/".to_string());
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("{path}{query}")));
    }
}

pub fn page_url() -> String {
    web_sys::window()
        .and_then(|w| w.location().href().ok())
        .unwrap_or_default()
}

/// Copies `text`; a refusal (no permission, no focus) is reported through `on_error`
/// instead of an unhandled promise rejection.
pub fn copy_text(text: &str, on_error: impl Fn(String) + 'static) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let promise = window.navigator().clipboard().write_text(text);
    let catch = Closure::once(move |e: JsValue| {
        on_error(format!(
            "copy link: the browser refused the clipboard ({}); copy it from the address bar",
            e.as_string().unwrap_or_else(|| "no permission".into())
        ))
    });
    let _ = promise.catch(&catch);
    catch.forget();
}

/// Starts a download of `href` (a data: or blob: URL) named `name`.
pub fn download(href: &str, name: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Ok(a) = doc.create_element("a") else {
        return;
    };
    let Ok(a) = a.dyn_into::<web_sys::HtmlAnchorElement>() else {
        return;
    };
    a.set_href(href);
    a.set_download(name);
    a.click();
}

/// Downloads `text` as a file of MIME type `mime`.
pub fn download_text(text: &str, name: &str, mime: &str) {
    let parts = js_sys::Array::of1(&JsValue::from_str(text));
    let opts = web_sys::BlobPropertyBag::new();
    opts.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &opts) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    download(&url, name);
    let _ = web_sys::Url::revoke_object_url(&url);
}

/// Edited parameters in the URL: raw deflate, then base64url without padding.
pub fn compact(text: &str) -> String {
    let deflated = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(deflated)
}

/// The inverse of [`compact`]; errors say which step failed.
pub fn expand(blob: &str) -> Result<String, String> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(blob.trim_end_matches('='))
        .map_err(|_| "not base64url text (truncated link?)".to_string())?;
    let inflated = miniz_oxide::inflate::decompress_to_vec_with_limit(&bytes, 64 * 1024)
        .map_err(|_| "the compressed data is damaged (truncated link?)".to_string())?;
    String::from_utf8(inflated).map_err(|_| "the data is not text".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::*;

    wasm_bindgen_test_configure!(run_in_browser);

    #[wasm_bindgen_test]
    fn compact_round_trips_and_rejects_garbage() {
        let text = "/zones/0/mib=2048;/tasks/0/program/0/mib_per_s=300";
        assert_eq!(expand(&compact(text)).unwrap(), text);
        assert!(expand("!!!").is_err());
        let blob = compact(text);
        assert!(expand(&blob[..blob.len() / 2]).is_err());
    }
}
