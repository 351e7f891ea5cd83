//! Calls offered to this client (XEP-0327 §6.2.2).

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use rayo_proto::generated::rayo::Header;

use crate::call::Call;
use crate::client::Client;
use crate::core::NewOffer;

/// A call offered to this client: accept or answer it to take control, or reject or
/// redirect it. Other clients may have been offered the same call; the first command wins.
#[derive(Debug)]
pub struct Offer {
    /// The call.
    pub call: Call,
    /// The called URI.
    pub to: String,
    /// The caller URI, if known.
    pub from: Option<String>,
    /// The signalling headers of the call (SIP INVITE headers), in order.
    pub headers: Vec<Header>,
}

/// The offers made to this client, in arrival order; also a [`Stream`]. Ends when the
/// client is closed.
#[derive(Debug)]
pub struct Offers {
    client: Client,
    rx: crate::event_queue::Receiver<NewOffer>,
}

impl Offers {
    pub(crate) fn new(client: Client, rx: crate::event_queue::Receiver<NewOffer>) -> Self {
        Offers { client, rx }
    }

    fn wrap(&self, n: NewOffer) -> Offer {
        Offer {
            call: Call::new(self.client.clone(), n.call),
            to: n.offer.to,
            from: n.offer.from,
            headers: n.offer.headers,
        }
    }

    /// The next offer.
    pub async fn next(&mut self) -> Option<Offer> {
        let n = self.rx.recv().await?;
        Some(self.wrap(n))
    }
}

impl Stream for Offers {
    type Item = Offer;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Offer>> {
        match self.rx.poll_recv(cx) {
            Poll::Ready(Some(n)) => Poll::Ready(Some(self.wrap(n))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
