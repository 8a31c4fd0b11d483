//! Platform-free logic behind the browser UI, tested natively: the recorded run with its
//! snapshots and policy forks ([`recording`]), the shareable URL ([`url`]), the kernel log
//! ([`klog`]), editable scenario parameters ([`params`]) and the floors of allocations
//! below min for the zone gauges ([`floors`]).
//!
//! Architecture invariant: nothing here knows about yew, web-sys or the clock; the UI in
//! `ui/` only calls these functions and draws what they return.

pub mod floors;
pub mod klog;
pub mod params;
pub mod recording;
pub mod url;
