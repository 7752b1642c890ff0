//! The process's resident memory, read from `/proc/self/status` (Linux).

/// Resident memory of this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Rss {
    /// Resident now (`VmRSS`), in bytes.
    pub now: u64,
    /// The most it has been (`VmHWM`), in bytes.
    pub peak: u64,
}

fn field(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    let kib: u64 = line[name.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}

/// This process's resident memory (`None` where `/proc/self/status` is missing).
pub fn rss() -> Option<Rss> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    Some(Rss {
        now: field(&s, "VmRSS:")?,
        peak: field(&s, "VmHWM:")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_fields() {
        let s = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\n";
        assert_eq!(field(s, "VmRSS:"), Some(1024 * 1024));
        assert_eq!(field(s, "VmHWM:"), Some(2048 * 1024));
        if cfg!(target_os = "linux") {
            let r = rss().unwrap();
            assert!(r.now > 0 && r.peak >= r.now);
        }
    }
}
