//! HTTP archives imported as flows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use testmesh_import::Source;
use testmesh_import::har::{self, HarOptions};

fn fixture(name: &str) -> Source {
    Source::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/har")
            .join(name),
    )
    .unwrap()
}

#[test]
fn dump() {
    for name in ["shop.har", "forms.har"] {
        let import = har::import(&fixture(name), &HarOptions::default()).unwrap();
        for f in &import.flows {
            println!("=== {} ({})\n{}", f.file_name, f.origin, f.yaml);
            let loaded = testmesh_flow::load_str(&f.yaml);
            for d in &loaded.diagnostics {
                println!("DIAG {:?} {} line {}", d.severity, d.message, d.span.line);
            }
        }
        println!("{:#?}\n{:#?}", import.skipped, import.untranslated);
    }
}
