//! Pressure Lab: a deterministic simulator of Linux memory allocation under pressure.
//!
//! - [`sim`]: the platform-free core (no IO, no clock, no web crates), the
//!   `pressure-lab-sim` crate in `crates/sim`, re-exported here.
//! - [`scenario`]: scenario files (JSON) → validated [`sim::config::Config`].
//! - [`report`]: run summaries, metrics and the outcome matrix (CLI and UI share them).
//! - [`charts`]: plotters charts, generic over the drawing backend.
//! - `ui` (wasm32 only): the Yew app; owns no simulation logic.

pub mod charts;
pub mod report;
pub mod scenario;
pub mod share;
pub use pressure_lab_sim as sim;
pub mod trace;
#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(all(test, target_arch = "wasm32"))]
mod wasm_determinism;
