//! Decode arbitrary bytes as a KRPC message. Whatever decodes must re-encode to bytes of
//! the predicted length that decode to the same message (and re-encode identically);
//! whatever fails with a reply code must yield a decodable error reply echoing `t`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use swarmlab_krpc::{Body, Message};

fuzz_target!(|data: &[u8]| {
    match Message::decode(data) {
        Ok(msg) => {
            let wire = msg.encode();
            assert_eq!(wire.len(), msg.encoded_len(), "encoded_len of {msg:?}");
            let again = Message::decode(&wire).expect("our own encoding must decode");
            assert_eq!(again, msg, "round trip");
            assert_eq!(again.encode(), wire, "encoding is canonical");
        }
        Err(err) => {
            assert_eq!(err.error_reply().is_some(), err.reply_code().is_some());
            if let Some(reply) = err.error_reply() {
                let back = Message::decode(&reply.encode()).expect("error reply must decode");
                assert!(matches!(back.body, Body::Error(_)));
                assert_eq!(Some(&back.tid), err.transaction_id());
            }
        }
    }
});
