//! The `pressure-lab` binary: the Yew app on wasm32, the command-line tool elsewhere.

#[cfg(target_arch = "wasm32")]
fn main() {
    pressure_lab::ui::start();
}

#[cfg(not(target_arch = "wasm32"))]
mod cli;

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    std::process::exit(cli::main());
}
