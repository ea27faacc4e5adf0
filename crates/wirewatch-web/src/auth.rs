//! Who may use the API: the access token, how it is made, checked and required.
//!
//! Owns [`Auth`], [`generate_token`], [`parse_listen`] (the accepted forms of a listen
//! address), [`check_listen`] (the rule that decides whether a listen address needs a token)
//! and the constant-time token comparison. The middleware that applies it to requests is in
//! `security.rs`.
//!
//! The rule: a loopback address needs no token; any other address refuses to start without
//! one. A token that *is* configured is always enforced, loopback included: whoever set one
//! wants it, and other local users can reach a loopback port too.

use crate::error::WebError;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;

/// Shortest token accepted: 16 characters of a random token are far beyond guessing over a
/// network; `wirewatch token` makes 64 hex digits (32 random bytes).
pub const MIN_TOKEN_LEN: usize = 16;
/// Longest token accepted (it travels in a header and a cookie).
pub const MAX_TOKEN_LEN: usize = 1024;
/// Name of the cookie the login page sets.
pub const TOKEN_COOKIE: &str = "wirewatch_token";

/// Whether requests to `/api/*` and `/ws` need a token.
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Auth {
    /// No login (a loopback address without a configured token).
    #[default]
    None,
    /// Every API and WebSocket request must carry this token.
    Token(Arc<str>),
}

impl Auth {
    /// Whether a token is required.
    pub fn required(&self) -> bool {
        matches!(self, Auth::Token(_))
    }

    /// Whether `offered` is the token (constant time in the token's contents). Always true
    /// when no token is required.
    pub fn accepts(&self, offered: Option<&str>) -> bool {
        match self {
            Auth::None => true,
            Auth::Token(token) => {
                offered.is_some_and(|o| constant_time_eq(o.as_bytes(), token.as_bytes()))
            }
        }
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            // Never print the token itself.
            Auth::Token(_) => f.write_str("Auth::Token(..)"),
        }
    }
}

/// Compares two byte strings without an early exit on the first difference (the length is
/// not secret: every generated token has the same).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// A new random token: 32 bytes from the operating system's generator, as 64 hex digits.
pub fn generate_token() -> Result<String, WebError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| WebError::Random(e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Checks a configured token: trimmed, [`MIN_TOKEN_LEN`]..=[`MAX_TOKEN_LEN`] characters of
/// visible ASCII other than `"`, `,`, `;` and `\` (it must fit a header and a cookie).
pub fn validate_token(token: &str) -> Result<Arc<str>, WebError> {
    let t = token.trim();
    let bad = |reason: String| Err(WebError::BadToken { reason });
    if t.len() < MIN_TOKEN_LEN {
        return bad(format!(
            "it is {} characters long, at least {MIN_TOKEN_LEN} are needed",
            t.len()
        ));
    }
    if t.len() > MAX_TOKEN_LEN {
        return bad(format!(
            "it is {} characters long, at most {MAX_TOKEN_LEN} are accepted",
            t.len()
        ));
    }
    if let Some(c) = t
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '"' | ',' | ';' | '\\'))
    {
        return bad(format!(
            "it contains {c:?}; use letters, digits and punctuation other than \" , ; \\"
        ));
    }
    Ok(Arc::from(t))
}

/// Decides the access rule for listening on `addr` with an optional configured `token`:
/// loopback without a token → [`Auth::None`]; a token (valid per [`validate_token`]) →
/// [`Auth::Token`] on any address; any other address without a token →
/// [`WebError::NoCredentials`], whose message says how to set one.
pub fn check_listen(addr: &SocketAddr, token: Option<&str>) -> Result<Auth, WebError> {
    match token {
        Some(t) => Ok(Auth::Token(validate_token(t)?)),
        None if addr.ip().is_loopback() => Ok(Auth::None),
        None => Err(WebError::NoCredentials { addr: *addr }),
    }
}

/// Parses where to serve: `PORT` (on 127.0.0.1, loopback, so no token is needed),
/// `ADDR:PORT` (`0.0.0.0:8080`), `[IPV6]:PORT` (`[::1]:8080`) or `HOST:PORT` with a name the
/// system resolves (`localhost:8080`: its first address). The message names the accepted forms.
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let s = text.trim();
    let usage = || {
        format!(
            "`{}` is not a listen address: use PORT (8080, on 127.0.0.1), ADDR:PORT \
             (0.0.0.0:8080), [IPV6]:PORT ([::1]:8080) or HOST:PORT (localhost:8080)",
            s.escape_debug()
        )
    };
    if let Ok(port) = s.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let named = s.rsplit_once(':').is_some_and(|(host, port)| {
        !host.is_empty() && !host.contains(':') && port.parse::<u16>().is_ok()
    });
    if !named {
        return Err(usage());
    }
    std::net::ToSocketAddrs::to_socket_addrs(s)
        .map_err(|e| format!("{}: {e}", usage()))?
        .next()
        .ok_or_else(usage)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn listen_addresses_take_a_port_a_name_or_an_address() {
        assert_eq!(parse_listen("8080").unwrap().to_string(), "127.0.0.1:8080");
        assert_eq!(
            parse_listen("0.0.0.0:80").unwrap().to_string(),
            "0.0.0.0:80"
        );
        assert_eq!(
            parse_listen("[::1]:8080").unwrap().to_string(),
            "[::1]:8080"
        );
        let local = parse_listen("localhost:8080").unwrap();
        assert!(local.ip().is_loopback() && local.port() == 8080, "{local}");
        for bad in [
            "",
            "localhost",
            "localhost:99999",
            "::1:8080",
            "a b:1",
            ":8080",
        ] {
            let e = parse_listen(bad).unwrap_err();
            assert!(e.contains("PORT (8080, on 127.0.0.1)"), "{bad}: {e}");
        }
    }

    #[test]
    fn tokens_are_random_hex() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
        validate_token(&a).unwrap();
    }

    #[test]
    fn comparison() {
        let auth = Auth::Token(Arc::from("0123456789abcdef"));
        assert!(auth.accepts(Some("0123456789abcdef")));
        assert!(!auth.accepts(Some("0123456789abcdeF")));
        assert!(!auth.accepts(Some("0123456789abcde")));
        assert!(!auth.accepts(None));
        assert!(Auth::None.accepts(None));
        assert_eq!(format!("{auth:?}"), "Auth::Token(..)");
    }

    #[test]
    fn bad_tokens_are_refused_with_the_reason() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let e = check_listen(&addr, Some("short")).unwrap_err().to_string();
        assert!(e.contains("5 characters long, at least 16"), "{e}");
        let e = check_listen(&addr, Some("0123456789abcdef;x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("contains ';'"), "{e}");
        assert_eq!(
            check_listen(&addr, Some(" 0123456789abcdef\n")).unwrap(),
            Auth::Token(Arc::from("0123456789abcdef"))
        );
    }
}
