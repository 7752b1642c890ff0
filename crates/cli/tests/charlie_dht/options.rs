//! The command line of the new modes: what is refused before any network.

use crate::support::*;

#[test]
fn step_4_without_a_file_id_and_an_unknown_source_are_refused_clearly() {
    let r = root("127.185.1");
    let out = r.run(&["charlie", "4"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "trackerless mode needs the file id: --magnet, --file-id or config/file.torrent"
        ),
        "{err}"
    );
    let out = r.run(&["charlie", "--discovery", "tracker,carrier-pigeon"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown discovery source \"carrier-pigeon\""),
        "{err}"
    );
    let out = r.run(&["charlie", "--file-id", "0123"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("file id"));
    // A JSON run that fails says why, with what discovery did.
    let (rep, ok) = charlie(
        &r,
        &[
            "--discovery",
            "config,pex",
            "--file-id",
            &"ab".repeat(20),
            "--dht-bind",
            "127.185.2.1:0",
        ],
    );
    assert!(!ok);
    assert_eq!(rep["ok"], false);
    assert_eq!(rep["discovery"][0]["source"], "file id");
    assert_eq!(rep["discovery"][1]["source"], "config");
    assert_eq!(rep["discovery"][1]["ok"], false);
    assert_eq!(rep["discovery"][2]["source"], "pex");
    assert_eq!(rep["discovery"][2]["detail"], "no peer known to ask");
}
