//! Embeds the built-in scenarios without their indentation: whitespace outside JSON
//! strings is dropped (about 0.4 KB of the browser build's gzipped size), the text is
//! otherwise the committed file's.

use std::path::Path;

fn minify(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if !c.is_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

fn main() {
    println!("cargo::rerun-if-changed=scenarios");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for entry in std::fs::read_dir("scenarios").expect("scenarios/ exists") {
        let path = entry.expect("readable directory").path();
        if path.extension().is_some_and(|e| e == "json") {
            let text = std::fs::read_to_string(&path).expect("readable scenario file");
            let name = path.file_name().expect("a file name");
            std::fs::write(Path::new(&out_dir).join(name), minify(&text))
                .expect("OUT_DIR is writable");
        }
    }
}
