//! Test hosts in network namespaces: a veth pair whose host end Wirewatch captures on while
//! real tools send traffic from inside the namespace. Everything is torn down by `Drop`, also
//! when a test fails. Only addresses in 10.200.0.0/16 on these veths are ever used.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod cmd;
pub mod dashboard;
pub mod tcp_capture;

use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A namespace with a veth pair to the host.
pub struct TestNet {
    /// Namespace name.
    pub ns: String,
    /// Host end of the veth pair (capture here).
    pub host_if: String,
    /// Namespace end.
    pub ns_if: String,
    /// Host end's address.
    pub host_ip: String,
    /// Namespace end's address.
    pub ns_ip: String,
}

fn run(args: &[&str]) -> Output {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Whether this process may build namespaces (root with `ip`).
pub fn can_build_namespaces() -> bool {
    nix::unistd::geteuid().is_root()
        && Command::new("ip")
            .arg("-V")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

impl TestNet {
    /// Builds a namespace and veth pair, or `None` (the test should skip) when not root.
    pub fn create() -> Option<TestNet> {
        if !can_build_namespaces() {
            wirewatch_testkit::skip(format_args!(
                "needs root and iproute2 to build a network namespace"
            ));
            return None;
        }
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let pid = std::process::id() % 100_000;
        let subnet = (pid + n * 7) % 250 + 1;
        let net = TestNet {
            ns: format!("wwtest-{pid}-{n}"),
            host_if: format!("ww{pid}h{n}"),
            ns_if: format!("ww{pid}n{n}"),
            host_ip: format!("10.200.{subnet}.1"),
            ns_ip: format!("10.200.{subnet}.2"),
        };
        run(&["ip", "netns", "add", &net.ns]);
        run(&[
            "ip",
            "link",
            "add",
            &net.host_if,
            "type",
            "veth",
            "peer",
            "name",
            &net.ns_if,
            "netns",
            &net.ns,
        ]);
        // No IPv6 (router solicitations, MLD) and no ARP (static neighbours): the only packets
        // on the wire are the ones a test sends.
        std::fs::write(
            format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", net.host_if),
            "1",
        )
        .unwrap();
        net.exec_ok(&[
            "sh",
            "-c",
            &format!(
                "echo 1 > /proc/sys/net/ipv6/conf/{}/disable_ipv6",
                net.ns_if
            ),
        ]);
        run(&[
            "ip",
            "addr",
            "add",
            &format!("{}/24", net.host_ip),
            "dev",
            &net.host_if,
        ]);
        run(&[
            "ip",
            "-n",
            &net.ns,
            "addr",
            "add",
            &format!("{}/24", net.ns_ip),
            "dev",
            &net.ns_if,
        ]);
        run(&["ip", "link", "set", &net.host_if, "up"]);
        run(&["ip", "-n", &net.ns, "link", "set", &net.ns_if, "up"]);
        run(&["ip", "-n", &net.ns, "link", "set", "lo", "up"]);
        let host_mac =
            std::fs::read_to_string(format!("/sys/class/net/{}/address", net.host_if)).unwrap();
        let ns_mac = String::from_utf8(
            net.exec_ok(&["cat", &format!("/sys/class/net/{}/address", net.ns_if)])
                .stdout,
        )
        .unwrap();
        run(&[
            "ip",
            "neigh",
            "replace",
            &net.ns_ip,
            "lladdr",
            ns_mac.trim(),
            "dev",
            &net.host_if,
            "nud",
            "permanent",
        ]);
        run(&[
            "ip",
            "-n",
            &net.ns,
            "neigh",
            "replace",
            &net.host_ip,
            "lladdr",
            host_mac.trim(),
            "dev",
            &net.ns_if,
            "nud",
            "permanent",
        ]);
        Some(net)
    }

    /// Runs a command inside the namespace.
    pub fn exec(&self, cmd: &[&str]) -> Output {
        Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(cmd)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?} in {}: {e}", self.ns))
    }

    /// Runs a command inside the namespace and insists that it succeeds.
    pub fn exec_ok(&self, cmd: &[&str]) -> Output {
        let out = self.exec(cmd);
        assert!(
            out.status.success(),
            "{cmd:?} in {} failed: {}",
            self.ns,
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Sends exactly `count` UDP datagrams of `size` payload bytes from the namespace to
    /// the host end's `port` (with python3's socket module: one sendto per datagram).
    pub fn send_udp(&self, port: u16, count: usize, size: usize) {
        let script = format!(
            "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n\
             for _ in range({count}):\n    s.sendto(b'x' * {size}, ('{}', {port}))\n",
            self.host_ip
        );
        self.exec_ok(&["python3", "-c", &script]);
    }

    /// Pings the host end `count` times (56-byte payload: 98-byte frames).
    pub fn ping(&self, count: usize) {
        self.exec_ok(&[
            "ping",
            "-q",
            "-n",
            "-c",
            &count.to_string(),
            "-i",
            "0.05",
            "-W",
            "2",
            &self.host_ip,
        ]);
    }
}

impl TestNet {
    /// Frames that have crossed the host end so far, both ways (the kernel's counters): what
    /// a capture on it without a filter sees, since nothing but a test's traffic is on it.
    pub fn wire_packets(&self) -> u64 {
        ["rx_packets", "tx_packets"]
            .iter()
            .map(|c| {
                let path = format!("/sys/class/net/{}/statistics/{c}", self.host_if);
                std::fs::read_to_string(&path)
                    .unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
                    .trim()
                    .parse::<u64>()
                    .unwrap()
            })
            .sum()
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        // Deleting the namespace deletes its veth end, which deletes the pair.
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).output();
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
    }
}

/// A UDP sink on the host end, so datagrams are not answered with ICMP port unreachable.
pub fn udp_sink(ip: &str, port: u16) -> std::net::UdpSocket {
    std::net::UdpSocket::bind((ip, port)).unwrap()
}

/// A tiny HTTP server on the host end answering `connections` requests with `body`.
pub fn http_server(
    ip: &str,
    port: u16,
    connections: usize,
    body: &'static str,
) -> std::thread::JoinHandle<()> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind((ip, port)).unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let mut s = stream.unwrap();
            let mut buf = [0u8; 2048];
            let _ = s.read(&mut buf);
            let reply = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(reply.as_bytes());
        }
    })
}
