//! `trackerless`: time to the first chunk and to the whole file, from the file id.

use crate::args::Args;

pub async fn run(_a: &Args) -> Result<(), Box<dyn std::error::Error>> {
    Err("not yet".into())
}
