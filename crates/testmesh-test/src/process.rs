//! A process under test whose output is read line by line: wait for a line, find a URL in it,
//! stop the process with SIGTERM.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test support may panic

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A running process (the `testmesh` binary in tests) whose standard output is read line by line.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Starts `program ARGS` in `cwd` with `NO_COLOR=1`, reading standard output and error.
    pub fn start(program: &str, args: &[&str], cwd: &Path) -> Running {
        let mut child = std::process::Command::new(program)
            .args(args)
            .current_dir(cwd)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Running {
            child,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// The first line (from now on) containing `needle`.
    pub fn wait_for(&mut self, needle: &str) -> String {
        let until = Instant::now() + Duration::from_secs(20);
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "no line with {needle:?}; output so far:\n{}",
            self.seen.join("\n")
        );
    }

    /// The URL in the table row of `name`.
    pub fn url_of(&mut self, name: &str) -> String {
        let row = self.wait_for(&format!("{name} "));
        row.split_whitespace()
            .find(|w| w.starts_with("http"))
            .unwrap()
            .to_string()
    }

    /// Sends SIGTERM, waits, and returns the exit code and every line seen.
    pub fn terminate(mut self) -> (i32, Vec<String>) {
        std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        (status.code().unwrap_or(-1), std::mem::take(&mut self.seen))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
