//! The driver's own BEP 10 extensions ([`crate::session::ExtConfig::extra`]).

use super::*;
use crate::error::CommandError;
use crate::ext::LOCAL_EXTRA_FIRST;

fn with_extra(id: u8, extra: &[&str]) -> SessionConfig {
    let mut c = cfg(id);
    c.extensions.extra = extra.iter().map(|s| s.to_string()).collect();
    c
}

fn pair(a: &[&str], b: &[&str]) -> Pair {
    let (info, _) = torrent(2, 16384);
    let mut p = Pair::connect(
        Torrent::from_info(&info),
        Torrent::from_info(&info),
        with_extra(1, a),
        with_extra(2, b),
    );
    p.events_a();
    p.events_b();
    p
}

fn extension_events(s: &mut Session) -> Vec<(String, Vec<u8>)> {
    drain(s)
        .into_iter()
        .filter_map(|e| match e {
            Event::Extension { name, payload } => Some((name, payload)),
            _ => None,
        })
        .collect()
}

#[test]
fn extra_extensions_are_announced_and_flow_both_ways() {
    let mut p = pair(
        &["sl_stream", "ut_pex", "x_other"],
        &["x_other", "sl_stream"],
    );
    let h = p.a.peer_extensions().unwrap();
    // b's ids: x_other first, then sl_stream; its own names keep their ids.
    assert_eq!(h.id_of("x_other"), Some(LOCAL_EXTRA_FIRST));
    assert_eq!(h.id_of("sl_stream"), Some(LOCAL_EXTRA_FIRST + 1));
    assert!(h.id_of("ut_pex").is_some());
    assert!(p.a.peer_offers("sl_stream") && p.b.peer_offers("sl_stream"));

    p.a.send_extension("sl_stream", b"from a").unwrap();
    p.b.send_extension("sl_stream", b"from b").unwrap();
    p.b.send_extension("x_other", b"").unwrap();
    p.pump();
    assert_eq!(
        extension_events(&mut p.b),
        vec![("sl_stream".to_string(), b"from a".to_vec())]
    );
    assert_eq!(
        extension_events(&mut p.a),
        vec![
            ("sl_stream".to_string(), b"from b".to_vec()),
            ("x_other".to_string(), Vec::new())
        ]
    );
    assert_eq!(p.a.stats().misbehaviours + p.b.stats().misbehaviours, 0);
}

#[test]
fn an_extension_the_peer_did_not_offer_is_refused_and_nothing_is_sent() {
    let mut p = pair(&["sl_stream", "x_mine"], &["sl_stream"]);
    assert!(!p.a.peer_offers("x_mine"));
    assert_eq!(
        p.a.send_extension("x_mine", b"hi"),
        Err(CommandError::ExtensionNotOffered("x_mine".into()))
    );
    assert_eq!(
        p.a.send_extension("x_unknown", b"hi"),
        Err(CommandError::ExtensionNotOurs("x_unknown".into()))
    );
    assert!(p.a.poll_transmit().is_none(), "nothing queued");
}

#[test]
fn a_message_under_an_id_we_did_not_announce_is_counted() {
    // b speaks sl_stream, a does not: b's message to an id a never gave is a
    // misbehaviour, not an event.
    let (info, _) = torrent(2, 16384);
    let (mut s, now) = dialled(Torrent::from_info(&info), with_extra(1, &["sl_stream"]));
    let bytes = wire(&[Message::Extended {
        id: LOCAL_EXTRA_FIRST + 1,
        payload: b"x".to_vec(),
    }]);
    s.handle_input(now, &bytes).unwrap();
    let ev = drain(&mut s);
    assert!(
        matches!(
            &ev[..],
            [Event::Misbehaviour(
                super::super::Misbehaviour::UnknownExtension(4)
            )]
        ),
        "{ev:?}"
    );
    // Under the id we announced it is an event.
    let bytes = wire(&[Message::Extended {
        id: LOCAL_EXTRA_FIRST,
        payload: b"x".to_vec(),
    }]);
    s.handle_input(now, &bytes).unwrap();
    assert_eq!(
        extension_events(&mut s),
        vec![("sl_stream".to_string(), b"x".to_vec())]
    );
}

#[test]
fn oversized_extension_messages_are_refused_both_ways() {
    let mut p = pair(&["sl_stream"], &["sl_stream"]);
    let max = p.a.config().limits.max_message as usize;
    // Sending: the length prefix (ids + payload) may not pass the limit.
    assert_eq!(
        p.a.send_extension("sl_stream", &vec![0; max - 1]),
        Err(CommandError::MessageTooLarge(max + 1))
    );
    assert!(p.a.poll_transmit().is_none());
    // Receiving: a length prefix over the limit ends the session before any of
    // it is buffered.
    let (info, _) = torrent(2, 16384);
    let (mut s, now) = dialled(Torrent::from_info(&info), with_extra(1, &["sl_stream"]));
    let mut bytes = ((max + 1) as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(&[20, LOCAL_EXTRA_FIRST]);
    assert!(matches!(
        s.handle_input(now, &bytes),
        Err(SessionError::Wire(_))
    ));
    assert!(extension_events(&mut s).is_empty());
    // The largest allowed one arrives whole (once the output buffer has room).
    assert!(matches!(
        p.a.send_extension("sl_stream", &vec![7; max - 2]),
        Err(CommandError::OutputFull(0))
    ));
    let mut big = with_extra(1, &["sl_stream"]);
    big.limits.max_output = 2 * max;
    let (info, _) = torrent(2, 16384);
    p = Pair::connect(
        Torrent::from_info(&info),
        Torrent::from_info(&info),
        big,
        with_extra(2, &["sl_stream"]),
    );
    p.a.send_extension("sl_stream", &vec![7; max - 2]).unwrap();
    p.pump();
    let got = extension_events(&mut p.b);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1.len(), max - 2);
}
