//! The classes a flow is sorted into, and the mapping from CICIDS2017 labels to them.
//!
//! The published labels are grouped into eight classes:
//!
//! | published label(s) | class |
//! |---|---|
//! | `BENIGN` | Benign |
//! | `DoS Hulk`, `DoS GoldenEye`, `DoS slowloris`, `DoS Slowhttptest`, `Heartbleed` | DoS |
//! | `DDoS` | DDoS |
//! | `PortScan` | PortScan |
//! | `FTP-Patator`, `SSH-Patator` | BruteForce |
//! | `Web Attack – Brute Force`, `Web Attack – XSS`, `Web Attack – Sql Injection` | WebAttack |
//! | `Bot` | Botnet |
//! | `Infiltration` | Infiltration |
//!
//! **Heartbleed goes to DoS.** It is an information leak, not a denial of service, but the
//! eight-class scheme has no exploit class, the attack ran on the DoS day against the same web
//! server with long, heavy server-to-client flows like the slow DoS tools, and with 11 rows in
//! the whole dataset a class of its own could never be trained (it would only be reported as
//! too small).
//!
//! Matching ignores case and everything but letters and digits, so the dash of the web-attack
//! labels matches whatever it was saved as (the published files hold the Windows-1252 byte
//! 0x96, re-encoded copies hold U+2013 or U+FFFD). The class names themselves (`DoS`,
//! `BruteForce`, `WebAttack`, ...) are accepted too, so users can label their own exports with
//! them.

use serde::{Deserialize, Serialize};

/// Number of classes.
pub const CLASS_COUNT: usize = 8;

/// What a flow is classified as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FlowClass {
    /// Normal traffic.
    Benign,
    /// Denial of service from one source (Hulk, GoldenEye, slowloris, Slowhttptest, and
    /// Heartbleed, see the module doc).
    DoS,
    /// Distributed denial of service (LOIC in CICIDS2017).
    DDoS,
    /// Port scanning.
    PortScan,
    /// Password guessing against FTP and SSH.
    BruteForce,
    /// Web application attacks (brute force, XSS, SQL injection).
    WebAttack,
    /// Botnet traffic (Ares in CICIDS2017).
    Botnet,
    /// Infiltration from an inside host.
    Infiltration,
}

/// Every class, in index order.
pub const ALL_CLASSES: [FlowClass; CLASS_COUNT] = [
    FlowClass::Benign,
    FlowClass::DoS,
    FlowClass::DDoS,
    FlowClass::PortScan,
    FlowClass::BruteForce,
    FlowClass::WebAttack,
    FlowClass::Botnet,
    FlowClass::Infiltration,
];

impl FlowClass {
    /// The class's display name (also its name in model files and alerts).
    pub fn name(self) -> &'static str {
        match self {
            FlowClass::Benign => "Benign",
            FlowClass::DoS => "DoS",
            FlowClass::DDoS => "DDoS",
            FlowClass::PortScan => "PortScan",
            FlowClass::BruteForce => "BruteForce",
            FlowClass::WebAttack => "WebAttack",
            FlowClass::Botnet => "Botnet",
            FlowClass::Infiltration => "Infiltration",
        }
    }

    /// The class with this display name (exact match).
    pub fn from_name(name: &str) -> Option<FlowClass> {
        ALL_CLASSES.into_iter().find(|c| c.name() == name)
    }

    /// Position in [`ALL_CLASSES`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether this is normal traffic.
    pub fn is_benign(self) -> bool {
        self == FlowClass::Benign
    }
}

impl std::fmt::Display for FlowClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.name())
    }
}

/// Longest label that is looked at; the published ones have at most 26 bytes.
const MAX_LABEL_KEY: usize = 64;

/// Normalised labels (lowercase letters and digits only) and their classes.
const LABEL_KEYS: &[(&str, FlowClass)] = &[
    ("benign", FlowClass::Benign),
    ("doshulk", FlowClass::DoS),
    ("dosgoldeneye", FlowClass::DoS),
    ("dosslowloris", FlowClass::DoS),
    ("dosslowhttptest", FlowClass::DoS),
    ("heartbleed", FlowClass::DoS),
    ("dos", FlowClass::DoS),
    ("ddos", FlowClass::DDoS),
    ("portscan", FlowClass::PortScan),
    ("ftppatator", FlowClass::BruteForce),
    ("sshpatator", FlowClass::BruteForce),
    ("bruteforce", FlowClass::BruteForce),
    ("webattackbruteforce", FlowClass::WebAttack),
    ("webattackxss", FlowClass::WebAttack),
    ("webattacksqlinjection", FlowClass::WebAttack),
    ("webattack", FlowClass::WebAttack),
    ("bot", FlowClass::Botnet),
    ("botnet", FlowClass::Botnet),
    ("infiltration", FlowClass::Infiltration),
];

/// Maps a label as found in a CSV cell (raw bytes, any encoding) to its class.
pub fn map_label(raw: &[u8]) -> Option<FlowClass> {
    let mut key = [0u8; MAX_LABEL_KEY];
    let mut len = 0;
    for &b in raw {
        if b.is_ascii_alphanumeric() {
            if len == MAX_LABEL_KEY {
                return None;
            }
            key[len] = b.to_ascii_lowercase();
            len += 1;
        }
    }
    let key = key.get(..len)?;
    LABEL_KEYS
        .iter()
        .find(|(k, _)| k.as_bytes() == key)
        .map(|&(_, class)| class)
}

/// A label's text for reports: UTF-8 when it is valid UTF-8, otherwise each byte read as
/// Windows-1252 (the encoding of the published files: 0x96 is an en dash), trimmed.
pub fn label_text(raw: &[u8]) -> String {
    let text = match std::str::from_utf8(raw) {
        Ok(s) => s.to_string(),
        Err(_) => raw.iter().map(|&b| cp1252_char(b)).collect(),
    };
    text.trim().to_string()
}

/// One Windows-1252 byte as a character (the punctuation block, Latin-1 elsewhere).
fn cp1252_char(b: u8) -> char {
    match b {
        0x91 => '\u{2018}',
        0x92 => '\u{2019}',
        0x93 => '\u{201C}',
        0x94 => '\u{201D}',
        0x96 => '\u{2013}',
        0x97 => '\u{2014}',
        0x80..=0x9F => '\u{FFFD}',
        _ => char::from(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_labels_map_to_classes() {
        let cases: &[(&[u8], FlowClass)] = &[
            (b"BENIGN", FlowClass::Benign),
            (b"DoS Hulk", FlowClass::DoS),
            (b"DoS GoldenEye", FlowClass::DoS),
            (b"DoS slowloris", FlowClass::DoS),
            (b"DoS Slowhttptest", FlowClass::DoS),
            (b"Heartbleed", FlowClass::DoS),
            (b"DDoS", FlowClass::DDoS),
            (b"PortScan", FlowClass::PortScan),
            (b"FTP-Patator", FlowClass::BruteForce),
            (b"SSH-Patator", FlowClass::BruteForce),
            (b"Web Attack \x96 Brute Force", FlowClass::WebAttack),
            (b"Web Attack \x96 XSS", FlowClass::WebAttack),
            (b"Web Attack \x96 Sql Injection", FlowClass::WebAttack),
            ("Web Attack \u{2013} XSS".as_bytes(), FlowClass::WebAttack),
            (
                "Web Attack \u{FFFD} Sql Injection".as_bytes(),
                FlowClass::WebAttack,
            ),
            (b"Bot", FlowClass::Botnet),
            (b"Infiltration", FlowClass::Infiltration),
            (b" BENIGN ", FlowClass::Benign),
        ];
        for (raw, class) in cases {
            assert_eq!(map_label(raw), Some(*class), "{}", label_text(raw));
        }
    }

    #[test]
    fn class_names_are_labels_too() {
        for class in ALL_CLASSES {
            assert_eq!(map_label(class.name().as_bytes()), Some(class));
            assert_eq!(FlowClass::from_name(class.name()), Some(class));
            assert_eq!(ALL_CLASSES[class.index()], class);
        }
    }

    #[test]
    fn unknown_and_overlong_labels_are_refused() {
        assert_eq!(map_label(b"Mystery"), None);
        assert_eq!(map_label(b""), None);
        assert_eq!(map_label(&[b'a'; 100]), None);
    }

    #[test]
    fn label_text_reads_windows_1252() {
        assert_eq!(
            label_text(b"Web Attack \x96 XSS"),
            "Web Attack \u{2013} XSS"
        );
        assert_eq!(label_text(b" BENIGN"), "BENIGN");
    }
}
