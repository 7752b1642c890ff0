//! The announcer's task against a fake target, on tokio's paused clock.

use std::sync::Mutex;

use super::*;
use crate::error::DhtError;

/// Records every announce (key and time); `reach` says whether nodes take them.
struct Fake {
    calls: Mutex<Vec<(Key, tokio::time::Instant)>>,
    reach: bool,
}

impl AnnounceTarget for Fake {
    fn announce(
        &self,
        key: Key,
        port: u16,
    ) -> futures::future::BoxFuture<'static, Result<Announced, DhtError>> {
        assert_eq!(port, 8001);
        self.calls
            .lock()
            .unwrap()
            .push((key, tokio::time::Instant::now()));
        let nodes = usize::from(self.reach);
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            Ok(Announced {
                nodes,
                peers: vec![],
            })
        })
    }
}

fn fake(reach: bool) -> Arc<Fake> {
    Arc::new(Fake {
        calls: Mutex::default(),
        reach,
    })
}

fn times(f: &Fake, key: Key, t0: tokio::time::Instant) -> Vec<u64> {
    f.calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(k, _)| *k == key)
        .map(|(_, t)| (*t - t0).as_secs())
        .collect()
}

fn config() -> AnnounceConfig {
    let mut c = AnnounceConfig::new(8001);
    c.interval = Duration::from_secs(100);
    c.retry = Duration::from_secs(10);
    c
}

#[tokio::test(start_paused = true)]
async fn keys_that_appear_are_announced_at_once_and_those_gone_no_more() {
    let t0 = tokio::time::Instant::now();
    let f = fake(true);
    let (tx, rx) = watch::channel(BTreeSet::from([[1u8; 20]]));
    let seen = Arc::new(Mutex::new(0));
    let s = seen.clone();
    let a = Announcer::spawn(
        f.clone(),
        rx,
        config(),
        Arc::new(move |_, _| *s.lock().unwrap() += 1),
    );
    tokio::time::sleep(Duration::from_secs(30)).await;
    tx.send_replace(BTreeSet::from([[1u8; 20], [2u8; 20]]));
    tokio::time::sleep(Duration::from_secs(30)).await;
    // Key 1 goes at 60 s, before its second announce (due at 100 s).
    tx.send_replace(BTreeSet::from([[2u8; 20]]));
    tokio::time::sleep(Duration::from_secs(250)).await;
    assert_eq!(times(&f, [1; 20], t0), vec![0]);
    assert_eq!(times(&f, [2; 20], t0), vec![30, 130, 230]);
    assert_eq!(a.stats().announced.load(Ordering::Relaxed), 4);
    assert_eq!(*seen.lock().unwrap(), 4);
    assert_eq!(a.stats().keys.load(Ordering::Relaxed), 1);
}

#[tokio::test(start_paused = true)]
async fn announces_that_reach_no_node_are_retried_sooner() {
    let t0 = tokio::time::Instant::now();
    let f = fake(false);
    let (_tx, rx) = watch::channel(BTreeSet::from([[1u8; 20]]));
    let a = Announcer::spawn(f.clone(), rx, config(), Arc::new(|_, _| {}));
    tokio::time::sleep(Duration::from_secs(35)).await;
    assert_eq!(times(&f, [1; 20], t0), vec![0, 10, 20, 30]);
    assert_eq!(a.stats().failed.load(Ordering::Relaxed), 4);
}

#[tokio::test(start_paused = true)]
async fn at_most_parallel_announces_run_at_once() {
    let f = fake(true);
    let keys: BTreeSet<Key> = (0..10u8).map(|i| [i; 20]).collect();
    let (_tx, rx) = watch::channel(keys);
    let _a = Announcer::spawn(f.clone(), rx, config(), Arc::new(|_, _| {}));
    // Each announce takes 100 ms: four at once, so ten take three rounds.
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(f.calls.lock().unwrap().len(), 8);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(f.calls.lock().unwrap().len(), 10);
}
