//! Timers that cost nothing for idle nodes: `poll_timeout` gives the next instant with
//! something to do, not the next second.

use std::time::Duration;

use super::{cfg, lone, net};

#[test]
fn a_lone_node_without_bootstrap_sleeps_after_its_first_tick() {
    let (mut n, now) = lone();
    // Nothing has been scanned yet: the first tick is due.
    let first = n.poll_timeout().expect("first tick");
    assert_eq!(first, now + Duration::from_secs(1));
    n.handle_timeout(first);
    // An empty table, no bootstrap address, no request, an empty store: nothing
    // will ever be due until something arrives.
    assert_eq!(n.poll_timeout(), None);
}

#[test]
fn settled_nodes_sleep_until_their_next_refresh_or_state_change() {
    let mut sim = net(20, 7);
    sim.run_for(Duration::from_secs(60));
    let now = sim.now();
    for i in 0..sim.len() {
        let n = sim.node(i);
        assert_eq!(n.lookups_running(), 0);
        let wake = n.poll_timeout().expect("a refresh is always ahead");
        // Before: every node woke every second. Now the next wake is the first bucket
        // refresh or the first good node turning questionable, minutes away (15
        // minutes after the join, which ended about 90 s ago).
        assert!(
            wake >= now + Duration::from_secs(5 * 60),
            "node {i} wakes in {:?}",
            wake - now
        );
        assert!(wake <= now + Duration::from_secs(15 * 60));
        assert_eq!(
            Some(wake),
            [n.table().next_refresh_at(), n.table().next_ping_scan_at()]
                .into_iter()
                .flatten()
                .min()
                .map(|t| t.max(wake))
        );
    }
}

#[test]
fn a_query_wakes_an_idle_node_at_its_next_tick() {
    let mut sim = net(3, 8);
    sim.run_for(Duration::from_secs(60));
    let before = sim.node(0).poll_timeout().unwrap();
    let late = sim.add_node(cfg()).unwrap();
    sim.bootstrap(late, &[0]);
    sim.run_for(Duration::from_millis(100)); // the newcomer's query reaches node 0
                                             // Node 0 answered the newcomer and holds it unverified: it pings it now and
                                             // scans its table at the next tick, not minutes later.
    let after = sim.node(0).poll_timeout().unwrap();
    assert!(after < before);
    assert!(
        after <= sim.now() + Duration::from_secs(2),
        "{:?}",
        after - sim.now()
    );
}
