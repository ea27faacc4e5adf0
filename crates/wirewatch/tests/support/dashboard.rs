//! `wirewatch run` with its dashboard as a child process: started once it serves, stopped
//! with Ctrl-C and a clean exit.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `wirewatch ARGS` and waits for the dashboard URL on stderr.
pub fn start(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(url) = line.strip_prefix("wirewatch: dashboard at ") {
            // Keep draining stderr so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (child, url.trim_end_matches('/').to_string());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("no dashboard URL");
}

/// Sends SIGINT and checks the exit status is success.
pub fn stop(mut child: Child) {
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    );
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");
}
