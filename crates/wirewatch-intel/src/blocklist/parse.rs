//! Parsing blocklist text: the common formats of public IP blocklists into network entries.
//!
//! Owns the format rules and the line-level warnings. It is a pure function of the text: it
//! must not do I/O (the loader reads files), decide what matches what (that is the prefix
//! set's job), or stop at a bad line (a malformed line is reported with its file and line
//! number, then skipped).
//!
//! Formats:
//! - **Plain** (Feodo Tracker's `ipblocklist.txt`, Emerging Threats' `compromised-ips.txt`,
//!   most others): one address, CIDR or `first-last` range per line; `#` and `;` start a
//!   comment, whole-line or trailing; text after the address (or a trailing comment) is kept
//!   as the entry's reference.
//! - **FireHOL** `.netset`/`.ipset`: the same, with `#` header comments.
//! - **Spamhaus** DROP/EDROP: `1.10.16.0/20 ; SBL256894` with `;` header comments (the text
//!   after `;` is the reference), and the newer JSON-lines form
//!   `{"cidr":"1.10.16.0/20","sblid":"SBL256894","rir":"apnic"}` whose metadata line is skipped.
//! - **CSV**: `ip[,comment]` with an optional header row; a header naming its columns (also a
//!   `#`-commented one, as Feodo Tracker's CSV has) picks the address column (`ip`, `dst_ip`,
//!   `cidr`, …) and the reference column (`comment`, `malware`, `sblid`, …).
//!
//! A host address without a prefix length is a /32 or /128; a CIDR with host bits set is
//! accepted, truncated to its network and warned about; empty lines are skipped silently.

use ipnet::{IpNet, Ipv4Subnets, Ipv6Subnets};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

/// Warnings kept per file. A broken file (the wrong file, an HTML error page saved as a
/// list) would otherwise produce one warning per line; 100 say enough to find the problem.
pub const MAX_WARNINGS: usize = 100;

/// Entries accepted from one file. The largest public lists hold a few hundred thousand
/// networks; 2,000,000 leaves room for aggregated ones while bounding what a wrong file
/// (a log, a dump) can cost: about 110 MB of parsed entries.
pub const MAX_ENTRIES_PER_FILE: usize = 2_000_000;

/// Characters of a reference (comment, SBL id) kept per entry: enough for an SBL number or a
/// malware family and a short note, bounded against very long comment columns.
pub const MAX_REFERENCE_CHARS: usize = 200;

/// Characters of an offending line quoted in a warning: enough to recognise the line (an
/// address, a CIDR, the start of an HTML page) while keeping a warning on one screen line.
const MAX_QUOTED_CHARS: usize = 60;

/// Data lines looked at to recognise a format: every format shows itself in its first data
/// line; 64 lines outvote a few odd ones without reading a large file twice.
const SNIFF_LINES: usize = 64;

/// CIDRs one `first-last` range may expand to: a range needs at most 2 × (bits − 1) of them
/// (62 for IPv4, 254 for IPv6), so this never cuts a valid range short.
const MAX_RANGE_CIDRS: usize = 256;

/// The format of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Recognise the format from the file name and its first lines.
    #[default]
    Auto,
    /// One address, CIDR or range per line; `#`/`;` comments.
    Plain,
    /// Spamhaus DROP/EDROP, text (`net ; SBL…`) or JSON lines.
    Spamhaus,
    /// FireHOL `.netset`/`.ipset`.
    Firehol,
    /// `ip[,comment]` with an optional header row.
    Csv,
}

impl Format {
    /// The lowercase name used in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Plain => "plain",
            Format::Spamhaus => "spamhaus",
            Format::Firehol => "firehol",
            Format::Csv => "csv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One network of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The network (host bits cleared).
    pub net: IpNet,
    /// What the list says about it: an SBL number, a CSV comment, a trailing comment.
    pub reference: Option<String>,
    /// The 1-based line it came from.
    pub line: usize,
}

/// A problem with one line. The line was skipped unless the message says otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineWarning {
    /// The list (file) name.
    pub file: String,
    /// The 1-based line number.
    pub line: usize,
    /// What is wrong, quoting the offending text.
    pub message: String,
}

impl fmt::Display for LineWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// The result of parsing one list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    /// The format used (what `Auto` resolved to).
    pub format: Format,
    /// The entries, in file order.
    pub entries: Vec<Entry>,
    /// The first [`MAX_WARNINGS`] warnings.
    pub warnings: Vec<LineWarning>,
    /// Warnings beyond [`MAX_WARNINGS`], counted only.
    pub warnings_omitted: usize,
}

/// Collects entries and warnings under their caps.
struct Sink<'a> {
    name: &'a str,
    out: Parsed,
    full: bool,
}

impl Sink<'_> {
    fn warn(&mut self, line: usize, message: String) {
        if self.out.warnings.len() < MAX_WARNINGS {
            self.out.warnings.push(LineWarning {
                file: self.name.to_string(),
                line,
                message,
            });
        } else {
            self.out.warnings_omitted += 1;
        }
    }

    /// Adds an entry; false once the file reached [`MAX_ENTRIES_PER_FILE`].
    fn push(&mut self, net: IpNet, reference: Option<&str>, line: usize) -> bool {
        if self.out.entries.len() >= MAX_ENTRIES_PER_FILE {
            if !self.full {
                self.full = true;
                self.warn(
                    line,
                    format!(
                        "more than {MAX_ENTRIES_PER_FILE} entries: the rest of the file is \
                         ignored (is this the right file?)"
                    ),
                );
            }
            return false;
        }
        self.out.entries.push(Entry {
            net,
            reference: reference.and_then(clean_reference),
            line,
        });
        true
    }
}

/// Parses the text of the list `name` (used in warnings) in `format`.
pub fn parse(name: &str, text: &str, format: Format) -> Parsed {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let format = match format {
        Format::Auto => sniff(name, text),
        f => f,
    };
    let mut sink = Sink {
        name,
        out: Parsed {
            format,
            entries: Vec::new(),
            warnings: Vec::new(),
            warnings_omitted: 0,
        },
        full: false,
    };
    match format {
        Format::Csv => parse_csv(text, &mut sink),
        Format::Spamhaus => parse_lines(text, &mut sink, true),
        Format::Auto | Format::Plain | Format::Firehol => parse_lines(text, &mut sink, false),
    }
    sink.out
}

/// Recognises the format from the file name's extension, then from the first data lines.
pub fn sniff(name: &str, text: &str) -> Format {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".csv") {
        return Format::Csv;
    }
    if [".json", ".jsonl", ".ndjson"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        return Format::Spamhaus;
    }
    if lower.ends_with(".netset") || lower.ends_with(".ipset") {
        return Format::Firehol;
    }
    let mut data = 0usize;
    let mut with_comma = 0usize;
    let mut firehol = false;
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with('#') || line.starts_with(';') {
            firehol |= line.to_ascii_lowercase().contains("firehol");
            continue;
        }
        if line.starts_with('{') {
            return Format::Spamhaus;
        }
        if let Some((_, comment)) = line.split_once(';')
            && comment.trim_start().starts_with("SBL")
        {
            return Format::Spamhaus;
        }
        let before_comment = line.split(['#', ';']).next().unwrap_or("");
        if before_comment.contains(',') {
            with_comma += 1;
        }
        data += 1;
        if data >= SNIFF_LINES {
            break;
        }
    }
    if data > 0 && with_comma * 2 > data {
        Format::Csv
    } else if firehol {
        Format::Firehol
    } else {
        Format::Plain
    }
}

/// Plain, FireHOL and Spamhaus text (and Spamhaus JSON lines when `spamhaus`).
fn parse_lines(text: &str, sink: &mut Sink<'_>, spamhaus: bool) {
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if spamhaus && line.starts_with('{') {
            if !parse_json_line(line, line_no, sink) {
                return;
            }
            continue;
        }
        let (data, comment) = match line.find(['#', ';']) {
            Some(at) => (line[..at].trim(), Some(line[at + 1..].trim())),
            None => (line, None),
        };
        let (token, rest) = split_address(data);
        let reference = match (rest, comment) {
            (r, _) if !r.is_empty() => Some(r),
            (_, Some(c)) if !c.is_empty() => Some(c),
            _ => None,
        };
        if !add_token(&token, reference, line_no, raw, sink) {
            return;
        }
    }
}

/// The address token of a data line (a range may be written `a - b`) and the text after it.
fn split_address(data: &str) -> (Cow<'_, str>, &str) {
    let mut parts = data.splitn(2, char::is_whitespace);
    let first = parts.next().unwrap_or("");
    let rest = parts.next().unwrap_or("").trim_start();
    if let Some(after_dash) = rest.strip_prefix('-') {
        let mut parts = after_dash.trim_start().splitn(2, char::is_whitespace);
        let second = parts.next().unwrap_or("");
        let rest = parts.next().unwrap_or("").trim();
        return (Cow::Owned(format!("{first}-{second}")), rest);
    }
    (Cow::Borrowed(first), rest)
}

/// One JSON line of a Spamhaus DROP feed; false when the entry cap was reached.
fn parse_json_line(line: &str, line_no: usize, sink: &mut Sink<'_>) -> bool {
    let value: serde_json::Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            sink.warn(line_no, format!("not valid JSON ({e}): {}", quote(line)));
            return true;
        }
    };
    if let Some(cidr) = value.get("cidr").and_then(|c| c.as_str()) {
        let reference = value.get("sblid").and_then(|s| s.as_str());
        return add_token(cidr, reference, line_no, line, sink);
    }
    if value.get("type").and_then(|t| t.as_str()) == Some("metadata") {
        return true;
    }
    sink.warn(
        line_no,
        format!("JSON line without a \"cidr\" field: {}", quote(line)),
    );
    true
}

/// Parses an address, CIDR or range token and adds its entries; warns and skips a bad one.
/// False when the entry cap was reached.
fn add_token(
    token: &str,
    reference: Option<&str>,
    line_no: usize,
    raw: &str,
    sink: &mut Sink<'_>,
) -> bool {
    match parse_token(token) {
        Ok(Parsed1 { nets, warning }) => {
            if let Some(w) = warning {
                sink.warn(line_no, w);
            }
            for net in nets {
                if !sink.push(net, reference, line_no) {
                    return false;
                }
            }
            true
        }
        Err(message) => {
            sink.warn(line_no, format!("{message}; line skipped: {}", quote(raw)));
            true
        }
    }
}

/// The networks of one token, and a warning about it that did not stop it.
struct Parsed1 {
    nets: Vec<IpNet>,
    warning: Option<String>,
}

fn parse_token(token: &str) -> Result<Parsed1, String> {
    if token.is_empty() {
        return Err("no address".to_string());
    }
    if let Some((a, b)) = token.split_once('-') {
        return parse_range(a.trim(), b.trim()).map(|nets| Parsed1 {
            nets,
            warning: None,
        });
    }
    let (net, warning) = parse_net(token)?;
    Ok(Parsed1 {
        nets: vec![net],
        warning,
    })
}

/// An address or CIDR; host bits set are cleared with a warning.
pub(crate) fn parse_net(token: &str) -> Result<(IpNet, Option<String>), String> {
    let Some((addr, len)) = token.split_once('/') else {
        let ip = parse_ip(token)?;
        return Ok((IpNet::from(ip), None));
    };
    let ip = parse_ip(addr)?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len: u8 = len.parse().map_err(|_| {
        format!(
            "bad prefix length {} (expected a number from 0 to {max})",
            quote(len)
        )
    })?;
    let net = IpNet::new(ip, len).map_err(|_| {
        format!(
            "prefix length /{len} is too long for an IPv{} address (at most /{max})",
            if ip.is_ipv4() { 4 } else { 6 }
        )
    })?;
    let trunc = net.trunc();
    if trunc != net {
        return Ok((
            trunc,
            Some(format!(
                "{net} has host bits set; using the network {trunc}"
            )),
        ));
    }
    Ok((net, None))
}

fn parse_ip(text: &str) -> Result<IpAddr, String> {
    text.parse::<IpAddr>()
        .map_err(|_| format!("not an IP address: {}", quote(text)))
}

/// A `first-last` range as the fewest CIDRs covering exactly it.
fn parse_range(a: &str, b: &str) -> Result<Vec<IpNet>, String> {
    let (first, last) = (parse_ip(a)?, parse_ip(b)?);
    if first > last || first.is_ipv4() != last.is_ipv4() {
        return Err(format!(
            "bad range {first}-{last} (the first address must not be after the last, and both \
             must be of one family)"
        ));
    }
    let nets: Vec<IpNet> = match (first, last) {
        (IpAddr::V4(f), IpAddr::V4(l)) => Ipv4Subnets::new(f, l, 0)
            .take(MAX_RANGE_CIDRS)
            .map(IpNet::V4)
            .collect(),
        (IpAddr::V6(f), IpAddr::V6(l)) => Ipv6Subnets::new(f, l, 0)
            .take(MAX_RANGE_CIDRS)
            .map(IpNet::V6)
            .collect(),
        _ => Vec::new(),
    };
    Ok(nets)
}

/// Column names that hold the address, in a CSV header (lowercase).
const CSV_IP_COLUMNS: &[&str] = &[
    "ip",
    "ip_address",
    "ipaddress",
    "ip address",
    "address",
    "addr",
    "dst_ip",
    "cidr",
    "network",
    "net",
    "prefix",
    "ip_or_cidr",
];

/// Column names that hold a reference, in a CSV header (lowercase).
const CSV_REFERENCE_COLUMNS: &[&str] = &[
    "comment",
    "comments",
    "reference",
    "ref",
    "description",
    "reason",
    "malware",
    "sblid",
    "category",
    "threat",
    "note",
    "notes",
];

/// Which columns of a CSV row to read.
#[derive(Clone, Copy)]
struct Columns {
    ip: usize,
    reference: Option<usize>,
}

/// The columns a header row names, if it names an address column.
fn header_columns(fields: &[String]) -> Option<Columns> {
    let names: Vec<String> = fields
        .iter()
        .map(|f| f.trim().to_ascii_lowercase())
        .collect();
    let ip = names
        .iter()
        .position(|n| CSV_IP_COLUMNS.contains(&n.as_str()))?;
    let reference = names
        .iter()
        .position(|n| CSV_REFERENCE_COLUMNS.contains(&n.as_str()));
    Some(Columns { ip, reference })
}

fn parse_csv(text: &str, sink: &mut Sink<'_>) {
    let mut columns: Option<Columns> = None;
    let mut first_data = true;
    for (i, raw) in text.lines().enumerate() {
        let line_no = i + 1;
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#').or_else(|| line.strip_prefix(';')) {
            // Feodo Tracker comments its header row out.
            if columns.is_none() && first_data && comment.contains(',') {
                columns = header_columns(&split_csv(comment.trim()));
            }
            continue;
        }
        let fields = split_csv(line);
        if first_data {
            first_data = false;
            let candidate = fields.get(columns.map_or(0, |c| c.ip)).map(|f| f.trim());
            let is_data = candidate.is_some_and(|f| parse_token(f).is_ok());
            if !is_data {
                if let Some(c) = header_columns(&fields) {
                    columns = Some(c);
                    continue;
                }
                // A header we do not understand: its first column is not an address either.
                if fields
                    .iter()
                    .all(|f| f.chars().any(|c| c.is_ascii_alphabetic()))
                {
                    continue;
                }
            }
        }
        let cols = columns.unwrap_or(Columns {
            ip: 0,
            reference: Some(1),
        });
        let Some(token) = fields.get(cols.ip) else {
            sink.warn(
                line_no,
                format!(
                    "the row has {} fields, the address column is number {}; line skipped: {}",
                    fields.len(),
                    cols.ip + 1,
                    quote(raw)
                ),
            );
            continue;
        };
        let reference = cols
            .reference
            .and_then(|r| fields.get(r))
            .map(|s| s.trim())
            .filter(|s| !s.is_empty());
        if !add_token(token.trim(), reference, line_no, raw, sink) {
            return;
        }
    }
}

/// Splits one CSV line (RFC 4180 quoting: `"a,b"` and `""` inside quotes).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => quoted = false,
            ('"', false) if field.trim().is_empty() => {
                field.clear();
                quoted = true;
            }
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// A reference as kept: trimmed, control characters dropped, at most
/// [`MAX_REFERENCE_CHARS`]; `None` when nothing is left.
fn clean_reference(text: &str) -> Option<String> {
    let cleaned: String = text
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(MAX_REFERENCE_CHARS)
        .collect();
    let cleaned = cleaned.trim();
    (!cleaned.is_empty()).then(|| cleaned.to_string())
}

/// Offending text for a message: debug-quoted (control characters escaped), shortened.
fn quote(text: &str) -> String {
    let short: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    if short.len() < text.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
