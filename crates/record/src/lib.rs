//! The recorded run the UI plays back: [`recording::Recording`] computes a run ahead and
//! keeps its timeline [`point::Point`]s, task-state lanes, events, snapshots and policy
//! forks, and writes the [`klog::Klog`] as it goes.
//!
//! A crate of its own for one reason: the browser computes a whole recorded run on every
//! policy toggle, and this is the part of that work outside the simulation core. The
//! browser build optimises the UI for size (opt-level "z"); this crate and the core are
//! optimised for speed (Cargo.toml, `[profile.wasm-release.package.*]`; BENCHMARKS.md).
//! Like the core it knows nothing of yew, web-sys or the clock. Tests that need the
//! built-in scenarios live in the main crate (`src/share/recording.rs`, `klog.rs`).

/// The kernel log: a crate of its own, optimised for size in the browser build — it
/// formats a few hundred reports a run at most, and at opt-level 3 its `format!`s cost
/// 1.2 KB of gzipped .wasm (ARCHITECTURE.md).
pub use pressure_lab_klog as klog;
pub mod point;
pub mod recording;
