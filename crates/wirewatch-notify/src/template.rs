//! Webhook body templates: JSON text with `{{placeholder}}`s, filled from an alert.
//!
//! Every value is JSON-escaped as the *content* of a JSON string (quotes, backslashes and
//! control characters escaped, no surrounding quotes), so `"text": "{{message}}"` stays valid
//! JSON whatever the message holds; numeric fields (`{{id}}`, `{{confidence}}`,
//! `{{updates}}`) may also stand unquoted. `{{alert}}` is the whole alert as a JSON object and
//! must stand unquoted. Substitution is one pass: a value that itself contains `{{…}}` is
//! never expanded. [`Template::parse`] rejects unknown placeholders and templates that would
//! not give valid JSON, so a bad template fails at start, not at the first alert.

use crate::timefmt::rfc3339_millis;
use std::fmt::Write as _;
use wirewatch_core::{Alert, Severity, Timestamp};

/// The placeholders a template may use, each with what it stands for.
pub const PLACEHOLDERS: [(&str, &str); 14] = [
    ("id", "the alert's id (a number)"),
    ("kind", "what was detected, e.g. syn_flood"),
    ("severity", "low, medium, high or critical"),
    ("severity_upper", "LOW, MEDIUM, HIGH or CRITICAL"),
    ("confidence", "the detector's confidence 0–1 (a number)"),
    ("message", "the human message"),
    ("recommendation", "what the administrator should do"),
    ("sources", "offending addresses, comma-separated"),
    ("targets", "targeted addresses, comma-separated"),
    ("ports", "ports involved, comma-separated"),
    ("time", "first evidence, RFC 3339 UTC"),
    ("last_time", "latest evidence, RFC 3339 UTC"),
    (
        "updates",
        "how many times the incident was updated (a number)",
    ),
    ("alert", "the whole alert as a JSON object (use unquoted)"),
];

/// One placeholder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Kind,
    Severity,
    SeverityUpper,
    Confidence,
    Message,
    Recommendation,
    Sources,
    Targets,
    Ports,
    Time,
    LastTime,
    Updates,
    Alert,
}

impl Field {
    fn parse(name: &str) -> Option<Field> {
        Some(match name {
            "id" => Field::Id,
            "kind" => Field::Kind,
            "severity" => Field::Severity,
            "severity_upper" => Field::SeverityUpper,
            "confidence" => Field::Confidence,
            "message" => Field::Message,
            "recommendation" => Field::Recommendation,
            "sources" => Field::Sources,
            "targets" => Field::Targets,
            "ports" => Field::Ports,
            "time" => Field::Time,
            "last_time" => Field::LastTime,
            "updates" => Field::Updates,
            "alert" => Field::Alert,
            _ => return None,
        })
    }
}

/// A piece of a parsed template.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Field(Field),
}

/// A parsed, checked template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pieces: Vec<Piece>,
}

impl Template {
    /// Parses `text`; the error says which placeholder is unknown or why the result would not
    /// be JSON.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            let (before, after) = rest.split_at(open);
            if !before.is_empty() {
                pieces.push(Piece::Text(before.to_string()));
            }
            let after = &after[2..];
            let Some(close) = after.find("}}") else {
                return Err(format!(
                    "a `{{{{` at byte {} is never closed with `}}}}`",
                    text.len() - rest.len() + open
                ));
            };
            let name = after[..close].trim();
            let field = Field::parse(name).ok_or_else(|| {
                format!(
                    "unknown placeholder {{{{{name}}}}}; known: {}",
                    PLACEHOLDERS
                        .iter()
                        .map(|(n, _)| format!("{{{{{n}}}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            pieces.push(Piece::Field(field));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            pieces.push(Piece::Text(rest.to_string()));
        }
        let template = Template { pieces };
        let sample = template.render(&sample_alert());
        serde_json::from_str::<serde_json::Value>(&sample).map_err(|e| {
            format!(
                "the template does not give valid JSON once filled in ({e}); put text \
                 placeholders inside quotes, e.g. {{\"text\": \"{{{{message}}}}\"}}"
            )
        })?;
        Ok(template)
    }

    /// The body for `alert`.
    pub fn render(&self, alert: &Alert) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Field(f) => push_field(&mut out, *f, alert),
            }
        }
        out
    }
}

/// Appends the value of `field`, escaped for a JSON string.
fn push_field(out: &mut String, field: Field, alert: &Alert) {
    let value = match field {
        Field::Id => alert.id.to_string(),
        Field::Kind => alert.kind.clone(),
        Field::Severity => alert.severity.name().to_string(),
        Field::SeverityUpper => alert.severity.name().to_ascii_uppercase(),
        Field::Confidence => format!("{}", alert.confidence),
        Field::Message => alert.message.clone(),
        Field::Recommendation => alert.recommendation.clone(),
        Field::Sources => join(&alert.sources),
        Field::Targets => join(&alert.targets),
        Field::Ports => join(&alert.ports),
        Field::Time => rfc3339_millis(alert.start_ts),
        Field::LastTime => rfc3339_millis(alert.last_ts),
        Field::Updates => alert.updates.to_string(),
        Field::Alert => {
            // A JSON value in its own right: inserted as is, not as string content.
            out.push_str(&serde_json::to_string(alert).unwrap_or_else(|_| "null".to_string()));
            return;
        }
    };
    push_json_escaped(out, &value);
}

/// `items` joined with `, `.
pub(crate) fn join<T: std::fmt::Display>(items: &[T]) -> String {
    let mut s = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{item}");
    }
    s
}

/// Appends `value` escaped as the content of a JSON string (RFC 8259 §7).
pub fn push_json_escaped(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 || c == '\u{7f}' || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

/// An alert with awkward text in every field, to check that a template gives JSON.
fn sample_alert() -> Alert {
    Alert {
        id: 1,
        kind: "sample \"kind\"".to_string(),
        severity: Severity::High,
        confidence: 0.5,
        start_ts: Timestamp(0),
        last_ts: Timestamp(0),
        updates: 1,
        sources: vec![[192, 0, 2, 1].into()],
        targets: vec![[198, 51, 100, 2].into()],
        ports: vec![22, 80],
        message: "a \"quoted\"\nmessage \\ with {{kind}}".to_string(),
        recommendation: "check\tit".to_string(),
        evidence: serde_json::json!({"k": 1}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slack_style_template_escapes_values() {
        let t = Template::parse(r#"{"text": "[{{severity}}] {{ kind }}: {{message}}"}"#).unwrap();
        let body = t.render(&sample_alert());
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            v["text"],
            "[high] sample \"kind\": a \"quoted\"\nmessage \\ with {{kind}}"
        );
    }

    #[test]
    fn numbers_and_whole_alert_may_stand_unquoted() {
        let t = Template::parse(r#"{"id": {{id}}, "c": {{confidence}}, "a": {{alert}}}"#).unwrap();
        let v: serde_json::Value = serde_json::from_str(&t.render(&sample_alert())).unwrap();
        assert_eq!(v["id"], 1);
        assert_eq!(v["c"], 0.5);
        assert_eq!(v["a"]["kind"], "sample \"kind\"");
        assert_eq!(v["a"]["ports"][1], 80);
    }

    #[test]
    fn bad_templates_are_refused() {
        assert!(
            Template::parse(r#"{"t": "{{kind"}"#)
                .unwrap_err()
                .contains("never closed")
        );
        assert!(
            Template::parse(r#"{"t": "{{who}}"}"#)
                .unwrap_err()
                .contains("unknown")
        );
        assert!(
            Template::parse(r#"{"t": {{message}}}"#)
                .unwrap_err()
                .contains("valid JSON")
        );
        assert!(Template::parse("not json").is_err());
    }

    #[test]
    fn control_characters_are_escaped() {
        let mut s = String::new();
        push_json_escaped(&mut s, "a\u{1}b\u{7f}\u{2028}");
        assert_eq!(s, "a\\u0001b\\u007f\\u2028");
        let v: String = serde_json::from_str(&format!("\"{s}\"")).unwrap();
        assert_eq!(v, "a\u{1}b\u{7f}\u{2028}");
    }
}
