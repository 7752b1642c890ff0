//! The chunk tools (the course's helper scripts) and the command line's messages.

use crate::support::*;

#[test]
fn chunk_tools_reproduce_the_course_scripts() {
    let r = Root::new(1);
    r.write("files/hello.txt", b"The quick brown fox jumps");
    let out = r.run(&["chunks", "create", "hello.txt", "--chunk-size", "10"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Done\nmagnet:?xt=urn:btih:"));
    assert_eq!(
        String::from_utf8(r.read("config/file.ini")).unwrap(),
        "[description]\nfilename = hello.txt\nchunks_count = 3\n\n[chunks]\n0 = 4d39faadbf264f3fb59268228994276c36fc3172\n1 = 729e3121ba0b87facdd975695c0e907a1f89d244\n2 = eda92612cf24747e95b6d9df90a329a254dcfa36\n\n[chunks_peers]\n0 = alice\n1 = alice, bob\n2 = bob\n\n"
    );
    assert_eq!(r.chunk_names("alice").len(), 2);
    assert_eq!(r.chunk_names("bob").len(), 2);
    let out = r.run(&["chunks", "merge"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "Missing chunks\n");
    assert!(!out.status.success());
    let out = r.run(&["chunks", "create", "nope.txt"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Error: file does not exist"));
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn charlie_step_number_errors_are_the_course_messages() {
    let r = Root::new(2);
    let out = r.run(&["charlie"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: missing step number\n"
    );
    assert_eq!(out.status.code(), Some(1));
    let out = r.run(&["charlie", "5"]); // 4 is the trackerless step (issue 8)
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Error: invalid step number\n"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_chunk_of_exactly_64_mib_is_created_served_and_downloaded_and_one_byte_more_is_refused() {
    const MAX: usize = 64 << 20;
    let r = Root::new(27);
    // 64 MiB and 5 bytes: a chunk of exactly the maximum (Alice's) and one of 5 bytes.
    let data: Vec<u8> = (0..MAX + 5).map(|i| (i % 253) as u8).collect();
    r.write("files/max.bin", &data);
    let out = r.run(&["chunks", "create", "max.bin", "--chunk-size", "64MiB"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let alice = r.chunk_names("alice");
    let sizes: Vec<u64> = alice
        .iter()
        .map(|n| {
            std::fs::metadata(r.path().join("chunks/alice").join(n))
                .unwrap()
                .len()
        })
        .collect();
    assert!(sizes.contains(&(MAX as u64)), "{sizes:?}");
    let _peers = start_peers(&r, 27);
    let out = r.run(&["charlie", "1", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let rep = json(&out);
    assert_eq!(rep["identical"], true);
    assert_eq!(rep["download"]["chunks"], 2);
    assert_eq!(rep["download"]["bytes"], MAX + 5);
    assert_eq!(
        chunks_from(&rep, "127.0.27.2:8001") + chunks_from(&rep, "127.0.27.3:8002"),
        2
    );
    // One byte more: refused, saying why, and nothing is touched.
    let out = r.run(&["chunks", "create", "max.bin", "--chunk-size", "67108865"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("chunk size 67108865 bytes is outside 1 byte ..= 67108864 bytes"),
        "{err}"
    );
    assert_eq!(r.chunk_names("alice"), alice);
}
