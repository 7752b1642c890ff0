//! Sizes on the command line: `512KiB`, `64MiB`, `10MB`, `77`.

use crate::error::SizeError;

/// Parses a size: a number with an optional unit. `K`, `KiB`, `M`, `MiB`, `G`, `GiB`
/// are powers of 1024; `KB`, `MB`, `GB` powers of 1000; `B` or nothing is bytes.
pub fn parse_size(s: &str) -> Result<u64, SizeError> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| SizeError::NotANumber(s.to_owned()))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        u => {
            return Err(SizeError::UnknownUnit {
                unit: u.to_owned(),
                input: s.to_owned(),
            })
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| SizeError::TooLarge(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("32MiB").unwrap(), 32 << 20);
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("10MB").unwrap(), 10_000_000);
        assert_eq!(parse_size("77").unwrap(), 77);
        assert!(matches!(
            parse_size("1XB"),
            Err(SizeError::UnknownUnit { .. })
        ));
        assert!(matches!(parse_size(""), Err(SizeError::NotANumber(_))));
        assert!(matches!(
            parse_size("99999999999999999999G"),
            Err(SizeError::NotANumber(_))
        ));
        assert!(matches!(
            parse_size("99999999999G"),
            Err(SizeError::TooLarge(_))
        ));
    }
}
