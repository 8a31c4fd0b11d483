//! The browser app (wasm32 only): a Yew function component tree over one reducer
//! ([`player::Player`]). Architecture invariant: the UI owns no simulation logic; it asks
//! `share::recording` for states at ticks and `report::metrics` for numbers, and draws them.
//!
//! One module per panel; charts are `crate::charts::*` drawn on canvases here.

mod app;
mod browser;
mod compare;
mod controls;
mod devices;
mod engine;
mod events;
mod help;
mod insight;
mod lanes;
mod narration;
mod player;
mod policy;
mod timeline;
mod zones;

use yew::prelude::*;

pub use app::App;

pub type Dispatch = UseReducerDispatcher<player::Player>;

/// A callback that maps a DOM event to an action.
pub fn cb<E: 'static>(d: &Dispatch, f: impl Fn(E) -> player::Action + 'static) -> Callback<E> {
    let d = d.clone();
    Callback::from(move |e: E| d.dispatch(f(e)))
}

pub use crate::share::pages;

/// Pages as MiB with one decimal (rounded half to even, as `{:.1}` of the exact value).
/// Integer arithmetic: the page's .wasm has no room for more float formatting sites.
pub fn mib(pages_n: u64) -> String {
    let (q, r) = (pages_n * 10 / 256, pages_n * 10 % 256);
    let tenths = q + u64::from(r > 128 || (r == 128 && q % 2 == 1));
    format!("{}.{} MiB", tenths / 10, tenths % 10)
}

/// `part` of `whole` as a CSS percentage with two decimals, at most 100 %.
pub fn percent(part: u64, whole: u64) -> String {
    let bp = part.min(whole) * 10_000 / whole.max(1);
    format!("{}.{:02}%", bp / 100, bp % 100)
}

/// Mounts the app on `<body>`.
pub fn start() {
    browser::install_stats_reset();
    yew::Renderer::<App>::new().render();
}
