//! Text codecs for the schema's millisecond types, used by the generated attributes.

use std::borrow::Cow;
use std::time::Duration;

use xso::error::Error;
use xso::text::TextCodec;

/// `durationType`: a non-negative number of milliseconds, as [`Duration`].
pub struct Millis;

/// `timeoutType`: milliseconds, or `-1` for "disabled", as `Option<Duration>` (`None` = `-1`).
///
/// `None` is not written out, since `-1` is every timeout's schema default.
pub struct Timeout;

/// Element text kept byte for byte; an empty body writes no text node at all, so that
/// `<document url='…'/>` serialises as it was read.
pub struct Body;

impl TextCodec<String> for Body {
    fn decode(&self, s: String) -> Result<String, Error> {
        Ok(s)
    }

    fn encode<'x>(&self, value: &'x String) -> Result<Option<Cow<'x, str>>, Error> {
        Ok((!value.is_empty()).then_some(Cow::Borrowed(value.as_str())))
    }
}

/// `xs:boolean`, `xs:long` and `xs:nonNegativeInteger` attributes: white space around the
/// value is collapsed away, as XML Schema does for these types.
pub struct Token;

macro_rules! token {
    ($($t:ty),*) => {$(
        impl TextCodec<$t> for Token {
            fn decode(&self, s: String) -> Result<$t, Error> {
                <$t as xso::FromXmlText>::from_xml_text(s.trim().to_owned())
            }

            fn encode<'x>(&self, value: &'x $t) -> Result<Option<Cow<'x, str>>, Error> {
                Ok(Some(Cow::Owned(value.to_string())))
            }
        }

        impl TextCodec<Option<$t>> for Token {
            fn decode(&self, s: String) -> Result<Option<$t>, Error> {
                TextCodec::<$t>::decode(self, s).map(Some)
            }

            fn encode<'x>(&self, value: &'x Option<$t>) -> Result<Option<Cow<'x, str>>, Error> {
                Ok(value.map(|v| Cow::Owned(v.to_string())))
            }
        }
    )*};
}

token!(bool, i64, u64);

fn parse_millis(s: &str) -> Result<Duration, Error> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Other(
            "a duration must be a non-negative integer in milliseconds",
        ));
    }
    s.parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| Error::Other("duration out of range"))
}

fn write_millis(d: &Duration) -> Cow<'static, str> {
    Cow::Owned(d.as_millis().to_string())
}

impl TextCodec<Duration> for Millis {
    fn decode(&self, s: String) -> Result<Duration, Error> {
        parse_millis(&s)
    }

    fn encode<'x>(&self, value: &'x Duration) -> Result<Option<Cow<'x, str>>, Error> {
        Ok(Some(write_millis(value)))
    }
}

impl TextCodec<Option<Duration>> for Millis {
    fn decode(&self, s: String) -> Result<Option<Duration>, Error> {
        parse_millis(&s).map(Some)
    }

    fn encode<'x>(&self, value: &'x Option<Duration>) -> Result<Option<Cow<'x, str>>, Error> {
        Ok(value.as_ref().map(write_millis))
    }
}

impl TextCodec<Option<Duration>> for Timeout {
    fn decode(&self, s: String) -> Result<Option<Duration>, Error> {
        if s.trim() == "-1" {
            Ok(None)
        } else {
            parse_millis(&s).map(Some)
        }
    }

    fn encode<'x>(&self, value: &'x Option<Duration>) -> Result<Option<Cow<'x, str>>, Error> {
        Ok(value.as_ref().map(write_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis() {
        assert_eq!(
            Millis.decode("20000".into()).ok(),
            Some(Duration::from_secs(20))
        );
        assert!(TextCodec::<Duration>::decode(&Millis, "-5".into()).is_err());
        assert!(TextCodec::<Duration>::decode(&Millis, "foo".into()).is_err());
        assert!(TextCodec::<Duration>::decode(&Millis, "".into()).is_err());
        let d = Duration::from_millis(1500);
        assert_eq!(Millis.encode(&d).ok().flatten().as_deref(), Some("1500"));
    }

    #[test]
    fn tokens_are_trimmed() {
        assert_eq!(
            TextCodec::<bool>::decode(&Token, " true ".into()).ok(),
            Some(true)
        );
        assert_eq!(TextCodec::<u64>::decode(&Token, " 2 ".into()).ok(), Some(2));
        assert!(TextCodec::<u64>::decode(&Token, "-2".into()).is_err());
        assert_eq!(Body.encode(&String::new()).ok(), Some(None));
    }

    #[test]
    fn timeout() {
        assert_eq!(Timeout.decode("-1".into()).ok(), Some(None));
        assert_eq!(
            Timeout.decode("5000".into()).ok(),
            Some(Some(Duration::from_secs(5)))
        );
        assert!(Timeout.decode("-2".into()).is_err());
        assert_eq!(Timeout.encode(&None).ok(), Some(None));
    }
}
