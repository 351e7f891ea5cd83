//! Tenancy: each application sees only its own calls and mixers.
//!
//! Every client reaches a node as the gateway's internal domain, so the nodes' own security
//! zones cannot tell tenants apart; the gateway does. A mixer name a client uses (`conf`) is
//! scoped to its application on the inner leg (`verona~conf`, as mixer JID
//! `verona~conf@node`), and unscoped on the way out, so two applications each have their
//! own `conf` and neither can name the other's. A call named in a payload (`call-uri` of a
//! join or unjoin, nested in a dial too) must be one of the client's application's calls:
//! another's is `item-not-found`, as if it did not exist.

use jid::Jid;
use minidom::Element;

use crate::config::Application;
use crate::gateway::Gateway;
use crate::link::Refusal;
use crate::store::Store;

/// Between an application's name and a mixer name on the inner leg.
pub const SEPARATOR: char = '~';

/// A mixer name as the nodes see it: scoped to `app`.
pub fn scoped(app: &str, name: &str) -> String {
    format!("{app}{SEPARATOR}{name}")
}

/// A mixer name (or JID node part) as clients see it: without its application's prefix,
/// when the prefix is one of `apps`.
pub fn unscoped<'a>(name: &'a str, apps: &[Application]) -> &'a str {
    match name.split_once(SEPARATOR) {
        Some((app, rest)) if apps.iter().any(|a| a.name == app) => rest,
        _ => name,
    }
}

fn mixer_names(el: &mut Element, f: &dyn Fn(&str) -> String) {
    for ((_, name), value) in el.attrs_mut().iter_mut() {
        if name.as_str() == "mixer-name" {
            *value = f(value);
        }
    }
    for child in el.children_mut() {
        mixer_names(child, f);
    }
}

/// Scopes every `mixer-name` in a client's payload to its application.
pub fn scope_payload(el: &mut Element, app: &str) {
    mixer_names(el, &|n| scoped(app, n));
}

/// A JID under `external` with its node part unscoped.
pub fn unscope_jid(jid: &Jid, apps: &[Application]) -> Jid {
    let Some(node) = jid.node() else {
        return jid.clone();
    };
    let plain = unscoped(node.as_str(), apps);
    if plain == node.as_str() {
        return jid.clone();
    }
    let mut s = format!("{plain}@{}", jid.domain());
    if let Some(r) = jid.resource() {
        s.push('/');
        s.push_str(r.as_str());
    }
    Jid::new(&s).unwrap_or_else(|_| jid.clone())
}

/// Unscopes, in a payload going to clients, every `mixer-name` and the node part of every
/// JID or `xmpp:` URI under `external`.
pub fn unscope_payload(el: &mut Element, apps: &[Application], external: &Jid) {
    for ((_, name), value) in el.attrs_mut().iter_mut() {
        if name.as_str() == "mixer-name" {
            *value = unscoped(value, apps).to_owned();
            continue;
        }
        let (jid, uri) = match value.strip_prefix("xmpp:") {
            Some(_) => (rayo_proto::address::jid_from_uri(value).ok(), true),
            None if value.contains(SEPARATOR) => (Jid::new(value).ok(), false),
            None => (None, false),
        };
        if let Some(j) = jid.filter(|j| j.domain() == external.domain()) {
            let plain = unscope_jid(&j, apps);
            if plain != j {
                *value = if uri {
                    rayo_proto::address::uri_for(&plain)
                } else {
                    plain.to_string()
                };
            }
        }
    }
    for child in el.children_mut() {
        unscope_payload(child, apps, external);
    }
}

/// The call ids a client's payload names under `external` (`uri`, `call-uri`).
fn named_calls(el: &Element, external: &Jid, out: &mut Vec<String>) {
    for ((_, name), value) in el.attrs().iter() {
        if !matches!(name.as_str(), "uri" | "call-uri") {
            continue;
        }
        let Ok(j) = rayo_proto::address::jid_from_uri(value) else {
            continue;
        };
        if j.domain() == external.domain() {
            if let Some(n) = j.node() {
                out.push(n.as_str().to_owned());
            }
        }
    }
    for child in el.children() {
        named_calls(child, external, out);
    }
}

impl<S: Store> Gateway<S> {
    /// The application a client belongs to, by name.
    pub(crate) fn app_of(&self, client: &Jid) -> Option<String> {
        self.cfg.application_of(client).map(|a| a.name.clone())
    }

    /// Refuses a payload naming a call of another application (`item-not-found`).
    pub(crate) fn check_references(&self, el: &Element, app: Option<&str>) -> Result<(), Refusal> {
        let mut ids = Vec::new();
        named_calls(el, self.cfg.domains.external(), &mut ids);
        for id in ids {
            if let Some(call) = self.store.call(&id)? {
                if call.application.as_deref() != app || app.is_none() {
                    return Err(Refusal::UnknownEntity);
                }
            }
        }
        Ok(())
    }

    /// Makes a client's payload its application's: references checked, mixer names scoped.
    pub(crate) fn tenant_payload(&self, el: &mut Element, client: &Jid) -> Result<(), Refusal> {
        let app = self.app_of(client);
        self.check_references(el, app.as_deref())?;
        if let Some(app) = &app {
            scope_payload(el, app);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_scope_and_unscope() {
        let apps = vec![Application {
            name: "verona".into(),
            clients: vec![],
            uris: vec![],
            distribution: crate::Distribution::All,
            may_dial: true,
            on_client_lost: Default::default(),
            max_calls: None,
            max_dials_per_second: None,
        }];
        assert_eq!(scoped("verona", "conf"), "verona~conf");
        assert_eq!(unscoped("verona~conf", &apps), "conf");
        assert_eq!(
            unscoped("mantua~conf", &apps),
            "mantua~conf",
            "not an application"
        );
        let ext = Jid::new("shakespeare.lit").unwrap_or_else(|e| unreachable!("{e}"));
        let mut el: Element = "<joined xmlns='urn:xmpp:rayo:1' mixer-name='verona~conf'>\
            <ref uri='xmpp:verona~conf@shakespeare.lit/c1'/></joined>"
            .parse()
            .unwrap_or_else(|e| unreachable!("{e}"));
        unscope_payload(&mut el, &apps, &ext);
        assert_eq!(el.attr("mixer-name"), Some("conf"));
        let r = el.children().next().and_then(|c| c.attr("uri"));
        assert_eq!(r, Some("xmpp:conf@shakespeare.lit/c1"));
        scope_payload(&mut el, "verona");
        assert_eq!(el.attr("mixer-name"), Some("verona~conf"));
    }
}
