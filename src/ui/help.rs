//! The `?` overlay listing every shortcut.

use yew::prelude::*;

use super::player::Action;
use super::{cb, Dispatch};

pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Space", "play / pause"),
    ("→ / ←", "step one tick forward / back"),
    (
        "Shift + → / ←",
        "next / previous event (honours the event filter)",
    ),
    ("Home / End", "start / end of the run"),
    (
        "PageDown / PageUp",
        "next / previous chapter (presentation clickers send these)",
    ),
    ("p", "presenter mode: large type, side panels folded"),
    ("c", "compare policies side by side"),
    ("r", "reset to the start, paused"),
    ("?", "this help; Esc closes it"),
];

pub fn overlay(d: &Dispatch) -> Html {
    html! {
        <div class="overlay" role="dialog" aria-modal="true" aria-labelledby="help-title" id="help">
            <div class="dialog">
                <h2 id="help-title">{ "Keyboard shortcuts" }</h2>
                <table class="keys"><tbody>
                    { for SHORTCUTS.iter().map(|(k, what)| html! { <tr><th scope="row"><kbd>{ *k }</kbd></th><td>{ *what }</td></tr> }) }
                </tbody></table>
                <p>{ "Click or drag on the timeline to seek; click a task lane to see its call stack. The address bar always holds the exact screen: copy it to share." }</p>
                <button id="btn-help-close" aria-label="Close the help" onclick={cb(d, |_| Action::ToggleHelp)}>{ "close" }</button>
            </div>
        </div>
    }
}
