//! Numeric literals: ints, floats, sizes (an int of bytes) and durations (a float of seconds).

use crate::ast::{Number, NumberValue};

/// Why a numeric literal has no value. The caller turns it into a diagnostic at the literal.
#[derive(Debug, PartialEq)]
pub(crate) enum NumberError {
    /// An int (or a size in bytes) beyond the 64-bit range.
    TooLarge,
    /// A size that is not a whole number of bytes (`1.5B`).
    FractionalBytes,
    /// Letters after the digits that are not a unit.
    UnknownUnit(String),
}

/// A unit a number may carry, and what one of it is worth.
enum Unit {
    /// Bytes per unit.
    Size(u64),
    /// Seconds per unit.
    Duration(f64),
}

pub(crate) const SIZE_UNITS: [&str; 9] = ["B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"];
pub(crate) const DURATION_UNITS: [&str; 5] = ["ms", "s", "m", "h", "d"];

fn unit(suffix: &str) -> Option<Unit> {
    Some(match suffix {
        "B" => Unit::Size(1),
        "KB" => Unit::Size(1000),
        "MB" => Unit::Size(1000u64.pow(2)),
        "GB" => Unit::Size(1000u64.pow(3)),
        "TB" => Unit::Size(1000u64.pow(4)),
        "KiB" => Unit::Size(1 << 10),
        "MiB" => Unit::Size(1 << 20),
        "GiB" => Unit::Size(1 << 30),
        "TiB" => Unit::Size(1 << 40),
        "ms" => Unit::Duration(0.001),
        "s" => Unit::Duration(1.0),
        "m" => Unit::Duration(60.0),
        "h" => Unit::Duration(3600.0),
        "d" => Unit::Duration(86400.0),
        _ => return None,
    })
}

/// Splits `text` (as matched by the grammar's `number` rule) into its numeric part and its
/// unit suffix.
fn split_suffix(text: &str) -> (&str, &str) {
    let bytes = text.as_bytes();
    let digits_end = |mut i: usize| {
        while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'_') {
            i += 1;
        }
        i
    };
    let mut end = digits_end(0);
    if end + 1 < bytes.len() && bytes[end] == b'.' && bytes[end + 1].is_ascii_digit() {
        end = digits_end(end + 1);
    }
    if end < bytes.len() && (bytes[end] == b'e' || bytes[end] == b'E') {
        let mut exponent = end + 1;
        if exponent < bytes.len() && (bytes[exponent] == b'+' || bytes[exponent] == b'-') {
            exponent += 1;
        }
        if exponent < bytes.len() && bytes[exponent].is_ascii_digit() {
            end = digits_end(exponent);
        }
    }
    text.split_at(end)
}

/// Whether a literal denotes an int: no fraction, no exponent, no duration unit.
pub(crate) fn is_integer_literal(text: &str) -> bool {
    let (numeric, suffix) = split_suffix(text);
    !numeric.contains(['.', 'e', 'E']) && !matches!(unit(suffix), Some(Unit::Duration(_)))
}

/// The value of a numeric literal written `text`.
pub(crate) fn parse_number(text: &str) -> Result<Number, NumberError> {
    let (numeric, suffix) = split_suffix(text);
    let cleaned: String = numeric.chars().filter(|c| *c != '_').collect();
    let is_float = cleaned.contains(['.', 'e', 'E']);
    let value = if suffix.is_empty() {
        if is_float {
            let value = cleaned.parse::<f64>().unwrap_or(f64::INFINITY);
            if !value.is_finite() {
                return Err(NumberError::TooLarge);
            }
            NumberValue::Float(value)
        } else {
            NumberValue::Int(cleaned.parse::<i64>().map_err(|_| NumberError::TooLarge)?)
        }
    } else {
        match unit(suffix) {
            None => return Err(NumberError::UnknownUnit(suffix.to_string())),
            Some(Unit::Duration(seconds)) => {
                let amount = cleaned.parse::<f64>().unwrap_or(f64::INFINITY) * seconds;
                if !amount.is_finite() {
                    return Err(NumberError::TooLarge);
                }
                NumberValue::Float(amount)
            }
            Some(Unit::Size(bytes_per_unit)) => {
                NumberValue::Int(size_in_bytes(&cleaned, is_float, bytes_per_unit)?)
            }
        }
    };
    Ok(Number {
        value,
        text: text.to_string(),
    })
}

fn size_in_bytes(cleaned: &str, is_float: bool, bytes_per_unit: u64) -> Result<i64, NumberError> {
    if !is_float {
        let amount = cleaned.parse::<u64>().map_err(|_| NumberError::TooLarge)?;
        let bytes = amount
            .checked_mul(bytes_per_unit)
            .ok_or(NumberError::TooLarge)?;
        return i64::try_from(bytes).map_err(|_| NumberError::TooLarge);
    }
    // `1.5KiB` is 1536 bytes: fine as long as the result is a whole number of bytes.
    let bytes = cleaned.parse::<f64>().unwrap_or(f64::INFINITY) * bytes_per_unit as f64;
    if !bytes.is_finite() || bytes >= i64::MAX as f64 {
        return Err(NumberError::TooLarge);
    }
    if bytes.fract() != 0.0 {
        return Err(NumberError::FractionalBytes);
    }
    Ok(bytes as i64)
}

/// The unit the user probably meant, for a help line (`mb` → `MB`, `sec` → `s`).
pub(crate) fn suggest_unit(written: &str) -> Option<&'static str> {
    let all = SIZE_UNITS.iter().chain(DURATION_UNITS.iter());
    if let Some(same_letters) = all.clone().find(|u| u.eq_ignore_ascii_case(written)) {
        return Some(same_letters);
    }
    match written {
        "sec" | "secs" | "second" | "seconds" => Some("s"),
        "min" | "mins" | "minute" | "minutes" => Some("m"),
        "hr" | "hrs" | "hour" | "hours" => Some("h"),
        "day" | "days" => Some("d"),
        "msec" | "millis" => Some("ms"),
        "bytes" | "byte" => Some("B"),
        _ => all
            .filter(|u| u.len() > 1)
            .find(|u| strsim::levenshtein(u, written) == 1)
            .copied(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> NumberValue {
        parse_number(text).expect("a valid number").value
    }

    #[test]
    fn plain_numbers() {
        assert_eq!(value("42"), NumberValue::Int(42));
        assert_eq!(value("1_000_000"), NumberValue::Int(1_000_000));
        assert_eq!(value("3.5"), NumberValue::Float(3.5));
        assert_eq!(value("1e-3"), NumberValue::Float(0.001));
        assert_eq!(value("2E3"), NumberValue::Float(2000.0));
    }

    #[test]
    fn sizes_are_bytes() {
        assert_eq!(value("512KiB"), NumberValue::Int(512 * 1024));
        assert_eq!(value("256MiB"), NumberValue::Int(256 << 20));
        assert_eq!(value("8GiB"), NumberValue::Int(8 << 30));
        assert_eq!(value("1TiB"), NumberValue::Int(1 << 40));
        assert_eq!(value("100KB"), NumberValue::Int(100_000));
        assert_eq!(value("5MB"), NumberValue::Int(5_000_000));
        assert_eq!(value("2GB"), NumberValue::Int(2_000_000_000));
        assert_eq!(value("7B"), NumberValue::Int(7));
        assert_eq!(value("1.5KiB"), NumberValue::Int(1536));
    }

    #[test]
    fn durations_are_seconds() {
        assert_eq!(value("250ms"), NumberValue::Float(0.25));
        assert_eq!(value("30s"), NumberValue::Float(30.0));
        assert_eq!(value("10m"), NumberValue::Float(600.0));
        assert_eq!(value("2h"), NumberValue::Float(7200.0));
        assert_eq!(value("1d"), NumberValue::Float(86400.0));
    }

    #[test]
    fn text_is_kept_as_written() {
        assert_eq!(parse_number("1_000").unwrap().text, "1_000");
    }

    #[test]
    fn errors() {
        assert_eq!(
            parse_number("9223372036854775808"),
            Err(NumberError::TooLarge)
        );
        assert!(parse_number("9223372036854775807").is_ok());
        assert_eq!(parse_number("99999999TiB"), Err(NumberError::TooLarge));
        assert_eq!(parse_number("1e999"), Err(NumberError::TooLarge));
        assert_eq!(parse_number("1e307d"), Err(NumberError::TooLarge));
        assert_eq!(parse_number("1.5B"), Err(NumberError::FractionalBytes));
        assert_eq!(
            parse_number("10min"),
            Err(NumberError::UnknownUnit("min".into()))
        );
        assert_eq!(
            parse_number("2e"),
            Err(NumberError::UnknownUnit("e".into()))
        );
    }

    #[test]
    fn unit_suggestions() {
        assert_eq!(suggest_unit("mb"), Some("MB"));
        assert_eq!(suggest_unit("min"), Some("m"));
        assert_eq!(suggest_unit("GIB"), Some("GiB"));
        assert_eq!(suggest_unit("xyz"), None);
    }
}
