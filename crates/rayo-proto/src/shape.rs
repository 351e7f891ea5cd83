//! XML of extreme shapes — nested far deeper, or with far more siblings, than any bound —
//! built from a few bytes. Random bytes almost never reach such shapes, so the fuzz targets
//! of every parser of peer XML (XMPP streams, SSML, SRGS, NLSML) build them with [`Shape`]
//! and check that each parser refuses or reads them without overflowing its stack.

/// A shape: `depth` nested elements holding `width` empty siblings and some text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// How many elements nest, one inside the other.
    pub depth: usize,
    /// How many empty elements sit side by side at the bottom.
    pub width: usize,
    /// The name of the nested elements (a valid XML name).
    pub name: &'static str,
    /// The text at the bottom (only XML-safe characters).
    pub text: String,
}

/// The most elements of either kind a shape has.
pub const MAX_ELEMENTS: usize = 16_384;

/// Element names the parsers know (and one none does).
const NAMES: [&str; 8] = [
    "a",
    "item",
    "s",
    "one-of",
    "p",
    "interpretation",
    "prosody",
    "x",
];

impl Shape {
    /// Reads a shape from `data`: two bytes of depth, two of width, one choosing the name,
    /// the rest as text (kept to digits, letters and spaces). `None` for under 5 bytes.
    pub fn from_bytes(data: &[u8]) -> Option<Shape> {
        let [d0, d1, w0, w1, n, rest @ ..] = data else {
            return None;
        };
        let depth = usize::from(u16::from_le_bytes([*d0, *d1])) % (MAX_ELEMENTS + 1);
        let width = usize::from(u16::from_le_bytes([*w0, *w1])) % (MAX_ELEMENTS + 1);
        let name = NAMES[usize::from(*n) % NAMES.len()];
        let text = rest
            .iter()
            .take(256)
            .map(|b| match b % 40 {
                k @ 0..=9 => char::from(b'0' + k),
                k @ 10..=35 => char::from(b'a' + k - 10),
                _ => ' ',
            })
            .collect();
        Some(Shape {
            depth,
            width,
            name,
            text,
        })
    }

    /// The shape's elements, as the content of another element.
    pub fn content(&self) -> String {
        let open = format!("<{}>", self.name);
        let close = format!("</{}>", self.name);
        let mut s = String::with_capacity((open.len() + close.len()) * self.depth + 6 * self.width);
        for _ in 0..self.depth {
            s.push_str(&open);
        }
        s.push_str(&self.text);
        for _ in 0..self.width {
            s.push_str("<w/>");
        }
        for _ in 0..self.depth {
            s.push_str(&close);
        }
        s
    }

    /// The shape inside `<root attrs>…</root>`.
    pub fn inside(&self, root: &str, attrs: &str) -> String {
        format!("<{root}{attrs}>{}</{root}>", self.content())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn shapes_are_read_from_bytes_and_bounded() {
        assert_eq!(Shape::from_bytes(&[1, 2, 3, 4]), None);
        let s = Shape::from_bytes(&[3, 0, 2, 0, 0, 1, 39]).unwrap();
        assert_eq!(
            s.inside("r", " k='v'"),
            "<r k='v'><a><a><a>1 <w/><w/></a></a></a></r>"
        );
        let big = Shape::from_bytes(&[0xff, 0xff, 0xff, 0xff, 7]).unwrap();
        assert!(big.depth <= MAX_ELEMENTS && big.width <= MAX_ELEMENTS);
    }
}
