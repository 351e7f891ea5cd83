//! Value types of the schema that need more than a Rust primitive.

use std::borrow::Cow;

/// `fractionDecimalType`: a decimal between 0 and 1 inclusive (input sensitivity and
/// confidence).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Default)]
pub struct Fraction(f64);

impl Fraction {
    /// The fraction `v`, or `None` unless `0 <= v <= 1`.
    pub fn new(v: f64) -> Option<Self> {
        (0.0..=1.0).contains(&v).then_some(Self(v))
    }

    /// `v` limited to `0..=1` (NaN becomes 0).
    pub const fn clamped(v: f64) -> Self {
        if v >= 1.0 {
            Self(1.0)
        } else if v >= 0.0 {
            Self(v)
        } else {
            Self(0.0)
        }
    }

    /// The value.
    pub const fn get(self) -> f64 {
        self.0
    }
}

impl std::fmt::Display for Fraction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl xso::FromXmlText for Fraction {
    fn from_xml_text(s: String) -> Result<Self, xso::error::Error> {
        let t = s.trim();
        // xs:decimal: digits with an optional sign and point; no exponent, no NaN/INF.
        let lexical = !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'+' || b == b'-');
        let v: f64 = t
            .parse()
            .ok()
            .filter(|_| lexical)
            .ok_or(xso::error::Error::Other("not a decimal"))?;
        Self::new(v).ok_or(xso::error::Error::Other(
            "a fraction must be between 0 and 1",
        ))
    }
}

impl xso::AsXmlText for Fraction {
    fn as_xml_text(&self) -> Result<Cow<'_, str>, xso::error::Error> {
        Ok(Cow::Owned(self.0.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xso::FromXmlText;

    #[test]
    fn fraction() {
        assert_eq!(
            Fraction::from_xml_text("0.5".into()).ok(),
            Fraction::new(0.5)
        );
        assert!(Fraction::from_xml_text("1.5".into()).is_err());
        assert!(Fraction::from_xml_text("NaN".into()).is_err());
        assert!(Fraction::from_xml_text("1e-1".into()).is_err());
        assert_eq!(Fraction::clamped(2.0).get(), 1.0);
    }
}
