//! Platform-free logic behind the browser UI, tested natively: the recorded run with its
//! snapshots and policy forks ([`recording`]), the shareable URL ([`url`]), the kernel log
//! ([`klog`]), the event log's filter ([`event_filter`]), editable scenario parameters ([`params`]) and the floors of allocations
//! below min for the zone gauges ([`floors`]) and the words for a stall no wait-for chain
//! explains ([`stall`]).
//!
//! Architecture invariant: nothing here knows about yew, web-sys or the clock; the UI in
//! `ui/` only calls these functions and draws what they return.

/// Pages (or any count) as a grouped number: `245 312`, with narrow no-break spaces.
pub fn pages(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{202F}');
        }
        out.push(c);
    }
    out
}

pub mod event_filter;
pub mod floors;
pub mod klog;
pub mod params;
pub mod recording;
pub mod stall;
pub mod url;
