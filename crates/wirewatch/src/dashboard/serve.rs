//! The web server of `wirewatch run`: its plan (made in [`crate::settings`]) and the access
//! token file.

use anyhow::Context;
use std::path::Path;
use wirewatch_web::WebConfig;

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

/// The first line of a token file; a missing file gets a new random token, printed once.
pub fn read_token(path: &Path) -> anyhow::Result<String> {
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
