//! `wirewatch interfaces`: the interfaces Wirewatch can capture on.

use crate::cli::InterfacesArgs;
use anyhow::Context;
use std::io::Write;

/// Lists the interfaces (or prints the default one).
pub fn run(args: &InterfacesArgs) -> anyhow::Result<i32> {
    let list = wirewatch_capture::live::list_interfaces().context("cannot list interfaces")?;
    let default = wirewatch_capture::live::default_interface(&list).map(|i| i.name.clone());
    if args.default {
        return Ok(match default {
            Some(name) => {
                println!("{name}");
                0
            }
            None => {
                eprintln!("no usable interface (up, not loopback, with an address)");
                1
            }
        });
    }
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &list).context("cannot write the list")?;
        writeln!(out).context("cannot write the list")?;
        return Ok(0);
    }
    for i in &list {
        let mut flags = Vec::new();
        for (set, name) in [
            (i.up, "up"),
            (i.running, "running"),
            (i.loopback, "loopback"),
            (i.wireless, "wireless"),
        ] {
            if set {
                flags.push(name);
            }
        }
        let addrs: Vec<String> = i.addresses.iter().map(ToString::to_string).collect();
        let mark = if default.as_deref() == Some(i.name.as_str()) {
            "  (default)"
        } else {
            ""
        };
        writeln!(out, "{}{mark}", i.name).context("cannot write the list")?;
        if let Some(d) = &i.description {
            writeln!(out, "    description: {d}").context("cannot write the list")?;
        }
        writeln!(
            out,
            "    flags: {}",
            if flags.is_empty() {
                "-".to_string()
            } else {
                flags.join(", ")
            }
        )
        .context("cannot write the list")?;
        writeln!(
            out,
            "    addresses: {}",
            if addrs.is_empty() {
                "-".to_string()
            } else {
                addrs.join(", ")
            }
        )
        .context("cannot write the list")?;
    }
    Ok(0)
}
