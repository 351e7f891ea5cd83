//! The shared store gone (design note, pitfall 11): new work is refused with a `wait` error,
//! nothing panics, nothing reaches a client that names a node; back up, work resumes.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Instant;

use common::{config, el, EXT, INT, NODES};
use jid::{BareJid, Jid};
use rayo_cluster::store::{
    CallRecord, Claim, ClientRecord, MixerRecord, NodeRecord, Store, StoreError,
};
use rayo_cluster::{Distribution, Gateway, Input, LinkId, MemoryStore, Output, Peer, Side};

/// A [`MemoryStore`] that can be unplugged.
struct Flaky {
    inner: MemoryStore,
    down: Rc<Cell<bool>>,
}

impl Flaky {
    fn up(&self) -> Result<(), StoreError> {
        if self.down.get() {
            Err(StoreError::Unavailable("unplugged".into()))
        } else {
            Ok(())
        }
    }
}

macro_rules! delegate {
    (ref $( fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty; )*) => {
        $( fn $name(&self, $($arg: $ty),*) -> $ret {
            self.up()?;
            self.inner.$name($($arg),*)
        } )*
    };
    (mut $( fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty; )*) => {
        $( fn $name(&mut self, $($arg: $ty),*) -> $ret {
            self.up()?;
            self.inner.$name($($arg),*)
        } )*
    };
}

impl Store for Flaky {
    delegate! { ref
        fn node(domain: &str) -> Result<Option<NodeRecord>, StoreError>;
        fn nodes() -> Result<Vec<NodeRecord>, StoreError>;
        fn clients_of(bare: &BareJid) -> Result<Vec<ClientRecord>, StoreError>;
        fn routing(bare: &BareJid) -> Result<Option<Distribution>, StoreError>;
        fn call(id: &str) -> Result<Option<CallRecord>, StoreError>;
        fn calls_on(node: &str) -> Result<Vec<CallRecord>, StoreError>;
        fn count_calls(application: &str) -> Result<usize, StoreError>;
        fn calls_controlled_by(client: &Jid) -> Result<Vec<CallRecord>, StoreError>;
        fn mixer(name: &str) -> Result<Option<MixerRecord>, StoreError>;
        fn mixers_on(node: &str) -> Result<Vec<MixerRecord>, StoreError>;
        fn component_owner(parent: &str, resource: &str) -> Result<Option<Jid>, StoreError>;
    }
    delegate! { mut
        fn put_node(node: NodeRecord) -> Result<(), StoreError>;
        fn next_round_robin(pool: &str) -> Result<u64, StoreError>;
        fn put_client(client: ClientRecord) -> Result<(), StoreError>;
        fn remove_client(jid: &Jid) -> Result<(), StoreError>;
        fn set_routing(bare: &BareJid, algorithm: Distribution) -> Result<(), StoreError>;
        fn insert_call(call: CallRecord) -> Result<bool, StoreError>;
        fn claim_call(id: &str, client: &Jid) -> Result<Claim, StoreError>;
        fn move_offer(id: &str, offered: Vec<Jid>) -> Result<bool, StoreError>;
        fn transfer_call(id: &str, from: &Jid, to: &Jid) -> Result<bool, StoreError>;
        fn remove_call(id: &str) -> Result<Option<CallRecord>, StoreError>;
        fn put_mixer(mixer: MixerRecord) -> Result<(), StoreError>;
        fn remove_mixer(name: &str) -> Result<Option<MixerRecord>, StoreError>;
        fn put_component_owner(parent: &str, resource: &str, owner: Jid) -> Result<(), StoreError>;
        fn remove_component(parent: &str, resource: &str) -> Result<(), StoreError>;
    }
}

fn feed(gw: &mut Gateway<Flaky>, now: Instant, link: u64, xml: &str) -> Vec<Output> {
    let side = if link == 0 {
        Side::External
    } else {
        Side::Internal
    };
    gw.handle(
        now,
        Input::Stanza {
            link: LinkId(link),
            side,
            stanza: el(xml),
        },
    );
    std::iter::from_fn(|| gw.poll_output()).collect()
}

fn to_client(out: &[Output]) -> Vec<minidom::Element> {
    out.iter()
        .filter_map(|o| match o {
            Output::Send {
                link: LinkId(0),
                stanza,
            } => Some(stanza.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn with_the_store_down_new_work_gets_a_wait_error() {
    let down = Rc::new(Cell::new(false));
    let store = Flaky {
        inner: MemoryStore::default(),
        down: down.clone(),
    };
    let mut gw = Gateway::with_store(config(Distribution::All), store);
    let now = Instant::now();
    gw.handle(
        now,
        Input::LinkUp {
            link: LinkId(0),
            side: Side::External,
            peer: Peer::Any,
        },
    );
    gw.handle(
        now,
        Input::LinkUp {
            link: LinkId(1),
            side: Side::Internal,
            peer: Peer::Any,
        },
    );
    let register = format!(
        "<presence xmlns='jabber:client' from='{}' to='{INT}'><c xmlns='http://jabber.org/protocol/caps' \
         hash='sha-1' node='urn:xmpp:rayo:node:1' ver='x'/><show>chat</show></presence>",
        NODES[0]
    );
    feed(&mut gw, now, 1, &register);
    feed(
        &mut gw,
        now,
        0,
        &format!("<presence xmlns='jabber:client' from='juliet@capulet.lit/b' to='{EXT}'/>"),
    );
    let dial = format!(
        "<iq xmlns='jabber:client' from='juliet@capulet.lit/b' to='{EXT}' type='set' id='d1'>\
         <dial xmlns='urn:xmpp:rayo:1' to='tel:+1'/></iq>"
    );
    down.set(true);
    let out = feed(&mut gw, now, 0, &dial);
    let e = &to_client(&out)[0];
    assert_eq!(e.attr("type"), Some("error"));
    assert_eq!(
        e.get_child("error", minidom::NSChoice::Any)
            .unwrap()
            .attr("type"),
        Some("wait")
    );
    let out = feed(
        &mut gw,
        now,
        0,
        &format!("<iq xmlns='jabber:client' from='juliet@capulet.lit/b' to='c1@{EXT}' type='set' id='h'><hangup xmlns='urn:xmpp:rayo:1'/></iq>"),
    );
    assert_eq!(
        to_client(&out)[0]
            .get_child("error", minidom::NSChoice::Any)
            .unwrap()
            .attr("type"),
        Some("wait")
    );
    // An offer meanwhile reaches no client (the node is told nothing it could act on wrongly).
    let offer = format!(
        "<presence xmlns='jabber:client' from='c1@{}' to='{INT}'><offer xmlns='urn:xmpp:rayo:1' to='tel:+18005550000' from='tel:+1'/></presence>",
        NODES[0]
    );
    assert!(to_client(&feed(&mut gw, now, 1, &offer)).is_empty());
    // Back up: dials go through again.
    down.set(false);
    let out = feed(&mut gw, now, 0, &dial);
    assert!(
        to_client(&out).is_empty(),
        "forwarded to the node, not answered: {out:?}"
    );
}
