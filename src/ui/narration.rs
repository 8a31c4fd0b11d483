//! Narration: the current chapter's sentence under the transport, and the scenario's
//! title, summary, what to watch, chapters and caveats.

use yew::prelude::*;

use super::engine::Engine;
use super::player::Action;
use super::{cb, Dispatch};
use crate::share::url::format_seconds;

pub fn line(e: &Engine) -> Html {
    let file = &e.scenario.file;
    let n = file.chapters.len();
    let body = match e.current_chapter() {
        Some(i) => html! {
            <>
                <span class="chapter-no">{ format!("Chapter {}/{n}", i + 1) }</span>
                <b class="chapter-title">{ &file.chapters[i].title }</b>
                <span class="chapter-text">{ &file.chapters[i].text }</span>
            </>
        },
        None => {
            html! { <><b>{ &file.title }</b><span class="chapter-text">{ file.what_to_watch.first().cloned().unwrap_or_default() }</span></> }
        }
    };
    html! { <div id="narration" class="narration" aria-live="polite">{ body }</div> }
}

pub fn about(e: &Engine, d: &Dispatch) -> Html {
    let file = &e.scenario.file;
    let ticks = e.chapter_ticks();
    let current = e.current_chapter();
    // A chapter pinned to an event that never happened under this policy says so once the
    // run is computed (NeilBrown's run never freezes, so "The machine freezes" never comes).
    let unreached = if e.panes()[0].rec.is_done() {
        "does not happen in this run"
    } else {
        "not reached yet"
    };
    let chapters = file.chapters.iter().enumerate().map(|(i, c)| {
        let at = ticks.get(i).copied().flatten();
        let when = at.map_or(unreached.to_string(), |t| format!("{} s", format_seconds(t)));
        let onclick = at.map(|t| cb(d, move |_| Action::Seek(t)));
        html! {
            <li class={classes!((current == Some(i)).then_some("current"))} aria-current={(current == Some(i)).then_some("step")}>
                <button class="chapter" disabled={at.is_none()} {onclick} aria-label={format!("Go to chapter {}: {}", i + 1, c.title)}>
                    <b>{ format!("{}. {}", i + 1, c.title) }</b>{ format!(" ({when})") }</button>
                <p>{ &c.text }</p>
            </li>
        }
    });
    html! {
        <div class="about">
            <h2>{ &file.title }</h2>
            <p>{ &file.summary }</p>
            if let Some(thread) = &file.seed_thread {
                <p class="thread">{ format!("Source thread: {thread}") }</p>
            }
            <h3>{ "What to watch" }</h3>
            <ul>{ for file.what_to_watch.iter().map(|w| html! { <li>{ w }</li> }) }</ul>
            <h3>{ "Chapters" }</h3>
            <ol class="chapters">{ for chapters }</ol>
            <details class="caveats">
                <summary>{ format!("Model caveats ({})", file.caveats.len()) }</summary>
                <ul>{ for file.caveats.iter().map(|c| html! { <li>{ c }</li> }) }</ul>
            </details>
            if !file.kernel_functions.is_empty() {
                <p class="kfns">{ "Kernel functions: " }{ for file.kernel_functions.iter().map(|f| html! { <code>{ f }{ " " }</code> }) }</p>
            }
        </div>
    }
}
