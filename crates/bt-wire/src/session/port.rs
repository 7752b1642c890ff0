//! BEP 5's `port` message: the port of our DHT node, sent when both handshakes set
//! the DHT bit. The peer's comes out as [`super::Event::DhtPort`].

use super::Session;
use crate::error::CommandError;
use crate::wire::Message;

impl Session {
    /// Tell the peer the UDP port of our DHT node.
    pub fn send_port(&mut self, port: u16) -> Result<(), CommandError> {
        self.ready()?;
        if !self.dht {
            return Err(CommandError::Unsupported("the DHT (BEP 5)"));
        }
        self.send(&Message::Port(port));
        Ok(())
    }

    /// Both handshakes set the DHT bit.
    pub fn dht(&self) -> bool {
        self.dht
    }
}
