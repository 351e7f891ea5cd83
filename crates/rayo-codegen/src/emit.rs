//! Rust source for one namespace, from the schema model.
//!
//! The mapping:
//! - a global element becomes a struct deriving `xso::FromXml`/`AsXml` (a unit struct when
//!   its type is `empty`), a local element a struct of the same name;
//! - a named model group holding a choice becomes a name-switched enum (`EndReason`);
//! - an attribute with an enumerated type becomes an enum whose `Default` is the schema's
//!   default; `durationType` becomes [`core::time::Duration`], `timeoutType` an
//!   `Option<Duration>` where `None` is the schema's `-1` (disabled);
//! - an optional attribute is an `Option`; one with a schema default also gets an accessor
//!   method of the same name returning the value or the default;
//! - a repeated child becomes a `Vec` (document order is kept), an optional one an `Option`;
//! - `simpleContent` text becomes a `body: String` kept byte for byte;
//! - wildcards become `children: Vec<minidom::Element>`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::names::{doc_lines, pascal, plural, snake};
use crate::schema::{
    AttrType, Attribute, ComplexType, ElementDecl, ElementType, Particle, QName, Schema,
    SimpleType, XS,
};
use crate::Error;

/// The namespace of the core Rayo schema, which defines the shared simple types.
const CORE: &str = "urn:xmpp:rayo:1";

/// XEP-0327 §10: "A server MUST NOT silently ignore any instructions": attributes and
/// children the schema does not declare are errors, not discarded.
const STRICT: &str = "on_unknown_attribute = Fail, on_unknown_child = Fail";

/// All schemas, for resolving references across namespaces.
pub struct Schemas<'a>(pub &'a [Schema]);

impl Schemas<'_> {
    fn schema(&self, ns: &str) -> Result<&Schema, Error> {
        self.0
            .iter()
            .find(|s| s.ns == ns)
            .ok_or_else(|| Error::Unresolved(format!("namespace {ns}")))
    }

    fn global_element(&self, q: &QName) -> Result<&ElementDecl, Error> {
        self.schema(&q.ns)?
            .elements
            .iter()
            .find(|e| e.name == q.name)
            .ok_or_else(|| Error::Unresolved(format!("element {}:{}", q.ns, q.name)))
    }

    fn complex_type(&self, q: &QName) -> Result<Option<&ComplexType>, Error> {
        if q.ns == XS {
            return Ok(None);
        }
        Ok(self.schema(&q.ns)?.complex_types.get(&q.name))
    }

    /// The complex type of an element with its `complexContent` base merged in, or `None`
    /// for an element of simple type.
    fn content_of(&self, e: &ElementDecl) -> Result<Option<ComplexType>, Error> {
        let ct = match &e.ty {
            ElementType::Anonymous(ct) => (**ct).clone(),
            ElementType::Named(q) => match self.complex_type(q)? {
                Some(ct) => ct.clone(),
                None => return Ok(None),
            },
            ElementType::Reference => {
                let q = e
                    .reference
                    .clone()
                    .ok_or_else(|| Error::Unresolved(e.name.clone()))?;
                return self.content_of(self.global_element(&q)?);
            }
        };
        let Some(base) = &ct.extends else {
            return Ok(Some(ct));
        };
        let base_ct = self
            .complex_type(base)?
            .ok_or_else(|| Error::Unresolved(format!("base type {}", base.name)))?;
        let mut merged = base_ct.clone();
        merged.doc = ct.doc.clone().or(merged.doc);
        merged.attributes.extend(ct.attributes.iter().cloned());
        merged.particles.extend(ct.particles.iter().cloned());
        merged.text = ct.text.clone().or(merged.text);
        Ok(Some(merged))
    }
}

/// What an attribute becomes in Rust.
struct AttrRust {
    /// Type of the value (without the `Option` of an optional attribute).
    ty: String,
    /// Codec expression, if the value type needs one.
    codec: Option<&'static str>,
    /// `timeoutType`: the field is an `Option<Duration>` whose `None` is the default.
    timeout: bool,
    /// Name of an enum to generate for an enumerated type.
    new_enum: Option<(String, SimpleType)>,
}

/// Generates the Rust module for `schema`.
pub fn module(all: &Schemas<'_>, schema: &Schema) -> Result<String, Error> {
    let mut g = Gen {
        all,
        schema,
        out: String::new(),
        emitted: BTreeSet::new(),
        pending: Vec::new(),
    };
    g.header();
    for e in &schema.elements {
        g.element_struct(e, true)?;
        g.flush()?;
    }
    Ok(link_urls(&g.out))
}

/// Items still to emit after the current one.
enum Pending {
    Local(ElementDecl),
    Group(QName),
    Enum(String, String, SimpleType),
}

struct Gen<'a> {
    all: &'a Schemas<'a>,
    schema: &'a Schema,
    out: String,
    emitted: BTreeSet<String>,
    pending: Vec<Pending>,
}

/// Puts the bare `http(s)://` URLs of doc comments (copied from the schemas) between angle
/// brackets, so rustdoc links them instead of warning.
fn link_urls(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    for line in code.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if !(trimmed.starts_with("///") || trimmed.starts_with("//!")) {
            out.push_str(line);
            continue;
        }
        let mut rest = line;
        while let Some(at) = ["http://", "https://"]
            .iter()
            .filter_map(|scheme| rest.find(scheme))
            .min()
        {
            let (before, url_on) = rest.split_at(at);
            let end = url_on
                .find(|c: char| c.is_whitespace() || matches!(c, ')' | '>' | '`'))
                .unwrap_or(url_on.len());
            let url = url_on[..end].trim_end_matches(['.', ',', ';', ':']);
            out.push_str(before);
            if before.ends_with(['<', '`', '(']) {
                out.push_str(url);
            } else {
                out.push('<');
                out.push_str(url);
                out.push('>');
            }
            rest = &url_on[url.len()..];
        }
        out.push_str(rest);
    }
    out
}

impl Gen<'_> {
    fn header(&mut self) {
        let s = self.schema;
        let _ = writeln!(
            self.out,
            "//! `{}`: types generated from `xsd/{}` by rayo-codegen. Do not edit: change the \
             schema and run `cargo run -p rayo-codegen`.",
            s.ns, s.file
        );
        if let Some(d) = &s.doc {
            let _ = write!(self.out, "//!\n//! {d}\n");
        }
        self.out.push_str("\nuse xso::{AsXml, FromXml};\n\n");
        let _ = writeln!(self.out, "/// The `{}` namespace.", s.ns);
        let _ = writeln!(self.out, "pub const NS: &str = \"{}\";\n", s.ns);
    }

    fn flush(&mut self) -> Result<(), Error> {
        while !self.pending.is_empty() {
            let p = self.pending.remove(0);
            match p {
                Pending::Local(e) => self.element_struct(&e, false)?,
                Pending::Group(q) => self.group_enum(&q)?,
                Pending::Enum(name, attr, st) => self.attr_enum(&name, &attr, &st),
            }
        }
        Ok(())
    }

    fn claim(&mut self, name: &str) -> bool {
        self.emitted.insert(name.to_owned())
    }

    /// The Rust path of the struct for an element particle, queueing local structs.
    fn element_type_path(&mut self, e: &ElementDecl) -> String {
        match &e.reference {
            Some(q) => {
                let name = pascal(&q.name);
                if q.ns == self.schema.ns {
                    name
                } else {
                    let module = self
                        .all
                        .0
                        .iter()
                        .find(|s| s.ns == q.ns)
                        .map(|s| s.module.clone())
                        .unwrap_or_default();
                    format!("super::{module}::{name}")
                }
            }
            None => {
                let name = pascal(&e.name);
                if !self.emitted.contains(&name) {
                    self.pending.push(Pending::Local(e.clone()));
                }
                name
            }
        }
    }

    fn element_struct(&mut self, e: &ElementDecl, global: bool) -> Result<(), Error> {
        let name = pascal(&e.name);
        if !self.claim(&name) {
            return Ok(());
        }
        let content = self.all.content_of(e)?;
        // A local element's own annotation describes its use in one parent; prefer its type's.
        let type_doc = content.as_ref().and_then(|c| c.doc.clone());
        let doc = if global {
            e.doc.clone().or(type_doc)
        } else {
            type_doc.or(e.doc.clone())
        }
        .unwrap_or_else(|| format!("The `<{}/>` element.", e.name));
        self.out.push_str(&doc_lines(&doc, ""));
        if !global {
            self.out
                .push_str("///\n/// Declared locally inside other elements of this namespace.\n");
        }
        let Some(ct) = content else {
            return self.simple_element(e, &name);
        };
        let mut fields = String::new();
        let mut accessors = String::new();
        let mut all_defaultable = true;
        for a in &ct.attributes {
            let (f, acc, defaultable) = self.attribute_field(&name, a)?;
            fields.push_str(&f);
            accessors.push_str(&acc);
            all_defaultable &= defaultable;
        }
        let mut wildcard: Option<u32> = None;
        for p in &ct.particles {
            match p {
                Particle::Element(c) => {
                    let ty = self.element_type_path(c);
                    let field = snake(&c.name);
                    let (meta, fty, fname) = match (c.min, c.max) {
                        (_, Some(1)) if c.min == 0 => {
                            ("child(default)", format!("Option<{ty}>"), field)
                        }
                        (_, Some(1)) => {
                            all_defaultable = false;
                            ("child", ty.clone(), field)
                        }
                        _ => ("child(n = ..)", format!("Vec<{ty}>"), plural(&field)),
                    };
                    let fdoc = c.doc.clone().unwrap_or_else(|| match (c.min, c.max) {
                        (_, Some(1)) => format!("The `<{}/>` child.", c.name),
                        _ => format!("The `<{}/>` children, in document order.", c.name),
                    });
                    fields.push_str(&doc_lines(&fdoc, "    "));
                    let _ = writeln!(fields, "    #[xml({meta})]\n    pub {fname}: {fty},");
                }
                Particle::Group { group, min } => {
                    let ty = pascal(&group.name);
                    if !self.emitted.contains(&ty) {
                        self.pending.push(Pending::Group(group.clone()));
                    }
                    let gname = snake(&group.name);
                    let prefix = format!("{}_", snake(&e.name));
                    let fname = gname.strip_prefix(&prefix).unwrap_or(&gname).to_owned();
                    let gdoc = self
                        .all
                        .schema(&group.ns)?
                        .groups
                        .get(&group.name)
                        .and_then(|g| g.doc.clone())
                        .unwrap_or_else(|| format!("The {} element.", group.name));
                    fields.push_str(&doc_lines(&gdoc, "    "));
                    if *min == 0 {
                        let _ = writeln!(
                            fields,
                            "    ///\n    /// Optional in the schema: see the crate's validation \
                             for the rule that requires it.\n    #[xml(child(default))]\n    pub \
                             {fname}: Option<{ty}>,"
                        );
                    } else {
                        all_defaultable = false;
                        let _ = writeln!(fields, "    #[xml(child)]\n    pub {fname}: {ty},");
                    }
                }
                Particle::Any { min, .. } => wildcard = Some(wildcard.unwrap_or(0) + min),
            }
        }
        let mut callback = String::new();
        if let Some(min) = wildcard {
            // The schema's `##other` wildcards: at least `min` children, none in this
            // namespace or in none (xso's element field would take anything).
            callback = format!(", deserialize_callback = {name}::check_children");
            let too_few = if min == 1 {
                "this.children.is_empty()".to_owned()
            } else {
                format!("this.children.len() < {min}")
            };
            let _ = write!(
                accessors,
                "    /// Checks the wildcard children against the schema: at least {min}, each \
                 in a namespace other than this one.\n    fn check_children(this: &mut Self) -> \
                 Result<(), xso::error::Error> {{\n        if {too_few} {{\n            \
                 return Err(xso::error::Error::Other(\"too few child elements\"));\n        }}\n        \
                 if this.children.iter().any(|c| c.ns() == NS || c.ns().is_empty()) {{\n            \
                 return Err(xso::error::Error::Other(\"a child element must be of another \
                 namespace\"));\n        }}\n        Ok(())\n    }}\n"
            );
            fields.push_str(
                "    /// The child elements, of any namespace other than this one, in document \
                 order.\n    #[xml(element(n = ..))]\n    pub children: Vec<minidom::Element>,\n",
            );
        }
        if let Some(base) = &ct.text {
            if base.ns != XS || base.name != "string" {
                return Err(Error::Unsupported {
                    file: self.schema.file.clone(),
                    what: format!("text of type {}", base.name),
                });
            }
            fields.push_str(
                "    /// The body (a document given inline, usually as CDATA), kept byte for byte.\n    \
                 #[xml(text(codec = crate::codec::Body))]\n    pub body: String,\n",
            );
        }
        let derive_default = if all_defaultable { ", Default" } else { "" };
        let _ = writeln!(
            self.out,
            "#[derive(FromXml, AsXml, Debug, Clone, PartialEq{derive_default})]\n#[xml(namespace = \
             NS, name = \"{}\", {STRICT}{callback})]",
            e.name
        );
        if fields.is_empty() {
            let _ = writeln!(self.out, "pub struct {name};\n");
        } else {
            let _ = writeln!(self.out, "pub struct {name} {{\n{fields}}}\n");
        }
        if !accessors.is_empty() {
            let _ = writeln!(self.out, "impl {name} {{\n{accessors}}}\n");
        }
        Ok(())
    }

    /// An element of simple type: `empty` becomes a unit struct, `string` a text struct.
    fn simple_element(&mut self, e: &ElementDecl, name: &str) -> Result<(), Error> {
        let ElementType::Named(q) = &e.ty else {
            return Err(Error::Unresolved(e.name.clone()));
        };
        let _ = writeln!(
            self.out,
            "#[derive(FromXml, AsXml, Debug, Clone, PartialEq, Default)]\n#[xml(namespace = NS, \
             name = \"{}\", {STRICT})]",
            e.name
        );
        match (q.ns.as_str(), q.name.as_str()) {
            (CORE, "empty") => {
                let _ = writeln!(self.out, "pub struct {name};\n");
            }
            (XS, "string") => {
                let _ = writeln!(
                    self.out,
                    "pub struct {name} {{\n    /// The text content, kept byte for byte.\n    \
                     #[xml(text(codec = crate::codec::Body))]\n    pub text: String,\n}}\n"
                );
            }
            _ => {
                return Err(Error::Unsupported {
                    file: self.schema.file.clone(),
                    what: format!("element {} of simple type {}", e.name, q.name),
                })
            }
        }
        Ok(())
    }

    /// The Rust mapping of an attribute's type.
    fn attr_rust(&self, owner: &str, a: &Attribute) -> Result<AttrRust, Error> {
        let named = |q: &QName| -> Result<AttrRust, Error> {
            let plain = |ty: &str| AttrRust {
                ty: ty.to_owned(),
                codec: None,
                timeout: false,
                new_enum: None,
            };
            // XSD collapses white space around these values: the codec trims.
            let token = |ty: &str| AttrRust {
                ty: ty.to_owned(),
                codec: Some("crate::codec::Token"),
                timeout: false,
                new_enum: None,
            };
            Ok(match (q.ns.as_str(), q.name.as_str()) {
                (XS, "anyURI" | "string" | "token") => plain("String"),
                (XS, "boolean") => token("bool"),
                (XS, "long") => token("i64"),
                (XS, "nonNegativeInteger") => token("u64"),
                (CORE, "durationType") => AttrRust {
                    ty: "core::time::Duration".to_owned(),
                    codec: Some("crate::codec::Millis"),
                    timeout: false,
                    new_enum: None,
                },
                (CORE, "timeoutType") => AttrRust {
                    ty: "core::time::Duration".to_owned(),
                    codec: Some("crate::codec::Timeout"),
                    timeout: true,
                    new_enum: None,
                },
                (CORE, "fractionDecimalType") => plain("crate::types::Fraction"),
                _ => {
                    return Err(Error::Unsupported {
                        file: self.schema.file.clone(),
                        what: format!("attribute type {}", q.name),
                    })
                }
            })
        };
        match &a.ty {
            AttrType::Named(q) => named(q),
            AttrType::Anonymous(st) if st.values.is_empty() => named(&st.base),
            AttrType::Anonymous(st) => {
                let name = format!("{owner}{}", pascal(&a.name));
                Ok(AttrRust {
                    ty: name.clone(),
                    codec: None,
                    timeout: false,
                    new_enum: Some((name, st.clone())),
                })
            }
        }
    }

    /// The field for an attribute, its accessor (if it has a default), and whether the
    /// field's type has a meaningful `Default`.
    fn attribute_field(
        &mut self,
        owner: &str,
        a: &Attribute,
    ) -> Result<(String, String, bool), Error> {
        let r = self.attr_rust(owner, a)?;
        if let Some((name, st)) = &r.new_enum {
            if !self.emitted.contains(name) {
                let default = a.default.clone().unwrap_or_default();
                let mut st = st.clone();
                st.doc = st.doc.or_else(|| a.doc.clone());
                self.pending.push(Pending::Enum(name.clone(), default, st));
            }
        }
        let fname = snake(&a.name);
        let mut doc = a
            .doc
            .clone()
            .unwrap_or_else(|| format!("The `{}` attribute.", a.name));
        let codec = r
            .codec
            .map(|c| format!(", codec = {c}"))
            .unwrap_or_default();
        let mut out = String::new();
        if a.required {
            out.push_str(&doc_lines(&doc, "    "));
            let _ = writeln!(
                out,
                "    #[xml(attribute(name = \"{}\"{codec}))]\n    pub {fname}: {},",
                a.name, r.ty
            );
            return Ok((out, String::new(), r.ty == "String"));
        }
        if r.timeout {
            doc.push_str(" `None` when absent or `-1`: disabled, the schema's default.");
        } else if let Some(d) = &a.default {
            let _ = write!(
                doc,
                " Absent means the schema's default, `{d}`: see [`Self::{fname}()`]."
            );
        }
        out.push_str(&doc_lines(&doc, "    "));
        let _ = writeln!(
            out,
            "    #[xml(attribute(name = \"{}\", default{codec}))]\n    pub {fname}: Option<{}>,",
            a.name, r.ty
        );
        let mut acc = String::new();
        if let (Some(d), false) = (&a.default, r.timeout) {
            let (ret, body) = self.default_expr(&r, d, &fname)?;
            let _ = write!(
                acc,
                "    /// The `{}` attribute, or its schema default `{d}` when absent.\n    pub fn \
                 {fname}(&self) -> {ret} {{\n        {body}\n    }}\n",
                a.name
            );
        }
        Ok((out, acc, true))
    }

    /// Return type and body of the accessor for a defaulted attribute.
    fn default_expr(&self, r: &AttrRust, d: &str, field: &str) -> Result<(String, String), Error> {
        let bad = || Error::Unsupported {
            file: self.schema.file.clone(),
            what: format!("default {d:?} of {field}"),
        };
        if let Some((name, st)) = &r.new_enum {
            if !st.values.iter().any(|(v, _)| v == d) {
                return Err(bad());
            }
            return Ok((
                name.clone(),
                format!("self.{field}.unwrap_or({name}::{})", pascal(d)),
            ));
        }
        Ok(match r.ty.as_str() {
            "String" => (
                "&str".to_owned(),
                format!("self.{field}.as_deref().unwrap_or({d:?})"),
            ),
            "bool" => {
                let v: bool = d.parse().map_err(|_| bad())?;
                (r.ty.clone(), format!("self.{field}.unwrap_or({v})"))
            }
            "u64" | "i64" => {
                let v: i64 = d.parse().map_err(|_| bad())?;
                (r.ty.clone(), format!("self.{field}.unwrap_or({v})"))
            }
            "core::time::Duration" => {
                let ms: u64 = d.parse().map_err(|_| bad())?;
                (
                    r.ty.clone(),
                    format!("self.{field}.unwrap_or(core::time::Duration::from_millis({ms}))"),
                )
            }
            "crate::types::Fraction" => {
                let v: f64 = d.parse().map_err(|_| bad())?;
                (
                    r.ty.clone(),
                    format!("self.{field}.unwrap_or(crate::types::Fraction::clamped({v:?}))"),
                )
            }
            _ => return Err(bad()),
        })
    }

    fn attr_enum(&mut self, name: &str, default: &str, st: &SimpleType) {
        if !self.claim(name) {
            return;
        }
        let doc = st
            .doc
            .clone()
            .unwrap_or_else(|| format!("The values of the {name} attribute."));
        self.out.push_str(&doc_lines(&doc, ""));
        let derive_default = if default.is_empty() { "" } else { ", Default" };
        let _ = writeln!(
            self.out,
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash{derive_default})]\npub enum {name} {{"
        );
        let mut as_str = String::new();
        let mut from = String::new();
        for (v, vdoc) in &st.values {
            let variant = pascal(v);
            let vdoc = vdoc.clone().unwrap_or_else(|| format!("`{v}`."));
            self.out.push_str(&doc_lines(&vdoc, "    "));
            if v == default {
                self.out.push_str("    #[default]\n");
            }
            let _ = writeln!(self.out, "    {variant},");
            let _ = writeln!(as_str, "            Self::{variant} => \"{v}\",");
            let _ = writeln!(from, "            \"{v}\" => Ok(Self::{variant}),");
        }
        let _ = writeln!(
            self.out,
            "}}\n\nimpl {name} {{\n    /// The value as written in XML.\n    pub const fn \
             as_str(self) -> &'static str {{\n        match self {{\n{as_str}        }}\n    \
             }}\n}}\n\nimpl core::fmt::Display for {name} {{\n    fn fmt(&self, f: &mut \
             core::fmt::Formatter<'_>) -> core::fmt::Result {{\n        \
             f.write_str(self.as_str())\n    }}\n}}\n\nimpl xso::FromXmlText for {name} {{\n    \
             fn from_xml_text(s: String) -> Result<Self, xso::error::Error> {{\n        match \
             s.trim() {{\n{from}            _ => Err(xso::error::Error::Other(\"unknown {name} \
             value\")),\n        }}\n    }}\n}}\n\nimpl xso::AsXmlText for {name} {{\n    fn \
             as_xml_text(&self) -> Result<std::borrow::Cow<'_, str>, xso::error::Error> {{\n        \
             Ok(std::borrow::Cow::Borrowed(self.as_str()))\n    }}\n}}\n"
        );
    }

    fn group_enum(&mut self, q: &QName) -> Result<(), Error> {
        let name = pascal(&q.name);
        if !self.claim(&name) {
            return Ok(());
        }
        let group = self
            .all
            .schema(&q.ns)?
            .groups
            .get(&q.name)
            .cloned()
            .ok_or_else(|| Error::Unresolved(format!("group {}", q.name)))?;
        let doc = group
            .doc
            .clone()
            .unwrap_or_else(|| format!("The {} choice.", q.name));
        self.out.push_str(&doc_lines(&doc, ""));
        let _ = writeln!(
            self.out,
            "#[derive(FromXml, AsXml, Debug, Clone, PartialEq)]\n#[xml(namespace = NS)]\npub enum \
             {name} {{"
        );
        for c in &group.choices {
            let variant = pascal(&c.name);
            let vdoc = c
                .doc
                .clone()
                .unwrap_or_else(|| format!("The `<{}/>` element.", c.name));
            self.out.push_str(&doc_lines(&vdoc, "    "));
            let _ = writeln!(self.out, "    #[xml(name = \"{}\", {STRICT})]", c.name);
            match self.all.content_of(c)? {
                None => {
                    let _ = writeln!(self.out, "    {variant},");
                }
                Some(ct) if ct.particles.is_empty() && ct.text.is_none() => {
                    let _ = writeln!(self.out, "    {variant} {{");
                    for a in &ct.attributes {
                        let (f, acc, _) = self.attribute_field(&variant, a)?;
                        if !acc.is_empty() {
                            return Err(Error::Unsupported {
                                file: self.schema.file.clone(),
                                what: format!("defaulted attribute in choice {}", c.name),
                            });
                        }
                        self.out.push_str(&f.replace("    pub ", "        "));
                    }
                    let _ = writeln!(self.out, "    }},");
                }
                Some(_) => {
                    return Err(Error::Unsupported {
                        file: self.schema.file.clone(),
                        what: format!("element content in choice {}", c.name),
                    })
                }
            }
        }
        let _ = writeln!(self.out, "}}\n");
        Ok(())
    }
}
