//! `urn:xmpp:rayo:ext:1`: types generated from `xsd/rayo-ext.xsd` by rayo-codegen. Do not edit: change the schema and run `cargo run -p rayo-codegen`.
//!
//! The protocol documented by this schema is defined at <http://rayo.org/xep>

use xso::{AsXml, FromXml};

/// The `urn:xmpp:rayo:ext:1` namespace.
pub const NS: &str = "urn:xmpp:rayo:ext:1";

/// Instructs a component to come to an end before it completes naturally.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "stop", on_unknown_attribute = Fail, on_unknown_child = Fail)]
pub struct Stop;

/// Indicates that the component has come to an end and no further processing will occurr. Gives
/// the reason for the termination.
#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]
#[xml(namespace = NS, name = "complete", on_unknown_attribute = Fail, on_unknown_child = Fail, deserialize_callback = Complete::check_children)]
pub struct Complete {
    /// The child elements, of any namespace other than this one, in document order.
    #[xml(element(n = ..))]
    pub children: Vec<minidom::Element>,
}

impl Complete {
    /// Checks the wildcard children against the schema: at least 1, each in a namespace other than this one.
    fn check_children(this: &mut Self) -> Result<(), xso::error::Error> {
        if this.children.is_empty() {
            return Err(xso::error::Error::Other("too few child elements"));
        }
        if this
            .children
            .iter()
            .any(|c| c.ns() == NS || c.ns().is_empty())
        {
            return Err(xso::error::Error::Other(
                "a child element must be of another namespace",
            ));
        }
        Ok(())
    }
}
