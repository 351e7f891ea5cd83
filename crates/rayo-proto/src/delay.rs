//! XEP-0203 delay stamps for events: XEP-0327 §5.3 says servers SHOULD timestamp every event
//! so clients can rely on them for billing.

use std::time::{SystemTime, UNIX_EPOCH};

use jid::Jid;
use xmpp_parsers::date::DateTime;
use xmpp_parsers::delay::Delay;

/// The `<delay/>` stamp for an event emitted at `at` by `from`, in UTC with millisecond
/// precision (XEP-0082 DateTime profile).
pub fn stamp(at: SystemTime, from: Option<Jid>) -> Delay {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let millis = i64::try_from(since.as_millis()).unwrap_or(i64::MAX);
    let utc = chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default();
    Delay {
        from,
        stamp: DateTime(utc.fixed_offset()),
        data: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn stamps_in_utc() {
        let at = UNIX_EPOCH + Duration::from_millis(1_031_699_305_123);
        let d = stamp(at, None);
        let e = minidom::Element::from(d);
        assert_eq!(e.attr("stamp"), Some("2002-09-10T23:08:25.123+00:00"));
    }
}
