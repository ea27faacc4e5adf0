//! The port scan rules: the fast and the slow rule judged on one source, and the alert drafted
//! when one fires (see the parent module for what they are).

use super::*;

impl PortScan {
    pub(super) fn evaluate(&self, src: IpAddr, s: &Source, now: Timestamp) -> Option<AlertDraft> {
        let n = s.targets.len();
        let least = self
            .cfg
            .vertical_ports
            .min(self.cfg.horizontal_hosts)
            .min(self.cfg.slow_min_targets) as usize;
        if n < least {
            return None;
        }
        let win_start = Timestamp(now.nanos().saturating_sub(self.window_ns));
        let mut per_host: Map<IpAddr, u32> = new_map();
        let mut per_port: Map<(u16, Proto), u32> = new_map();
        let (mut recent, mut recent_open, mut all_open) = (0u32, 0u32, 0u32);
        let mut earliest = now;
        for (t, p) in &s.targets {
            let open = p.answer.is_open();
            all_open += u32::from(open);
            if p.last >= win_start {
                recent += 1;
                recent_open += u32::from(open);
                if !t.proto.is_host_probe() {
                    // Ports of a host; asking whether it exists is not probing a port.
                    *per_host.entry(t.ip).or_insert(0) += 1;
                }
                *per_port.entry((t.port, t.proto)).or_insert(0) += 1;
                earliest = earliest.min(p.first.max(win_start));
            }
        }
        let (vhost, vports) = max_entry(&per_host).map_or((None, 0), |(h, c)| (Some(h), c));
        // The port on most hosts; on a tie a service port before a host probe (nmap's host
        // discovery pings every host it then scans), then the lowest port.
        let ((hport, hproto), hhosts) = per_port
            .iter()
            .map(|(k, c)| (*k, *c))
            .max_by(|a, b| {
                a.1.cmp(&b.1)
                    .then(b.0.1.is_host_probe().cmp(&a.0.1.is_host_probe()))
                    .then(b.0.0.cmp(&a.0.0))
            })
            .unwrap_or(((0, Proto::Tcp), 0));
        let share = f64::from(recent_open) / f64::from(recent.max(1));
        let v_over = f64::from(vports) / f64::from(self.cfg.vertical_ports);
        let h_over = f64::from(hhosts) / f64::from(self.cfg.horizontal_hosts);
        let style = s.styles.name();
        let label = style_label(style);
        let span = now.since(earliest).div_ceil(NANOS_PER_SEC).max(1);
        // Host probes ask only whether a host is there: a sweep of a populated subnet is
        // mostly answered, so a dense one (4× the threshold) counts whatever the answers.
        let dense_sweep = hproto.is_host_probe() && h_over >= DENSE_SWEEP_FACTOR;
        if (v_over >= 1.0 || h_over >= 1.0) && (share <= self.cfg.max_answered_share || dense_sweep)
        {
            let vertical = v_over >= h_over;
            let over = v_over.max(h_over);
            let (targets, ports, message, shape) = if vertical {
                // Ports were probed, so a host had the most of them (a pure host sweep has
                // none and is never vertical).
                let host = vhost?;
                let mut open: Vec<u16> = s
                    .targets
                    .iter()
                    .filter(|(t, p)| {
                        t.ip == host
                            && !t.proto.is_host_probe()
                            && p.last >= win_start
                            && p.answer.is_open()
                    })
                    .map(|(t, _)| t.port)
                    .collect();
                open.sort_unstable();
                open.dedup();
                let found = if open.is_empty() {
                    "none answered open".to_string()
                } else {
                    format!("{} answered open: {}", open.len(), port_list(&open, 10))
                };
                open.truncate(LISTED);
                // Past the per-source cap the scan goes on uncounted: say so, not the cap.
                let more = if s.overflow > 0 {
                    format!(
                        " (and {} more probes past the memory cap)",
                        count(s.overflow)
                    )
                } else {
                    String::new()
                };
                let msg = format!(
                    "{src} probed {} ports on {host}{more} in {span} s ({label}); {found}",
                    count(u64::from(vports))
                );
                (vec![host], open, msg, "vertical")
            } else {
                let mut hosts: Vec<IpAddr> = s
                    .targets
                    .iter()
                    .filter(|(t, p)| t.port == hport && t.proto == hproto && p.last >= win_start)
                    .map(|(t, _)| t.ip)
                    .collect();
                hosts.sort_unstable();
                hosts.truncate(LISTED);
                if hproto.is_host_probe() {
                    let msg = format!(
                        "{src} swept {} hosts with {} requests in {span} s ({} sweep); {} answered",
                        count(u64::from(hhosts)),
                        hproto.name().to_uppercase(),
                        hproto.name().to_uppercase(),
                        pct(share)
                    );
                    (hosts, Vec::new(), msg, "sweep")
                } else {
                    // Every service port that reached the threshold, the top one first.
                    let mut wide: Vec<((u16, Proto), u32)> = per_port
                        .iter()
                        .filter(|((_, proto), c)| {
                            !proto.is_host_probe() && **c >= self.cfg.horizontal_hosts
                        })
                        .map(|(k, c)| (*k, *c))
                        .collect();
                    wide.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.0.cmp(&b.0.0)));
                    let mut ports: Vec<u16> = vec![hport];
                    ports.extend(wide.iter().map(|((p, _), _)| *p).filter(|p| *p != hport));
                    ports.dedup();
                    ports.truncate(LISTED);
                    let also = if ports.len() > 1 {
                        format!(" (and {})", port_list(&ports[1..], 5))
                    } else {
                        String::new()
                    };
                    let msg = format!(
                        "{src} probed port {hport}/{}{also} on {} hosts in {span} s ({label}); {} answered",
                        hproto.name(),
                        count(u64::from(hhosts)),
                        pct(share)
                    );
                    (hosts, ports, msg, "horizontal")
                }
            };
            let severity = policy::severity(&Impact {
                targets: u64::from(vports.max(hhosts)),
                internal_source: is_internal(src),
                ..Impact::new(Family::Reconnaissance, over)
            });
            return Some(self.draft(
                src,
                now,
                DraftParts {
                    severity,
                    confidence: policy::confidence(over, 1.0 - share),
                    targets,
                    ports,
                    message,
                    shape,
                    magnitude: f64::from(vports.max(hhosts)) + s.overflow as f64,
                    evidence: json!({
                        "shape": shape,
                        "style": style,
                        "window_secs": self.cfg.window_secs,
                        "targets_in_window": recent,
                        "ports_on_top_host": vports,
                        "top_host": vhost,
                        "hosts_on_top_port": hhosts,
                        "top_port": hport,
                        "top_port_proto": hproto.name(),
                        "answered_open": recent_open,
                        "answered_share": share,
                        "vertical_ports": self.cfg.vertical_ports,
                        "horizontal_hosts": self.cfg.horizontal_hosts,
                        "targets_not_remembered": s.overflow,
                    }),
                },
            ));
        }
        let slow_share = f64::from(all_open) / n as f64;
        if n < self.cfg.slow_min_targets as usize || slow_share > self.cfg.max_answered_share {
            return None;
        }
        let mut hosts: Vec<IpAddr> = s.targets.keys().map(|t| t.ip).collect();
        hosts.sort_unstable();
        hosts.dedup();
        let mut ports: Vec<u16> = s.targets.keys().map(|t| t.port).collect();
        ports.sort_unstable();
        ports.dedup();
        let over = n as f64 / f64::from(self.cfg.slow_min_targets);
        let message = format!(
            "{src} probed {} host:port targets ({}, {}) over the last {} s (slow {label}); {} answered",
            count(n as u64),
            plural(hosts.len() as u64, "host"),
            plural(ports.len() as u64, "port"),
            self.cfg.slow_window_secs,
            pct(slow_share)
        );
        let (n_hosts, n_ports) = (hosts.len(), ports.len());
        hosts.truncate(LISTED);
        ports.truncate(LISTED);
        let severity = policy::severity(&Impact {
            targets: n as u64,
            internal_source: is_internal(src),
            // Slow scans stay under the fast thresholds: scored below 1.
            ..Impact::new(Family::Reconnaissance, 0.0)
        });
        Some(self.draft(
            src,
            now,
            DraftParts {
                severity,
                confidence: (policy::confidence(over, 0.0) - 0.1).max(0.5),
                targets: hosts,
                ports,
                message,
                shape: "slow",
                magnitude: n as f64,
                evidence: json!({
                    "shape": "slow",
                    "style": style,
                    "slow_window_secs": self.cfg.slow_window_secs,
                    "targets": n,
                    "hosts": n_hosts,
                    "ports": n_ports,
                    "answered_open": all_open,
                    "answered_share": slow_share,
                    "slow_min_targets": self.cfg.slow_min_targets,
                    "targets_not_remembered": s.overflow,
                }),
            },
        ))
    }

    fn draft(&self, src: IpAddr, now: Timestamp, p: DraftParts) -> AlertDraft {
        let recommendation = if is_internal(src) {
            format!(
                "{src} is inside the network: find out who runs it; an unexpected internal scan often means a compromised host — isolate and examine it"
            )
        } else if p.ports.is_empty() || p.shape == "horizontal" || p.shape == "slow" {
            format!("block {src} at the edge firewall; it is mapping the network for weak services")
        } else {
            format!(
                "block {src} at the edge firewall; check that the open ports {} on {} need to be reachable from outside",
                port_list(&p.ports, 10),
                p.targets
                    .first()
                    .map_or_else(String::new, IpAddr::to_string)
            )
        };
        AlertDraft {
            kind: kind::PORT_SCAN,
            severity: p.severity,
            confidence: p.confidence,
            ts: now,
            sources: vec![src],
            targets: p.targets,
            ports: p.ports,
            message: p.message,
            recommendation,
            evidence: p.evidence,
            incident_key: format!("{}|{src}", kind::PORT_SCAN),
            magnitude: p.magnitude,
        }
    }
}

/// The parts of a draft that differ between the rules.
struct DraftParts {
    severity: wirewatch_core::Severity,
    confidence: f64,
    targets: Vec<IpAddr>,
    ports: Vec<u16>,
    message: String,
    shape: &'static str,
    magnitude: f64,
    evidence: serde_json::Value,
}

/// The key with the highest count and the count.
fn max_entry<K: Copy + std::hash::Hash + Eq>(m: &Map<K, u32>) -> Option<(K, u32)> {
    m.iter().max_by_key(|(_, c)| **c).map(|(k, c)| (*k, *c))
}
