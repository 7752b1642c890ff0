//! `swarmlab sim` at small sizes: every experiment runs, writes one CSV row per
//! lookup with the documented columns and values in range, a summary, a markdown
//! table and its plots; the figures move the way each experiment is about; the same
//! seed gives the same CSV. The sizes are small (a few hundred nodes) so that the
//! whole file adds little to the suite.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use swarmlab_sim::experiment::{EstimateRow, ESTIMATE_COLUMNS};
use swarmlab_sim::measure::{LookupRow, COLUMNS};

const BIN: &str = env!("CARGO_BIN_EXE_swarmlab");

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("swarmlab-sim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn sim(out: &Path, args: &[&str]) -> Output {
    let o = Command::new(BIN)
        .arg("sim")
        .arg("--quiet")
        .arg("--csv")
        .arg(out)
        .args(args)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "swarmlab sim {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn header(path: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.headers().unwrap().iter().map(str::to_string).collect()
}

/// The rows of lookups.csv, with its columns and every value checked.
fn rows(out: &Path) -> Vec<LookupRow> {
    let path = out.join("lookups.csv");
    assert_eq!(header(&path), COLUMNS);
    let rows: Vec<LookupRow> = csv::Reader::from_path(&path)
        .unwrap()
        .deserialize()
        .map(Result::unwrap)
        .collect();
    for r in &rows {
        assert!(r.closest_k <= 8 && r.closest_found <= r.closest_k, "{r:?}");
        assert!(
            r.responses <= r.messages && r.timeouts <= r.messages,
            "{r:?}"
        );
        assert!(r.started_s >= 0.0);
        if r.finished {
            assert_eq!(r.kind, "find_node");
            let l = r.latency_ms.unwrap();
            assert!((0.0..600_000.0).contains(&l), "{r:?}");
            assert!(r.hops >= 1 && r.hops <= 20, "{r:?}");
            assert!(r.messages >= 1);
            if let Some(f) = r.first_closest_ms {
                assert!(f > 0.0 && f <= l + 1e-6, "{r:?}");
            }
        }
    }
    rows
}

fn series<'a>(rows: &'a [LookupRow], s: &str) -> Vec<&'a LookupRow> {
    rows.iter().filter(|r| r.series == s).collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn latency_p50(rows: &[&LookupRow]) -> f64 {
    median(rows.iter().filter_map(|r| r.latency_ms).collect())
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let v: Vec<f64> = v.collect();
    v.iter().sum::<f64>() / v.len().max(1) as f64
}

fn found_all(rows: &[&LookupRow]) -> f64 {
    rows.iter().filter(|r| r.found_all()).count() as f64 / rows.len() as f64
}

/// The summary, table and plots are there (the plots when a font is).
fn outputs(out: &Path, series: usize, plots: &[&str]) {
    let summary = csv::Reader::from_path(out.join("summary.csv"))
        .unwrap()
        .records()
        .count();
    assert_eq!(summary, series);
    // The summary table: a header and a line per series (more tables may follow).
    let table = std::fs::read_to_string(out.join("table.md")).unwrap();
    let first = table.lines().take_while(|l| !l.is_empty());
    assert_eq!(first.filter(|l| l.starts_with("| ")).count(), series + 1);
    let font = Path::new("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").exists();
    for p in plots {
        let png = out.join(p);
        if font {
            let bytes = std::fs::read(&png).unwrap_or_else(|_| panic!("{p} missing"));
            assert!(bytes.starts_with(b"\x89PNG"), "{p}");
        }
    }
    // Nothing left under a temporary name.
    for e in std::fs::read_dir(out).unwrap() {
        let name = e.unwrap().file_name();
        assert!(!name.to_string_lossy().contains(".tmp-"), "{name:?}");
    }
}

const PLOTS: [&str; 4] = [
    "latency_cdf.png",
    "first_closest_cdf.png",
    "hops.png",
    "messages.png",
];

#[test]
fn size_experiment_hops_grow_with_the_network() {
    let out = dir("size");
    sim(
        &out,
        &[
            "--experiment",
            "size",
            "--values",
            "200,3000",
            "--lookups",
            "40",
        ],
    );
    let rows = rows(&out);
    assert_eq!(rows.len(), 80);
    let (small, big) = (series(&rows, "nodes=200"), series(&rows, "nodes=3000"));
    assert_eq!((small.len(), big.len()), (40, 40));
    assert!(small.iter().all(|r| r.nodes == 200) && big.iter().all(|r| r.nodes == 3000));
    assert!(found_all(&small) >= 0.95 && found_all(&big) >= 0.95);
    let hops = |v: &[&LookupRow]| mean(v.iter().map(|r| f64::from(r.hops)));
    assert!(
        hops(&big) > hops(&small),
        "{} vs {}",
        hops(&big),
        hops(&small)
    );
    outputs(&out, 2, &[&PLOTS[..], &["success.png"]].concat());
}

#[test]
fn alpha_and_timeout_sweeps_trade_latency_for_messages() {
    let out = dir("alpha");
    let common = ["--nodes", "400", "--lookups", "40", "--dead", "0.3"];
    sim(
        &out,
        &[&common[..], &["--experiment", "alpha", "--values", "1,4"]].concat(),
    );
    let alpha = rows(&out);
    let (one, four) = (series(&alpha, "alpha=1"), series(&alpha, "alpha=4"));
    assert_eq!((one.len(), four.len()), (40, 40));
    assert!(latency_p50(&four) < latency_p50(&one));
    outputs(&out, 2, &PLOTS);

    let out = dir("timeout");
    sim(
        &out,
        &[
            &common[..],
            &["--experiment", "timeout", "--values", "250,2000"],
        ]
        .concat(),
    );
    let timeout = rows(&out);
    let (short, long) = (
        series(&timeout, "soft_ms=250"),
        series(&timeout, "soft_ms=2000"),
    );
    assert_eq!((short.len(), long.len()), (40, 40));
    // Dead contacts hold a slot until the soft timeout frees it.
    assert!(latency_p50(&short) < latency_p50(&long));
    outputs(&out, 2, &PLOTS);
}

#[test]
fn churn_experiment_success_falls_and_timeouts_rise() {
    let out = dir("churn");
    sim(
        &out,
        &[
            "--experiment",
            "churn",
            "--values",
            "0,4",
            "--nodes",
            "500",
            "--lookups",
            "40",
            "--warmup-s",
            "600",
        ],
    );
    let rows = rows(&out);
    let (calm, churn) = (series(&rows, "scale_min=0"), series(&rows, "scale_min=4"));
    assert_eq!((calm.len(), churn.len()), (40, 40));
    let timeouts = |v: &[&LookupRow]| mean(v.iter().map(|r| r.timeouts as f64));
    assert!(timeouts(&churn) > timeouts(&calm) + 0.5);
    assert!(found_all(&churn) < found_all(&calm));
    // runs.csv counts the departures.
    let runs = std::fs::read_to_string(out.join("runs.csv")).unwrap();
    assert!(header(&out.join("runs.csv")).contains(&"departures".to_string()));
    assert_eq!(runs.lines().count(), 3);
    outputs(&out, 2, &[&PLOTS[..], &["success.png"]].concat());
}

#[test]
fn faults_experiment_loss_and_unreachable_nodes() {
    let out = dir("faults");
    sim(
        &out,
        &[
            "--experiment",
            "faults",
            "--values",
            "0,0.2",
            "--nodes",
            "300",
            "--lookups",
            "30",
        ],
    );
    let rows = rows(&out);
    for s in ["loss=0", "loss=0.2", "unreachable=0.25", "unreachable=0.5"] {
        assert_eq!(series(&rows, s).len(), 30, "{s}");
    }
    let timeouts = |s: &str| mean(series(&rows, s).iter().map(|r| r.timeouts as f64));
    assert_eq!(timeouts("loss=0"), 0.0);
    assert!(timeouts("loss=0.2") > 0.5);
    assert!(timeouts("unreachable=0.5") > timeouts("unreachable=0.25"));
    outputs(&out, 4, &PLOTS);
}

#[test]
fn regimes_experiment_minutes_against_sub_second() {
    let out = dir("regimes");
    sim(
        &out,
        &[
            "--experiment",
            "regimes",
            "--nodes",
            "400",
            "--lookups",
            "30",
        ],
    );
    let rows = rows(&out);
    let old = series(&rows, "2007");
    let tuned = series(&rows, "tuned");
    assert_eq!((old.len(), tuned.len()), (30, 30));
    assert_eq!(rows.len(), 8 * 30);
    // Above a minute against well under a second.
    assert!(latency_p50(&old) > 60_000.0, "{}", latency_p50(&old));
    assert!(latency_p50(&tuned) < 1_000.0, "{}", latency_p50(&tuned));
    outputs(&out, 8, &PLOTS);
}

#[test]
fn estimate_experiment_rows_per_estimate() {
    let out = dir("estimate");
    sim(
        &out,
        &[
            "--experiment",
            "estimate",
            "--values",
            "2000",
            "--lookups",
            "64",
        ],
    );
    let path = out.join("estimates.csv");
    assert_eq!(header(&path), ESTIMATE_COLUMNS);
    let est: Vec<EstimateRow> = csv::Reader::from_path(&path)
        .unwrap()
        .deserialize()
        .map(Result::unwrap)
        .collect();
    assert_eq!(est.len(), 4 + 1, "four of 16 lookups and one of 64");
    for e in &est {
        assert_eq!(e.reachable, 2000);
        assert!(e.error_pct.abs() < 30.0, "{e:?}");
        assert!(e.estimate > 0.0 && e.rel_std_error_pct > 0.0);
    }
    let table = std::fs::read_to_string(out.join("table.md")).unwrap();
    assert!(table.contains("within ±15%"));
    outputs(&out, 1, &["estimate_error_cdf.png"]);
}

#[test]
fn init_experiment_compares_filled_and_grown_networks() {
    let out = dir("init");
    sim(
        &out,
        &["--experiment", "init", "--values", "400", "--lookups", "30"],
    );
    let rows = rows(&out);
    let (g, w) = (
        series(&rows, "global,nodes=400"),
        series(&rows, "grown,nodes=400"),
    );
    assert_eq!((g.len(), w.len()), (30, 30));
    assert!(found_all(&g) >= 0.9 && found_all(&w) >= 0.9);
    outputs(&out, 2, &PLOTS);
}

#[test]
fn udp_experiment_writes_the_same_rows_from_a_loopback_testnet() {
    let out = dir("udp");
    sim(
        &out,
        &[
            "--experiment",
            "udp",
            "--nodes",
            "40",
            "--lookups",
            "12",
            "--first",
            "127.151.0.1",
        ],
    );
    let rows = rows(&out);
    assert_eq!(rows.len(), 12);
    assert!(rows.iter().all(|r| r.experiment == "udp" && r.nodes == 40));
    assert!(found_all(&rows.iter().collect::<Vec<_>>()) >= 0.75);
    outputs(&out, 1, &PLOTS);
}

#[test]
fn one_run_is_deterministic_and_prints_json() {
    let (a, b, c) = (dir("det-a"), dir("det-b"), dir("det-c"));
    let args = [
        "--nodes",
        "300",
        "--lookups",
        "20",
        "--loss",
        "0.05",
        "--unreachable",
        "0.2",
    ];
    sim(&a, &args);
    sim(&b, &args);
    sim(&c, &[&args[..], &["--seed", "2"]].concat());
    let read = |d: &Path| std::fs::read_to_string(d.join("lookups.csv")).unwrap();
    assert_eq!(read(&a), read(&b));
    assert_ne!(read(&a), read(&c));
    let o = Command::new(BIN)
        .args(["sim", "--json", "--nodes", "200", "--lookups", "10"])
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["experiment"], "run");
    assert_eq!(v["summaries"][0]["lookups"], 10);
    assert!(v["runs"][0]["bytes_per_node"]
        .as_f64()
        .is_some_and(|b| b > 0.0));
}

#[test]
fn bad_arguments_are_refused_clearly() {
    for (args, want) in [
        (&["--experiment", "nope"][..], "no experiment"),
        (&["--loss", "2"][..], "loss"),
        (&["--nodes", "1"][..], "at least 2"),
    ] {
        let o = Command::new(BIN).arg("sim").args(args).output().unwrap();
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
