//! HTTP/1.x: the request line and the headers that name things (Host, User-Agent), or the
//! status of a response, from the first segment of a message on any port.
//!
//! Parsing uses `httparse` over a fixed array of headers (no allocation). Values come from the
//! network and are attacker-controlled: they are kept as raw bytes, capped in length, and
//! rendered with non-printable bytes escaped.

/// Headers examined per message; a request with more is parsed as far as these go.
pub const MAX_HEADERS: usize = 48;
/// Longest value kept (host, path, user agent); longer ones are cut and flagged.
pub const MAX_VALUE_LEN: usize = 255;

/// A capped copy of a header value or request target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpText {
    bytes: [u8; MAX_VALUE_LEN],
    len: u8,
    /// Whether the original was longer than [`MAX_VALUE_LEN`].
    pub cut: bool,
}

impl HttpText {
    fn new(src: &[u8]) -> Self {
        let mut bytes = [0u8; MAX_VALUE_LEN];
        let n = src.len().min(MAX_VALUE_LEN);
        for (d, s) in bytes.iter_mut().zip(src.iter().take(n)) {
            *d = *s;
        }
        HttpText {
            bytes,
            len: n as u8,
            cut: src.len() > MAX_VALUE_LEN,
        }
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// Printable text: bytes outside printable ASCII become `\xNN`, so a value can never carry
    /// control characters into a terminal, a log or a page.
    pub fn to_string_lossy(&self) -> String {
        super::escape_bytes(self.as_bytes())
    }
}

/// What a request says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method (`GET`, `POST`, ...).
    pub method: HttpText,
    /// Request target (path and query).
    pub path: HttpText,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// The Host header, when present.
    pub host: Option<HttpText>,
    /// The User-Agent header, when present.
    pub user_agent: Option<HttpText>,
    /// Whether the header block was complete in this segment.
    pub complete: bool,
}

/// What a response says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Minor version.
    pub version: u8,
    /// The Server header, when present.
    pub server: Option<HttpText>,
}

/// Parses the start of an HTTP/1.x request. `None` when the payload is not one (a request
/// cut inside its request line still counts when the method and target are there).
pub fn parse_request(payload: &[u8]) -> Option<HttpRequest> {
    // Cheap rejection first: requests start with an upper-case token and a space.
    let first_space = payload.iter().take(16).position(|b| *b == b' ')?;
    let token = payload.get(..first_space)?;
    if token.is_empty() || !token.iter().all(u8::is_ascii_uppercase) {
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let complete = match req.parse(payload) {
        Ok(httparse::Status::Complete(_)) => true,
        Ok(httparse::Status::Partial) => false,
        // Too many headers, or a malformed one after a valid start: keep what parsed.
        Err(httparse::Error::TooManyHeaders) => false,
        Err(_) if req.method.is_some() && req.path.is_some() => false,
        Err(_) => return None,
    };
    let method = HttpText::new(req.method?.as_bytes());
    let path = HttpText::new(req.path?.as_bytes());
    // httparse stops at a header value with control bytes; an attacker would hide a name
    // behind one, so such a block is scanned line by line instead.
    let strict = complete || req.headers.iter().any(|h| !h.name.is_empty());
    let find = |name: &str| {
        if strict {
            req.headers
                .iter()
                .take_while(|h| !h.name.is_empty())
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| HttpText::new(h.value))
                .or_else(|| scan_header(payload, name))
        } else {
            scan_header(payload, name)
        }
    };
    Some(HttpRequest {
        method,
        path,
        version: req.version.unwrap_or(1),
        host: find("host"),
        user_agent: find("user-agent"),
        complete,
    })
}

/// Finds a header by a plain line scan (bounded by [`MAX_HEADERS`] lines), for header blocks
/// httparse refuses.
fn scan_header(payload: &[u8], name: &str) -> Option<HttpText> {
    payload
        .split(|b| *b == b'\n')
        .skip(1)
        .take(MAX_HEADERS)
        .take_while(|line| !line.is_empty() && *line != b"\r")
        .find_map(|line| {
            let colon = line.iter().position(|b| *b == b':')?;
            let (key, rest) = line.split_at(colon);
            if !key.eq_ignore_ascii_case(name.as_bytes()) {
                return None;
            }
            let value = rest.get(1..).unwrap_or(&[]);
            let value = value.strip_suffix(b"\r").unwrap_or(value);
            Some(HttpText::new(value.trim_ascii()))
        })
}

/// Parses the start of an HTTP/1.x response.
pub fn parse_response(payload: &[u8]) -> Option<HttpResponse> {
    if !payload.starts_with(b"HTTP/1.") {
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    match resp.parse(payload) {
        Ok(_) | Err(httparse::Error::TooManyHeaders) => {}
        Err(_) if resp.code.is_some() => {}
        Err(_) => return None,
    }
    let server = resp
        .headers
        .iter()
        .take_while(|h| !h.name.is_empty())
        .find(|h| h.name.eq_ignore_ascii_case("server"))
        .map(|h| HttpText::new(h.value));
    Some(HttpResponse {
        status: resp.code?,
        version: resp.version.unwrap_or(1),
        server,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GET: &[u8] = b"GET /index.html?q=1 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n";

    #[test]
    fn a_request_gives_method_path_host_and_agent() {
        let r = parse_request(GET).unwrap();
        assert_eq!(r.method.as_bytes(), b"GET");
        assert_eq!(r.path.as_bytes(), b"/index.html?q=1");
        assert_eq!(r.version, 1);
        assert_eq!(r.host.unwrap().as_bytes(), b"www.example.com");
        assert_eq!(r.user_agent.unwrap().as_bytes(), b"curl/8.0");
        assert!(r.complete);
    }

    #[test]
    fn a_request_cut_in_its_headers_keeps_what_came() {
        let cut = &GET[..45];
        let r = parse_request(cut).unwrap();
        assert!(!r.complete);
        assert_eq!(r.path.as_bytes(), b"/index.html?q=1");
        for n in 0..GET.len() {
            let _ = parse_request(&GET[..n]);
        }
    }

    #[test]
    fn not_http_is_none() {
        assert!(parse_request(b"\x16\x03\x01\x02\x00").is_none());
        assert!(parse_request(b"SSH-2.0-OpenSSH_9.2\r\n").is_none());
        assert!(parse_request(b"get / HTTP/1.1\r\n\r\n").is_none());
        assert!(parse_response(b"HTTP/2 200").is_none());
    }

    #[test]
    fn a_response_gives_status_and_server() {
        let r = parse_response(b"HTTP/1.0 404 Not Found\r\nServer: nginx\r\n\r\n").unwrap();
        assert_eq!((r.status, r.version), (404, 0));
        assert_eq!(r.server.unwrap().as_bytes(), b"nginx");
        let cut = parse_response(b"HTTP/1.1 301 Moved").unwrap();
        assert_eq!(cut.status, 301);
    }

    #[test]
    fn hostile_values_are_capped_and_escaped() {
        let mut req = b"GET / HTTP/1.1\r\nHost: evil\x1b[31m.com".to_vec();
        req.extend_from_slice(b"\r\nUser-Agent: ");
        req.extend(std::iter::repeat_n(b'A', 1000));
        req.extend_from_slice(b"\r\n\r\n");
        let r = parse_request(&req).unwrap();
        assert_eq!(r.host.unwrap().to_string_lossy(), "evil\\x1b[31m.com");
        let ua = r.user_agent.unwrap();
        assert!(ua.cut);
        assert_eq!(ua.as_bytes().len(), MAX_VALUE_LEN);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = parse_request(&data);
            let _ = parse_response(&data);
        }

        #[test]
        fn random_headers_after_a_valid_start_never_panic(tail in proptest::collection::vec(any::<u8>(), 0..400)) {
            let mut data = b"POST /login HTTP/1.1\r\n".to_vec();
            data.extend(tail);
            let r = parse_request(&data);
            prop_assert!(r.is_some());
        }
    }
}
