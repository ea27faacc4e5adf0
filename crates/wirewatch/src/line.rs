//! The compact per-interval line `wirewatch run` prints on a terminal.

use wirewatch_core::IntervalMetrics;
use wirewatch_core::proto::ALL_CLASSES;
use wirewatch_report::text::human_rate;

/// Formats one interval as a single line: time (UTC, marked `Z`), bandwidth, packet rate, protocol mix,
/// flows (new, and evicted from a full table when any were) and drops.
pub fn interval_line(m: &IntervalMetrics) -> String {
    let total = m.packets.max(1) as f64;
    let mix: Vec<String> = ALL_CLASSES
        .iter()
        .filter(|c| m.protocols.get(**c) > 0)
        .map(|c| {
            let short = match c.name() {
                "other_ip" => "other",
                "non_ip" => "non-ip",
                n => n,
            };
            format!("{short} {:.0}%", m.protocols.get(*c) as f64 * 100.0 / total)
        })
        .collect();
    let drops = m.drops.total();
    format!(
        "{}  {:>12}  {:>9.0} pkt/s  {:<34}  flows {} (+{}{})  SYN {}  drops {}{}",
        m.start_ts.format_utc("%H:%M:%SZ"),
        human_rate(m.bps),
        m.pps,
        if mix.is_empty() {
            "-".to_string()
        } else {
            mix.join(" ")
        },
        m.flows_live,
        m.flows_new,
        // Flows the full table had to push out are lost detail: said, never hidden.
        if m.flows_evicted > 0 {
            format!(", {} evicted", m.flows_evicted)
        } else {
            String::new()
        },
        m.tcp_flags.syn,
        drops,
        if drops > 0 {
            format!(
                " (kernel {}, interface {}, queue {})",
                m.drops.kernel, m.drops.interface, m.drops.queue
            )
        } else {
            String::new()
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::{DropCounts, ProtocolCounts, Timestamp};

    #[test]
    fn line_shows_rates_mix_and_drops() {
        let m = IntervalMetrics {
            start_ts: Timestamp::from_secs_nanos(1_700_000_000, 0),
            duration_ns: 1_000_000_000,
            packets: 200,
            bytes: 125_000,
            bps: 1_000_000.0,
            pps: 200.0,
            protocols: ProtocolCounts {
                tcp: 150,
                udp: 50,
                ..Default::default()
            },
            flows_live: 12,
            flows_new: 3,
            drops: DropCounts {
                kernel: 5,
                interface: 0,
                queue: 2,
            },
            ..Default::default()
        };
        let line = interval_line(&m);
        assert!(line.starts_with("22:13:20Z"), "{line}");
        let last = IntervalMetrics {
            start_ts: Timestamp(u64::MAX), // in 2554: the clock still reads, no panic
            ..m.clone()
        };
        assert!(interval_line(&last).starts_with("23:34:33Z  "));
        assert!(line.contains("1.0 Mbit/s"), "{line}");
        assert!(line.contains("200 pkt/s"), "{line}");
        assert!(line.contains("tcp 75% udp 25%"), "{line}");
        assert!(line.contains("flows 12 (+3)  SYN"), "{line}");
        let full = IntervalMetrics {
            flows_evicted: 40,
            ..m.clone()
        };
        assert!(
            interval_line(&full).contains("flows 12 (+3, 40 evicted)"),
            "{}",
            interval_line(&full)
        );
        assert!(
            line.contains("drops 7 (kernel 5, interface 0, queue 2)"),
            "{line}"
        );
    }
}
