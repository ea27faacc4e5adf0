//! The `--write-pcap` flags of `wirewatch run`: rotating capture files like `tcpdump -C/-G/-W`.

use clap::Args;
use std::path::PathBuf;
use wirewatch_capture::write::RotateConfig;

/// Rotating capture files.
#[derive(Debug, Clone, Default, Args)]
pub struct CaptureFileArgs {
    /// Also write every packet to rotating pcap files in this directory.
    #[arg(long = "write-pcap", value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Start a new file when the current one would pass this many MiB (like tcpdump -C).
    #[arg(
        long = "pcap-file-mb",
        value_name = "MIB",
        default_value_t = 100,
        requires = "dir"
    )]
    pub file_mb: u64,
    /// Start a new file every this many seconds of packet time (like tcpdump -G).
    #[arg(long = "pcap-file-secs", value_name = "SECS", requires = "dir")]
    pub file_secs: Option<u64>,
    /// Keep at most this many files, deleting the oldest (like tcpdump -W).
    #[arg(long = "pcap-files", value_name = "N", requires = "dir")]
    pub files: Option<usize>,
    /// Keep at most this many MiB of files in all, deleting the oldest.
    #[arg(
        long = "pcap-total-mb",
        value_name = "MIB",
        default_value_t = 10_240,
        requires = "dir"
    )]
    pub total_mb: u64,
}

impl CaptureFileArgs {
    /// The rotation settings, when `--write-pcap` was given.
    pub fn rotate_config(&self) -> anyhow::Result<Option<RotateConfig>> {
        let Some(dir) = &self.dir else {
            return Ok(None);
        };
        anyhow::ensure!(self.file_mb > 0, "--pcap-file-mb must be positive");
        anyhow::ensure!(
            self.total_mb >= self.file_mb,
            "--pcap-total-mb must be at least --pcap-file-mb"
        );
        anyhow::ensure!(
            self.file_secs != Some(0) && self.files != Some(0),
            "--pcap-file-secs and --pcap-files must be positive"
        );
        let mib = 1u64 << 20;
        let mut c = RotateConfig::new(dir.clone());
        c.max_file_bytes = Some(self.file_mb.saturating_mul(mib));
        c.max_file_secs = self.file_secs;
        c.max_files = self.files;
        c.max_total_bytes = Some(self.total_mb.saturating_mul(mib));
        Ok(Some(c))
    }
}
