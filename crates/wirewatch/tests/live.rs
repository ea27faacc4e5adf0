//! Live monitoring end to end: real packets sent by real tools from a network namespace,
//! captured by `wirewatch run` on the host end of a veth pair; replay and demo sources;
//! shutdown on SIGTERM; privilege errors.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod support;

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{TestNet, http_server, udp_sink};
use wirewatch_testkit::poll_until;

const BIN: &str = env!("CARGO_BIN_EXE_wirewatch");

/// How long a test waits for the run to have counted what was sent.
const WAIT: Duration = Duration::from_secs(30);

/// A running `wirewatch`, started and ready (it has said what it captures), with its
/// dashboard on a port of its own, through which the test sees what it has counted.
struct Running {
    child: Child,
    stderr: mpsc::Receiver<String>,
    lines: Vec<String>,
    url: String,
}

impl Running {
    fn start(args: &[&str]) -> Running {
        let mut args: Vec<&str> = args.to_vec();
        if !args.contains(&"--db") && !args.contains(&"--no-db") {
            args.push("--no-db");
        }
        args.extend(["--listen", "127.0.0.1:0"]);
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut r = Running {
            child,
            stderr: rx,
            lines: Vec::new(),
            url: String::new(),
        };
        r.wait_for_stderr("Ctrl-C to stop");
        let line = r.wait_for_stderr("wirewatch: dashboard at ");
        r.url = line
            .trim_start_matches("wirewatch: dashboard at ")
            .trim_end_matches('/')
            .to_string();
        r
    }

    /// Waits for a line of stderr with `needle` in it, and returns it.
    fn wait_for_stderr(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(line) = self.stderr.recv_timeout(Duration::from_millis(100)) {
                let found = line.contains(needle);
                self.lines.push(line.clone());
                if found {
                    return line;
                }
            }
        }
        let _ = self.child.kill();
        panic!("wirewatch never said {needle:?}; stderr: {:?}", self.lines);
    }

    /// The dashboard's current snapshot (`None` if it could not be had).
    fn snapshot(&self) -> Option<Value> {
        let mut response = ureq::get(&format!("{}/api/snapshot", self.url))
            .call()
            .ok()?;
        serde_json::from_str(&response.body_mut().read_to_string().ok()?).ok()
    }

    /// Waits until the dashboard's snapshot satisfies `condition` (`what` it waits for): the
    /// packets sent have reached the engine (and were published with a closed interval).
    fn wait_for_snapshot(&mut self, what: &str, condition: impl Fn(&Value) -> bool) {
        let mut last = None;
        let held = poll_until(WAIT, || {
            last = self.snapshot();
            last.as_ref().is_some_and(&condition)
        });
        if !held {
            let _ = self.child.kill();
            let stats = last.as_ref().map(|s| s["stats"].to_string());
            panic!("timed out after {WAIT:?} waiting for {what}; last stats: {stats:?}");
        }
    }

    /// Waits until the run has counted at least `n` packets.
    fn wait_for_packets(&mut self, n: u64) {
        self.wait_for_snapshot(&format!("{n} packets counted"), |s| packets_total(s) >= n);
    }

    /// Sends SIGTERM and returns (exit code, stdout, seconds it took to exit).
    fn terminate(self) -> (Option<i32>, String, f64) {
        let asked = Instant::now();
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let out = self.child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            asked.elapsed().as_secs_f64(),
        )
    }
}

/// Packets the run has counted, as its dashboard snapshot says.
fn packets_total(snapshot: &Value) -> u64 {
    snapshot["stats"]["packets_total"].as_u64().unwrap_or(0)
}

fn flows_of<'a>(report: &'a Value, proto: &str) -> Vec<&'a Value> {
    report["flows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["proto"] == proto)
        .collect()
}

#[test]
fn counts_exactly_what_real_tools_send() {
    let Some(net) = TestNet::create() else { return };
    let _sink = udp_sink(&net.host_ip, 9999);
    let server = http_server(&net.host_ip, 8080, 3, "hello from the host\n");
    let mut run = Running::start(&["run", "-i", &net.host_if, "--json"]);

    net.send_udp(9999, 1000, 100);
    net.ping(5);
    for i in 0..3 {
        net.exec_ok(&[
            "curl",
            "-s",
            "-o",
            "/dev/null",
            "-H",
            &format!("Host: site{i}.live.test:8080"),
            &format!("http://{}:8080/page{i}", net.host_ip),
        ]);
    }
    server.join().unwrap();

    run.wait_for_snapshot("every packet on the wire counted", |s| {
        packets_total(s) >= net.wire_packets()
    });
    let (code, stdout, secs) = run.terminate();
    assert_eq!(code, Some(0), "exit status");
    assert!(secs < 3.0, "shutdown took {secs:.1} s");
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let p = &r["protocols"];
    assert_eq!(p["udp"], 1000);
    assert_eq!(p["icmp"], 10, "5 echo requests and 5 replies");
    assert_eq!(p["non_ip"], 0, "static neighbours: no ARP");
    assert_eq!(p["icmpv6"], 0, "IPv6 is off on the veths");

    let udp = flows_of(&r, "udp");
    assert_eq!(udp.len(), 1);
    assert_eq!(udp[0]["packets_fwd"], 1000);
    assert_eq!(udp[0]["bytes_fwd"], 1000 * (14 + 20 + 8 + 100));
    assert_eq!(udp[0]["src_ip"], net.ns_ip.as_str());
    assert_eq!(udp[0]["dst_port"], 9999);

    let icmp = flows_of(&r, "icmp");
    assert_eq!(icmp.len(), 1);
    assert_eq!(
        (
            icmp[0]["packets_fwd"].as_u64(),
            icmp[0]["packets_rev"].as_u64()
        ),
        (Some(5), Some(5))
    );
    assert_eq!(icmp[0]["bytes_fwd"], 5 * 98);

    let tcp = flows_of(&r, "tcp");
    assert_eq!(tcp.len(), 3, "three curl connections");
    for f in &tcp {
        assert_eq!(f["dst_port"], 8080);
        assert_eq!(f["src_ip"], net.ns_ip.as_str(), "the client initiated");
        assert_eq!(f["state"], "closed");
        assert!(f["tcp_flags_fwd"].as_str().unwrap().contains('S'));
        // Named from the payload: curl's request and the server's answer.
        assert_eq!(
            (f["app"].as_str(), f["app_source"].as_str()),
            (Some("http"), Some("payload"))
        );
        assert_eq!(f["http_method"], "GET");
        assert_eq!(f["http_status"], 200);
        assert!(f["http_user_agent"].as_str().unwrap().starts_with("curl/"));
        let path = f["http_path"].as_str().unwrap();
        let i = path.strip_prefix("/page").unwrap();
        assert_eq!(f["http_host"], format!("site{i}.live.test:8080"));
        assert_eq!(f["server_name"], format!("site{i}.live.test"));
    }
    let http = r["applications"]["apps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["app"] == "http")
        .unwrap();
    assert_eq!(
        (http["flows"].as_u64(), http["flows_from_payload"].as_u64()),
        (Some(3), Some(3))
    );
    assert_eq!(r["tcp_flags"]["syn"], 3);
    assert_eq!(r["tcp_flags"]["syn_ack"], 3);
    let tcp_packets: u64 = tcp
        .iter()
        .map(|f| f["packets_fwd"].as_u64().unwrap() + f["packets_rev"].as_u64().unwrap())
        .sum();
    assert_eq!(p["tcp"].as_u64().unwrap(), tcp_packets);
    assert_eq!(r["packets"].as_u64().unwrap(), 1000 + 10 + tcp_packets);
    assert_eq!(r["drops"]["kernel"], 0);
    assert_eq!(r["drops"]["queue"], 0);
    // Every interval reports its drops.
    assert!(
        r["intervals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["drops"]["queue"] == 0)
    );
}

#[test]
fn a_bpf_filter_keeps_only_what_it_names() {
    let Some(net) = TestNet::create() else { return };
    let _sink = udp_sink(&net.host_ip, 7000);
    let _sink2 = udp_sink(&net.host_ip, 7001);
    let mut run = Running::start(&["run", "-i", &net.host_if, "-f", "udp port 7001", "--json"]);
    net.send_udp(7000, 50, 20);
    net.send_udp(7001, 70, 20);
    net.ping(2);
    run.wait_for_packets(70);
    let (code, stdout, _) = run.terminate();
    assert_eq!(code, Some(0));
    let r: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["packets"], 70);
    assert_eq!(r["protocols"]["udp"], 70);
    assert_eq!(r["protocols"]["icmp"], 0);
}

#[test]
fn a_bad_interface_or_filter_is_explained() {
    let out = Command::new(BIN)
        .args(["run", "--no-db", "-i", "wwnosuch0", "--duration", "1s"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("wwnosuch0") && err.contains("wirewatch interfaces"),
        "{err}"
    );

    let out = Command::new(BIN)
        .args([
            "run",
            "--no-db",
            "-i",
            "lo",
            "-f",
            "udp port banana",
            "--duration",
            "1s",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid capture filter `udp port banana`"),
        "{err}"
    );
}

#[test]
fn without_permission_it_says_what_to_do() {
    if !support::can_build_namespaces() {
        wirewatch_testkit::skip(format_args!("needs root to switch to an unprivileged user"));
        return;
    }
    let out = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            BIN,
            "run",
            "--no-db",
            "-i",
            "lo",
            "--duration",
            "1s",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("permission"), "{err}");
    assert!(
        err.contains("setcap cap_net_raw,cap_net_admin=eip"),
        "{err}"
    );
    assert!(err.contains("root"), "{err}");
}

#[test]
fn drops_root_after_opening_the_capture() {
    let Some(net) = TestNet::create() else { return };
    let _sink = udp_sink(&net.host_ip, 9000);
    let mut run = Running::start(&["run", "-i", &net.host_if, "--json", "--user", "nobody"]);
    run.wait_for_stderr("dropped privileges to user nobody");
    let status = std::fs::read_to_string(format!("/proc/{}/status", run.child.id())).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uid_line.split_whitespace().skip(1).all(|u| u == "65534"),
        "{uid_line}"
    );
    net.send_udp(9000, 25, 10);
    run.wait_for_packets(25);
    let (code, stdout, _) = run.terminate();
    assert_eq!(code, Some(0));
    let r: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        r["protocols"]["udp"], 25,
        "capture goes on after dropping root"
    );
}

#[test]
fn replay_reproduces_analyze_interval_for_interval() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fixture.pcap");
    let cfg = wirewatch_capture::synth::GeneratorConfig {
        seed: 11,
        packets: 20_000,
        flows: 400,
        packets_per_second: 8_000.0,
        ..Default::default()
    };
    wirewatch_capture::synth::write_pcap(&cfg, std::fs::File::create(&path).unwrap()).unwrap();
    let file = path.to_str().unwrap();
    let analyze: Value = serde_json::from_slice(
        &Command::new(BIN)
            .args(["analyze", "--json", file])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for speed in ["max", "10"] {
        let out = Command::new(BIN)
            .args(["run", "--no-db", "--read", file, "--speed", speed, "--json"])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let replay: Value = serde_json::from_slice(&out.stdout).unwrap();
        for k in [
            "packets",
            "bytes",
            "protocols",
            "tcp_flags",
            "distinct_src_ips",
            "top_sources",
            "intervals",
        ] {
            assert_eq!(replay[k], analyze[k], "{k} differs at speed {speed}");
        }
        assert_eq!(
            replay["flows"].as_array().unwrap().len(),
            analyze["flows"].as_array().unwrap().len()
        );
        assert!(analyze["intervals"].as_array().unwrap().len() >= 2);
    }
}

#[test]
fn demo_traffic_flows_in_real_time() {
    let out = Command::new(BIN)
        .args(["run", "--no-db", "--demo", "--duration", "2500ms", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    let packets = r["packets"].as_u64().unwrap();
    assert!(
        (1500..=6000).contains(&packets),
        "about 1500 pkt/s for 2.5 s, got {packets}"
    );
    assert!(r["protocols"]["tcp"].as_u64().unwrap() > 0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let first = r["first_ts"].as_f64().unwrap();
    assert!(
        (now - first).abs() < 30.0,
        "demo packets carry the current time"
    );
    assert!(r["intervals"].as_array().unwrap().len() >= 2);
}

#[test]
fn any_captures_on_every_interface() {
    let Some(net) = TestNet::create() else { return };
    let _sink = udp_sink(&net.host_ip, 9123);
    let mut run = Running::start(&[
        "run",
        "--no-db",
        "-i",
        "any",
        "-f",
        &format!("udp port 9123 and host {}", net.ns_ip),
        "--json",
    ]);
    net.send_udp(9123, 100, 30);
    run.wait_for_packets(100);
    let (code, stdout, _) = run.terminate();
    assert_eq!(code, Some(0));
    let r: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(r["protocols"]["udp"], 100);
    assert_eq!(
        r["decode_errors"].as_object().unwrap().len(),
        0,
        "cooked headers decode"
    );
}

#[test]
fn with_no_usable_interface_it_suggests_the_demo() {
    let Some(net) = TestNet::create() else { return };
    // Inside a namespace with only a loopback interface... and the veth end, which we take down.
    net.exec_ok(&["ip", "link", "set", &net.ns_if, "down"]);
    let out = net.exec(&[BIN, "run", "--no-db", "--duration", "1s"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no usable network interface") && err.contains("--demo"),
        "{err}"
    );
    let out = net.exec(&[BIN, "interfaces", "--default"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn interfaces_lists_flags_addresses_and_the_default() {
    let out = Command::new(BIN)
        .args(["interfaces", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    let lo = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "lo")
        .expect("lo listed");
    assert_eq!(lo["loopback"], true);
    assert_eq!(lo["up"], true);
    assert!(
        lo["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "127.0.0.1")
    );
    let text = Command::new(BIN).arg("interfaces").output().unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("lo\n    flags: up, running, loopback"),
        "{text}"
    );
    let default = Command::new(BIN)
        .args(["interfaces", "--default"])
        .output()
        .unwrap();
    if default.status.success() {
        let name = String::from_utf8_lossy(&default.stdout).trim().to_string();
        assert_ne!(name, "lo");
        assert!(text.contains(&format!("{name}  (default)")), "{text}");
    }
}

/// A frame as a file holds it, with its decoded source and destination.
type FileFrame = (
    u64,
    Vec<u8>,
    Option<std::net::IpAddr>,
    Option<std::net::IpAddr>,
);

/// Every frame of a capture file.
fn frames_of(path: &std::path::Path) -> Vec<FileFrame> {
    let mut src = wirewatch_capture::FileSource::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = src.next_frame().unwrap() {
        let p = wirewatch_decode::decode(f.linktype, f.data);
        out.push((
            f.ts.nanos(),
            f.data.to_vec(),
            p.has_src.then_some(p.src),
            p.has_dst.then_some(p.dst),
        ));
    }
    out
}

#[test]
fn a_live_scan_leaves_its_packets_as_evidence_and_in_the_capture_files() {
    let Some(net) = TestNet::create() else { return };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("live.db");
    let caps = dir.path().join("caps");
    let mut run = Running::start(&[
        "run",
        "-i",
        &net.host_if,
        "--json",
        "--db",
        db.to_str().unwrap(),
        "--write-pcap",
        caps.to_str().unwrap(),
    ]);
    // A connect scan of 100 closed ports from the namespace (answered by RSTs).
    let script = format!(
        "import socket\nfor p in range(2000, 2100):\n    s = socket.socket()\n    \
         s.settimeout(0.5)\n    try:\n        s.connect(('{}', p))\n    except OSError:\n        \
         pass\n    s.close()\n",
        net.host_ip
    );
    net.exec_ok(&["python3", "-c", &script]);
    // Wait for the scan's interval to close and the detector to speak.
    run.wait_for_snapshot("the port scan alert, every packet counted", |s| {
        packets_total(s) >= net.wire_packets()
            && s["alerts"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["kind"] == "port_scan"))
    });
    let (code, stdout, _) = run.terminate();
    assert_eq!(code, Some(0));
    let r: Value = serde_json::from_str(&stdout).unwrap();
    let alert = r["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "port_scan")
        .unwrap_or_else(|| panic!("no port scan alert: {:#}", r["alerts"]));
    let link = &alert["evidence"]["pcap"];
    assert_eq!(link["complete"], true, "{link}");
    let evidence = std::path::PathBuf::from(link["path"].as_str().unwrap());
    assert!(evidence.starts_with(dir.path().join("live.evidence")));

    // The capture files hold every packet the run counted, in order.
    let mut files: Vec<_> = std::fs::read_dir(&caps)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let all: Vec<_> = files.iter().flat_map(|f| frames_of(f)).collect();
    assert_eq!(all.len() as u64, r["packets"].as_u64().unwrap());

    // The evidence is exactly the hosts' packets in the window, as the files have them.
    let hosts: Vec<std::net::IpAddr> = link["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().parse().unwrap())
        .collect();
    assert!(hosts.contains(&net.ns_ip.parse().unwrap()), "{link}");
    let (from, until) = (
        link["from"].as_u64().unwrap(),
        link["until"].as_u64().unwrap(),
    );
    let involved = |ip: Option<std::net::IpAddr>| ip.is_some_and(|ip| hosts.contains(&ip));
    let want: Vec<_> = all
        .iter()
        .filter(|(ts, _, s, d)| *ts >= from && *ts <= until && (involved(*s) || involved(*d)))
        .map(|(ts, data, _, _)| (*ts, data.clone()))
        .collect();
    let got: Vec<_> = frames_of(&evidence)
        .into_iter()
        .map(|(ts, data, _, _)| (ts, data))
        .collect();
    // 100 SYNs and 100 RSTs at least.
    assert!(got.len() >= 200, "{}", got.len());
    assert_eq!(got, want);
}
