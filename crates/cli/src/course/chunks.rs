//! `swarmlab chunks create|merge|check`: the course's helper scripts.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use swarmlab_course::chunks::{self, DEFAULT_CHUNK_SIZE};
use swarmlab_course::error::ChunkError;
use swarmlab_course::size::parse_size;
use swarmlab_course::Layout;

/// The subcommands of `swarmlab chunks`.
#[derive(Subcommand)]
pub enum ChunksCmd {
    /// Splits files/FILE into chunks/alice, chunks/bob and writes config/file.ini.
    Create {
        /// A file name in files/.
        file: String,
        /// Chunk size, from 1 byte to 64 MiB (B, KiB, MiB, KB, MB, …).
        #[arg(long, default_value_t = DEFAULT_CHUNK_SIZE as u64, value_parser = parse_size)]
        chunk_size: u64,
    },
    /// Builds chunks/charlie/<filename> from its chunks.
    Merge,
    /// Compares files/<filename> with chunks/charlie/<filename>.
    Check,
}

/// Runs `swarmlab chunks`.
pub fn run(layout: &Layout, c: ChunksCmd) -> Result<ExitCode> {
    match c {
        ChunksCmd::Create { file, chunk_size } => {
            let size = usize::try_from(chunk_size).unwrap_or(usize::MAX);
            match chunks::create(layout, &file, size) {
                Ok(_) => println!("Done"),
                Err(e @ ChunkError::NoSuchFile(_)) => {
                    println!("{e}");
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            }
        }
        ChunksCmd::Merge => match chunks::merge(layout) {
            Ok(_) => println!("Done"),
            Err(ChunkError::MissingChunks { .. }) => {
                println!("Missing chunks");
                return Ok(ExitCode::FAILURE);
            }
            Err(e) => return Err(e.into()),
        },
        ChunksCmd::Check => {
            if chunks::check(layout)? {
                println!("Files are identical");
            } else {
                println!("Files are NOT identical");
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
