//! Starting the web server for `wirewatch run`: settings from the `[web]` config section and
//! the command line, the access token, and what to say when it cannot start.

use crate::config::WebSettings;
use anyhow::Context;
use clap::Args;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use wirewatch_web::{TlsFiles, WebConfig};

/// Dashboard flags of `wirewatch run` (they override `[web]` in the config file).
#[derive(Debug, Clone, Default, Args)]
pub struct WebArgs {
    /// Serve the dashboard and API on this address (default 127.0.0.1:8080). Any address other
    /// than loopback needs an access token (`[web] token` or --token-file).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Do not serve the dashboard.
    #[arg(long, conflicts_with = "listen")]
    pub no_web: bool,
    /// File whose first line is the dashboard's access token; when it does not exist, a new
    /// random token is written to it (readable by its owner only) and printed once.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM certificate chain: serve the dashboard over HTTPS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// What the server should do: its configuration, and whether the address was asked for
/// explicitly (then failing to listen is an error; the default address being busy is only a
/// warning, so a second `wirewatch run` still monitors).
#[derive(Debug, Clone)]
pub struct WebPlan {
    /// The server settings.
    pub config: WebConfig,
    /// The address came from a flag or the config file.
    pub explicit: bool,
}

/// The server plan from the config file and the flags; `None` when the dashboard is off.
pub fn plan(settings: &WebSettings, args: &WebArgs) -> anyhow::Result<Option<WebPlan>> {
    if args.no_web || !settings.enabled {
        return Ok(None);
    }
    let explicit = args.listen.is_some() || settings.listen != crate::config::DEFAULT_LISTEN;
    let listen = match args.listen {
        Some(a) => a,
        None => settings.listen.parse().with_context(|| {
            format!(
                "web.listen = {:?} is not an address and port",
                settings.listen
            )
        })?,
    };
    let token = match (&args.token_file, &settings.token_file, &settings.token) {
        (Some(f), _, _) | (None, Some(f), _) => Some(read_token(f)?),
        (None, None, Some(t)) => Some(t.trim().to_string()),
        (None, None, None) => None,
    };
    let tls = match (
        args.tls_cert.as_ref().or(settings.tls_cert.as_ref()),
        args.tls_key.as_ref().or(settings.tls_key.as_ref()),
    ) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    Ok(Some(WebPlan {
        config: WebConfig { listen, token, tls },
        explicit,
    }))
}

/// The first line of a token file; a missing file gets a new random token, printed once.
fn read_token(path: &Path) -> anyhow::Result<String> {
    if !path.exists() {
        return create_token_file(path);
    }
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .with_context(|| format!("cannot read the token file {}", path.display()))?
            .permissions()
            .mode();
        // Like ssh with a private key: a token everyone on the host can read (or replace)
        // guards nothing.
        anyhow::ensure!(
            mode & 0o006 == 0,
            "the token file {} can be read or written by every user (mode {:o}): `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the token file {}", path.display()))?;
    let token = text.lines().next().unwrap_or_default().trim().to_string();
    anyhow::ensure!(
        !token.is_empty(),
        "the token file {} is empty: put the token on its first line (`wirewatch token > {}`)",
        path.display(),
        path.display()
    );
    Ok(token)
}

/// Writes a new token to `path` (mode 0600, never replacing a file) and prints it once.
fn create_token_file(path: &Path) -> anyhow::Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let token = wirewatch_web::generate_token()?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot create the token file {}", path.display()))?;
    writeln!(f, "{token}")
        .with_context(|| format!("cannot write the token file {}", path.display()))?;
    eprintln!(
        "wirewatch: new dashboard access token (saved in {}, shown only now): {token}",
        path.display()
    );
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_config_and_the_default_is_not_explicit() {
        let settings = WebSettings::default();
        let p = plan(&settings, &WebArgs::default())
            .unwrap_or_default()
            .map(|p| (p.config.listen.to_string(), p.explicit));
        assert_eq!(p, Some(("127.0.0.1:8080".to_string(), false)));
        let args = WebArgs {
            listen: "127.0.0.1:0".parse().ok(),
            ..WebArgs::default()
        };
        let p = plan(&settings, &args).unwrap_or_default();
        assert!(p.is_some_and(|p| p.explicit));
        let off = WebArgs {
            no_web: true,
            ..WebArgs::default()
        };
        assert!(plan(&settings, &off).unwrap_or_default().is_none());
    }

    #[test]
    fn a_token_file_is_read_and_an_empty_or_world_readable_one_refused() {
        let dir = std::env::temp_dir().join(format!("ww-token-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let good = dir.join("good");
        let empty = dir.join("empty");
        let _ = std::fs::write(&good, "0123456789abcdef0123\nignored\n");
        let _ = std::fs::write(&empty, "\n");
        use std::os::unix::fs::PermissionsExt;
        for f in [&good, &empty] {
            let _ = std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600));
        }
        assert_eq!(
            read_token(&good).unwrap_or_default(),
            "0123456789abcdef0123"
        );
        let e = read_token(&empty).map_err(|e| e.to_string());
        assert!(e.is_err_and(|m| m.contains("is empty")));
        let _ = std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o644));
        let e = read_token(&good).map_err(|e| e.to_string());
        assert!(
            e.as_ref()
                .is_err_and(|m| m.contains("(mode 644): `chmod 600")),
            "{e:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
