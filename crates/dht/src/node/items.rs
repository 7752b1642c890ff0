//! BEP 44 in the node: serving `get` and `put`, and the get and put lookups (what they
//! carry beside the [`Lookup`](crate::lookup::Lookup): the salt that found items are
//! checked with, the item to put, the best item found).

use std::net::SocketAddr;
use std::time::Instant;

use swarmlab_krpc::{Body, Id, KrpcError, Method, PutArgs, Response, Want, SAFE_PAYLOAD};

use crate::bep44::Item;
use crate::error::{ItemError, LookupError};
use crate::lookup::{LookupId, LookupKind};

use super::Node;

/// What a get or put lookup carries beside its search.
#[derive(Debug, Default)]
pub(super) struct ItemLookup {
    /// Mutable items found are checked against `SHA-1(k ‖ salt)`.
    salt: Vec<u8>,
    /// The item a put lookup stores, with its `cas`.
    pub(super) put: Option<(Item, Option<i64>)>,
    /// The best checked item found so far.
    pub(super) found: Option<Item>,
}

impl Node {
    /// Starts a BEP 44 get of `target`: the item is in the result's
    /// [`item`](crate::LookupResult::item), checked against the target (a mutable item
    /// with `salt`, empty for none; the highest `seq` wins).
    pub fn start_get(
        &mut self,
        now: Instant,
        target: Id,
        salt: Vec<u8>,
    ) -> Result<LookupId, LookupError> {
        let side = ItemLookup {
            salt,
            ..ItemLookup::default()
        };
        self.start(now, LookupKind::GetItem, target, Some(side))
    }

    /// Starts a BEP 44 put of `item` (checked first: a bad item is refused here rather
    /// than by every storage node): a get lookup of its key, then `put` to the `k`
    /// closest nodes that gave a token, with compare-and-swap on `cas` for a mutable
    /// item. The result's `announced` counts the nodes that stored it.
    pub fn start_put(
        &mut self,
        now: Instant,
        item: Item,
        cas: Option<i64>,
    ) -> Result<LookupId, LookupError> {
        item.verify().map_err(LookupError::Item)?;
        let target = item.target();
        let side = ItemLookup {
            salt: item
                .mutable
                .as_ref()
                .map(|m| m.salt.clone())
                .unwrap_or_default(),
            put: Some((item, cas)),
            found: None,
        };
        self.start(now, LookupKind::PutItem, target, Some(side))
    }

    /// The `put` a put lookup sends with `token`.
    pub(super) fn put_method(&self, lid: LookupId, token: &[u8]) -> Option<Method> {
        let (item, cas) = self.item_lookups.get(&lid)?.put.as_ref()?;
        Some(item.put_method(token.to_vec(), *cas))
    }

    /// A `get` response for a get or put lookup: keeps its item if it checks out and
    /// is better than the one found so far.
    pub(super) fn on_item_reply(&mut self, lid: LookupId, target: &Id, r: &Response) {
        let Some(side) = self.item_lookups.get_mut(&lid) else {
            return;
        };
        match Item::from_response(r, target, &side.salt) {
            Ok(Some(item)) => {
                if side.found.as_ref().is_none_or(|f| item.seq() > f.seq()) {
                    side.found = Some(item);
                }
            }
            Ok(None) => {}
            Err(_) => self.stats.items_bad += 1,
        }
    }

    /// Serves `get`: a write token for the target, the closest nodes, and the item if
    /// we hold it. The nodes are trimmed if a 1,000-byte value leaves no room.
    pub(super) fn serve_get(
        &mut self,
        now: Instant,
        from: SocketAddr,
        target: &Id,
        seq: Option<i64>,
        want: Want,
        other: Option<&crate::routing::RoutingTable>,
    ) -> Body {
        let mut r = Response::new(self.id);
        r.token = Some(self.tokens.issue(now, from, target).as_bytes().to_vec());
        self.fill_nodes(now, &mut r, target, want, from, other);
        if let Some(item) = self.items.get(now, target) {
            item.fill_response(&mut r, seq);
        }
        trim_nodes(&mut r);
        Body::Response(r)
    }

    /// Serves `put`: the value and salt sizes, the token (bound to the asker's address
    /// and the item's key), the signature, then the store's `seq` and `cas` rules; a
    /// refusal is the BEP 44 error code.
    pub(super) fn serve_put(&mut self, now: Instant, from: SocketAddr, p: &PutArgs) -> Body {
        let refuse = |e: ItemError| {
            Body::Error(KrpcError {
                code: e.code(),
                message: e.to_string(),
            })
        };
        let item = match Item::from_put(p) {
            Ok(i) => i,
            Err(e) => {
                self.stats.items_refused += 1;
                return refuse(e);
            }
        };
        if !self.tokens.verify(now, from, &item.target(), &p.token) {
            self.stats.items_refused += 1;
            return Body::Error(KrpcError {
                code: swarmlab_krpc::ErrorCode::Protocol,
                message: "bad token".into(),
            });
        }
        if let Err(e) = item.verify() {
            self.stats.items_refused += 1;
            return refuse(e);
        }
        match self.items.put(now, item, p.cas) {
            Ok(_) => {
                self.stats.items_stored += 1;
                Body::Response(Response::new(self.id))
            }
            Err(e) => {
                self.stats.items_refused += 1;
                refuse(e)
            }
        }
    }
}

/// Drops closest nodes (IPv6 first) until the reply fits in [`SAFE_PAYLOAD`] with the
/// fields every reply adds (`t`, `v`, `ip`, `y`: at most 60 bytes).
fn trim_nodes(r: &mut Response) {
    const OVERHEAD: usize = 60;
    let len = |r: &Response| {
        swarmlab_krpc::Message::response(swarmlab_krpc::TransactionId::default(), r.clone())
            .encoded_len()
    };
    while len(r) + OVERHEAD > SAFE_PAYLOAD {
        if let Some(n6) = r.nodes6.as_mut().filter(|n| !n.is_empty()) {
            n6.pop();
        } else if let Some(n4) = r.nodes.as_mut().filter(|n| !n.is_empty()) {
            n4.pop();
        } else {
            break;
        }
    }
}
