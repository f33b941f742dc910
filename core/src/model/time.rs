//! Timestamps: RFC 3339 UTC with microseconds (`2026-11-21T06:56:01.123456Z`),
//! fixed width so byte order equals time order.

/// The current time, formatted.
pub fn now() -> String {
    format!("{:.6}", jiff::Timestamp::now())
}

#[cfg(test)]
mod tests {
    #[test]
    fn fixed_width_utc() {
        let t = super::now();
        assert_eq!(t.len(), 27, "{t}");
        assert!(t.ends_with('Z'));
    }
}
