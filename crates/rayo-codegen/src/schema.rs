//! The subset of XML Schema 1.0 the Rayo schemas use, read into a small model.
//!
//! Only what the corrected schemas in `xsd/` contain is understood; anything else is an
//! [`Error::Unsupported`], so that a schema change the generator cannot express fails loudly
//! instead of producing silently wrong types.

use std::collections::BTreeMap;

use minidom::Element;

use crate::Error;

/// The XML Schema namespace.
pub const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// A qualified name: namespace and local name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct QName {
    /// Namespace URI.
    pub ns: String,
    /// Local name.
    pub name: String,
}

/// One schema document: the declarations of one target namespace.
#[derive(Debug)]
pub struct Schema {
    /// File name the schema was read from.
    pub file: String,
    /// Target namespace.
    pub ns: String,
    /// Rust module the namespace is generated into.
    pub module: String,
    /// Documentation of the schema itself.
    pub doc: Option<String>,
    /// Top-level element declarations, in document order.
    pub elements: Vec<ElementDecl>,
    /// Named complex types.
    pub complex_types: BTreeMap<String, ComplexType>,
    /// Named simple types.
    pub simple_types: BTreeMap<String, SimpleType>,
    /// Named model groups.
    pub groups: BTreeMap<String, Group>,
}

/// An element declaration (global or local), or a reference to a global one.
#[derive(Debug, Clone)]
pub struct ElementDecl {
    /// Local name (for a reference: the referenced element's name).
    pub name: String,
    /// Namespace of the element.
    pub ns: String,
    /// Set when this particle is `<element ref=…/>`.
    pub reference: Option<QName>,
    /// The element's type.
    pub ty: ElementType,
    /// Documentation from the annotation.
    pub doc: Option<String>,
    /// minOccurs.
    pub min: u32,
    /// maxOccurs (`None` = unbounded).
    pub max: Option<u32>,
}

/// What an element contains.
#[derive(Debug, Clone)]
pub enum ElementType {
    /// A named type (complex or simple).
    Named(QName),
    /// An anonymous complex type.
    Anonymous(Box<ComplexType>),
    /// Resolved through the reference (see [`ElementDecl::reference`]).
    Reference,
}

/// A complex type.
#[derive(Debug, Clone, Default)]
pub struct ComplexType {
    /// Documentation from the annotation.
    pub doc: Option<String>,
    /// Base type of a `complexContent` extension.
    pub extends: Option<QName>,
    /// Base type of a `simpleContent` extension (the element carries text).
    pub text: Option<QName>,
    /// Attributes, in document order.
    pub attributes: Vec<Attribute>,
    /// Content particles, in document order.
    pub particles: Vec<Particle>,
}

/// A particle of a content model.
#[derive(Debug, Clone)]
pub enum Particle {
    /// An element.
    Element(ElementDecl),
    /// A reference to a named model group holding a choice.
    Group {
        /// The group.
        group: QName,
        /// minOccurs.
        min: u32,
    },
    /// A wildcard.
    Any {
        /// minOccurs.
        min: u32,
        /// maxOccurs (`None` = unbounded).
        max: Option<u32>,
    },
}

/// An attribute declaration.
#[derive(Debug, Clone)]
pub struct Attribute {
    /// Attribute name.
    pub name: String,
    /// Its type.
    pub ty: AttrType,
    /// `use="required"`.
    pub required: bool,
    /// Schema default value, lexical form.
    pub default: Option<String>,
    /// Documentation from the annotation.
    pub doc: Option<String>,
}

/// The type of an attribute.
#[derive(Debug, Clone)]
pub enum AttrType {
    /// A named simple type.
    Named(QName),
    /// An anonymous simple type.
    Anonymous(SimpleType),
}

/// A simple type: a restriction of a base type, possibly an enumeration.
#[derive(Debug, Clone)]
pub struct SimpleType {
    /// Documentation.
    pub doc: Option<String>,
    /// The restricted base type.
    pub base: QName,
    /// Enumerated values with their documentation (empty if not an enumeration).
    pub values: Vec<(String, Option<String>)>,
}

/// A named model group holding one choice of elements.
#[derive(Debug, Clone)]
pub struct Group {
    /// Documentation.
    pub doc: Option<String>,
    /// The alternatives.
    pub choices: Vec<ElementDecl>,
}

/// Reads a schema document.
pub fn parse(file: &str, text: &str) -> Result<Schema, Error> {
    let root: Element = strip_comments(text)
        .parse()
        .map_err(|e: minidom::Error| Error::Xml {
            file: file.to_owned(),
            message: e.to_string(),
        })?;
    let cx = Cx { file, root: &root };
    if !root.is("schema", XS) {
        return Err(cx.unsupported("root is not xs:schema"));
    }
    let ns = cx.attr(&root, "targetNamespace")?.to_owned();
    let module = module_name(file);
    let mut schema = Schema {
        file: file.to_owned(),
        ns,
        module,
        doc: doc(&root),
        elements: Vec::new(),
        complex_types: BTreeMap::new(),
        simple_types: BTreeMap::new(),
        groups: BTreeMap::new(),
    };
    for child in root.children().filter(|c| c.ns() == XS) {
        match child.name() {
            "annotation" | "import" => {}
            "element" => {
                let e = cx.element(child, &schema.ns)?;
                schema.elements.push(e);
            }
            "complexType" => {
                let name = cx.attr(child, "name")?.to_owned();
                let ct = cx.complex_type(child, &schema.ns)?;
                schema.complex_types.insert(name, ct);
            }
            "simpleType" => {
                let name = cx.attr(child, "name")?.to_owned();
                let st = cx.simple_type(child)?;
                schema.simple_types.insert(name, st);
            }
            "group" => {
                let name = cx.attr(child, "name")?.to_owned();
                let g = cx.group(child, &schema.ns)?;
                schema.groups.insert(name, g);
            }
            other => return Err(cx.unsupported(&format!("top-level xs:{other}"))),
        }
    }
    Ok(schema)
}

/// Removes `<!-- … -->` comments, which minidom refuses (XML comments cannot contain `--`,
/// so the first `-->` ends each one).
fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find("-->") {
            Some(end) => &rest[start + end + 3..],
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// The Rust module for a schema file: `rayo-output-complete.xsd` → `output_complete`.
pub fn module_name(file: &str) -> String {
    let stem = file.trim_end_matches(".xsd");
    let stem = stem.strip_prefix("rayo-").unwrap_or(stem);
    stem.replace('-', "_")
}

/// Collapses the whitespace of an annotation's documentation.
fn doc(el: &Element) -> Option<String> {
    let ann = el.get_child("annotation", XS)?;
    let d = ann.get_child("documentation", XS)?;
    let text = d.text().split_whitespace().collect::<Vec<_>>().join(" ");
    (!text.is_empty()).then_some(text)
}

struct Cx<'a> {
    file: &'a str,
    root: &'a Element,
}

impl Cx<'_> {
    fn unsupported(&self, what: &str) -> Error {
        Error::Unsupported {
            file: self.file.to_owned(),
            what: what.to_owned(),
        }
    }

    fn attr<'e>(&self, el: &'e Element, name: &'e str) -> Result<&'e str, Error> {
        el.attr(name)
            .ok_or_else(|| self.unsupported(&format!("xs:{} without {name}", el.name())))
    }

    /// Resolves a prefixed QName using the prefixes declared on the schema root.
    fn qname(&self, value: &str) -> Result<QName, Error> {
        let (prefix, name) = match value.split_once(':') {
            Some((p, n)) => (Some(p), n),
            None => (None, value),
        };
        let ns = self
            .root
            .prefixes
            .declared_prefixes()
            .iter()
            .find(|(p, _)| p.as_deref() == prefix)
            .map(|(_, ns)| ns.clone())
            .ok_or_else(|| self.unsupported(&format!("undeclared prefix in {value}")))?;
        Ok(QName {
            ns,
            name: name.to_owned(),
        })
    }

    fn occurs(&self, el: &Element) -> Result<(u32, Option<u32>), Error> {
        let min = match el.attr("minOccurs") {
            None => 1,
            Some(v) => v.parse().map_err(|_| self.unsupported("minOccurs"))?,
        };
        let max = match el.attr("maxOccurs") {
            None => Some(1),
            Some("unbounded") => None,
            Some(v) => Some(v.parse().map_err(|_| self.unsupported("maxOccurs"))?),
        };
        Ok((min, max))
    }

    fn element(&self, el: &Element, ns: &str) -> Result<ElementDecl, Error> {
        let (min, max) = self.occurs(el)?;
        if let Some(r) = el.attr("ref") {
            let q = self.qname(r)?;
            return Ok(ElementDecl {
                name: q.name.clone(),
                ns: q.ns.clone(),
                reference: Some(q),
                ty: ElementType::Reference,
                doc: doc(el),
                min,
                max,
            });
        }
        let name = self.attr(el, "name")?.to_owned();
        let ty = match (el.attr("type"), el.get_child("complexType", XS)) {
            (Some(t), None) => ElementType::Named(self.qname(t)?),
            (None, Some(ct)) => ElementType::Anonymous(Box::new(self.complex_type(ct, ns)?)),
            _ => return Err(self.unsupported(&format!("element {name} without exactly one type"))),
        };
        Ok(ElementDecl {
            name,
            ns: ns.to_owned(),
            reference: None,
            ty,
            doc: doc(el),
            min,
            max,
        })
    }

    fn complex_type(&self, el: &Element, ns: &str) -> Result<ComplexType, Error> {
        let mut ct = ComplexType {
            doc: doc(el),
            ..ComplexType::default()
        };
        if el.attr("mixed") == Some("true") {
            return Err(self.unsupported("mixed content"));
        }
        self.content(el, ns, &mut ct)?;
        Ok(ct)
    }

    fn content(&self, el: &Element, ns: &str, ct: &mut ComplexType) -> Result<(), Error> {
        for child in el.children().filter(|c| c.ns() == XS) {
            match child.name() {
                "annotation" => {}
                "attribute" => ct.attributes.push(self.attribute(child)?),
                "sequence" => self.sequence(child, ns, ct)?,
                "complexContent" | "simpleContent" => {
                    let ext = child
                        .get_child("extension", XS)
                        .ok_or_else(|| self.unsupported("content without xs:extension"))?;
                    let base = self.qname(self.attr(ext, "base")?)?;
                    if child.name() == "simpleContent" {
                        ct.text = Some(base);
                    } else {
                        ct.extends = Some(base);
                    }
                    self.content(ext, ns, ct)?;
                }
                other => return Err(self.unsupported(&format!("xs:{other} in complexType"))),
            }
        }
        Ok(())
    }

    fn sequence(&self, el: &Element, ns: &str, ct: &mut ComplexType) -> Result<(), Error> {
        for child in el.children().filter(|c| c.ns() == XS) {
            match child.name() {
                "annotation" => {}
                "element" => ct
                    .particles
                    .push(Particle::Element(self.element(child, ns)?)),
                "group" => {
                    let (min, _) = self.occurs(child)?;
                    let group = self.qname(self.attr(child, "ref")?)?;
                    ct.particles.push(Particle::Group { group, min });
                }
                "any" => {
                    let (min, max) = self.occurs(child)?;
                    ct.particles.push(Particle::Any { min, max });
                }
                other => return Err(self.unsupported(&format!("xs:{other} in sequence"))),
            }
        }
        Ok(())
    }

    fn attribute(&self, el: &Element) -> Result<Attribute, Error> {
        let name = self.attr(el, "name")?.to_owned();
        let ty = match (el.attr("type"), el.get_child("simpleType", XS)) {
            (Some(t), None) => AttrType::Named(self.qname(t)?),
            (None, Some(st)) => AttrType::Anonymous(self.simple_type(st)?),
            _ => {
                return Err(self.unsupported(&format!("attribute {name} without exactly one type")))
            }
        };
        Ok(Attribute {
            name,
            ty,
            required: el.attr("use") == Some("required"),
            default: el.attr("default").map(str::to_owned),
            doc: doc(el),
        })
    }

    fn simple_type(&self, el: &Element) -> Result<SimpleType, Error> {
        let r = el
            .get_child("restriction", XS)
            .ok_or_else(|| self.unsupported("simpleType without restriction"))?;
        let base = self.qname(self.attr(r, "base")?)?;
        let mut values = Vec::new();
        for e in r.children().filter(|c| c.is("enumeration", XS)) {
            values.push((self.attr(e, "value")?.to_owned(), doc(e)));
        }
        Ok(SimpleType {
            doc: doc(el),
            base,
            values,
        })
    }

    fn group(&self, el: &Element, ns: &str) -> Result<Group, Error> {
        let choice = el
            .get_child("choice", XS)
            .ok_or_else(|| self.unsupported("group without choice"))?;
        let mut choices = Vec::new();
        for e in choice.children().filter(|c| c.is("element", XS)) {
            choices.push(self.element(e, ns)?);
        }
        Ok(Group {
            doc: doc(el),
            choices,
        })
    }
}
