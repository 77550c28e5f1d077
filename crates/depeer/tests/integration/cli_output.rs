//! Output hygiene of the binary: a reader that goes away (`depeer ... |
//! head`) is not an error, and nothing panics on it.

use std::process::Stdio;

use crate::support::depeer;

/// Runs `depeer ARGS` with its standard output closed before it writes:
/// it must exit 0 and print no panic.
fn closed_stdout(args: &[&str]) {
    let mut child = depeer()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "depeer {args:?} panicked: {stderr}"
    );
    assert!(
        out.status.success(),
        "depeer {args:?}: {:?}\n{stderr}",
        out.status
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let world = dir.path().join("w");
    let world = world.to_str().unwrap();
    closed_stdout(&["sim", "--print-scenario"]);
    closed_stdout(&["sim", "-q", "--json", "--scale", "0.2", "--out", world]);
    closed_stdout(&["sim", "--scale", "0.2", "--out", world]);
}
