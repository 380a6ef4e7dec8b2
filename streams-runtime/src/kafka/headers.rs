//! Record headers as rdkafka delivers them, in the runtime's form.

use rdkafka::Message;
use rdkafka::message::Headers;

use crate::processor::Header;

/// The headers of a consumed record in order; a null value stays `None` (not empty).
pub(crate) fn headers_of(message: &impl Message) -> Vec<Header> {
    message.headers().map_or_else(Vec::new, |headers| {
        headers
            .iter()
            .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
            .collect()
    })
}
