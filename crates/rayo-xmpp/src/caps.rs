//! The caps on connections open at once, in total and per source address, shared by the
//! listeners.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// The connections open now, in total and by source address.
#[derive(Default)]
pub(crate) struct Open {
    total: usize,
    by_source: HashMap<IpAddr, usize>,
}

/// A connection's place under the caps, given back when dropped.
pub(crate) struct Slot {
    open: Arc<Mutex<Open>>,
    source: IpAddr,
}

impl Slot {
    /// Takes a place for a connection from `source`, if the caps leave one.
    pub(crate) fn take(
        open: &Arc<Mutex<Open>>,
        source: IpAddr,
        total: usize,
        per_source: usize,
    ) -> Option<Slot> {
        let mut o = open.lock().unwrap_or_else(|e| e.into_inner());
        let same = o.by_source.get(&source).copied().unwrap_or(0);
        if o.total >= total.max(1) || same >= per_source.max(1) {
            return None;
        }
        o.total += 1;
        o.by_source.insert(source, same + 1);
        Some(Slot {
            open: open.clone(),
            source,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut o = self.open.lock().unwrap_or_else(|e| e.into_inner());
        o.total = o.total.saturating_sub(1);
        if let Some(n) = o.by_source.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                o.by_source.remove(&self.source);
            }
        }
    }
}
