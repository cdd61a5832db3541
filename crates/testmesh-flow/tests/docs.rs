//! `docs/actions.md` is generated from the model; this test fails when the two drift apart.
//! Regenerate with `UPDATE_DOCS=1 cargo test -p testmesh-flow --test docs`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers may panic

use std::path::PathBuf;

#[test]
fn action_reference_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/actions.md");
    let generated = testmesh_flow::schema::actions_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/actions.md is out of date; run `UPDATE_DOCS=1 cargo test -p testmesh-flow --test docs`"
    );
}
