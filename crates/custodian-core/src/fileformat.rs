//! The first checks every versioned JSON file the console reads gets, in
//! the same order, so each kind of damage has the same specific error in
//! every format: empty, truncated, not this kind of file, a newer version.
//! Each format then maps [`Shape`] into its own error enum and goes on to
//! its field-by-field checks.

use serde_json::Value;

/// How a file failed the first checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// No content (or only whitespace).
    Empty,
    /// The JSON ends early: the file was cut short.
    Truncated,
    /// Not JSON, or another `format`, or no `format`/`version` field.
    WrongFormat(String),
    /// A `version` other than the one this build reads.
    UnsupportedVersion(u64),
}

/// Parses `bytes` as a JSON document with `"format": format` and
/// `"version": version` at the top level.
pub fn parse_versioned(bytes: &[u8], format: &str, version: u32) -> Result<Value, Shape> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Shape::Empty);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_eof() {
            Shape::Truncated
        } else {
            Shape::WrongFormat(format!("not valid JSON: {e}"))
        }
    })?;
    match value.get("format").and_then(Value::as_str) {
        Some(f) if f == format => {}
        Some(other) => {
            return Err(Shape::WrongFormat(format!(
                "format is `{}`",
                other.chars().take(40).collect::<String>()
            )));
        }
        None => return Err(Shape::WrongFormat("no `format` field".into())),
    }
    match value.get("version").and_then(Value::as_u64) {
        Some(v) if v == u64::from(version) => Ok(value),
        Some(v) => Err(Shape::UnsupportedVersion(v)),
        None => Err(Shape::WrongFormat("no `version` field".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_damage_is_named() {
        let ok = br#"{"format":"x","version":1,"a":2}"#;
        assert_eq!(parse_versioned(ok, "x", 1).unwrap()["a"], 2);
        assert_eq!(parse_versioned(b" \n", "x", 1), Err(Shape::Empty));
        assert_eq!(parse_versioned(&ok[..10], "x", 1), Err(Shape::Truncated));
        assert!(matches!(
            parse_versioned(b"AGE-SECRET", "x", 1),
            Err(Shape::WrongFormat(_))
        ));
        assert!(matches!(
            parse_versioned(ok, "y", 1),
            Err(Shape::WrongFormat(_))
        ));
        assert!(matches!(
            parse_versioned(br#"{"format":"x"}"#, "x", 1),
            Err(Shape::WrongFormat(_))
        ));
        assert_eq!(
            parse_versioned(ok, "x", 0),
            Err(Shape::UnsupportedVersion(1))
        );
    }
}
