//! `swarmlab chunks create|torrent|merge|check`: the course's helper scripts and the
//! file's torrent.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use swarmlab_course::chunks::{self, DEFAULT_CHUNK_SIZE};
use swarmlab_course::config::FileIni;
use swarmlab_course::error::ChunkError;
use swarmlab_course::size::parse_size;
use swarmlab_course::torrent::{assigned_peers, CourseTorrent};
use swarmlab_course::Layout;

/// The subcommands of `swarmlab chunks`.
#[derive(Subcommand)]
pub enum ChunksCmd {
    /// Splits files/FILE into chunks/alice, chunks/bob, writes config/file.ini and
    /// config/file.torrent, and prints the magnet link.
    Create {
        /// A file name in files/.
        file: String,
        /// Chunk size, from 1 byte to 64 MiB (B, KiB, MiB, KB, MB, …).
        #[arg(long, default_value_t = DEFAULT_CHUNK_SIZE as u64, value_parser = parse_size)]
        chunk_size: u64,
    },
    /// Builds config/file.torrent from config/file.ini and the chunk files under
    /// chunks/ (the course's own scripts' chunks too), and prints the magnet link.
    Torrent,
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
                Ok(ini) => {
                    println!("Done");
                    if ini.chunks.is_empty() {
                        println!("no torrent: the file is empty");
                    } else {
                        print_magnet(layout, &ini, &CourseTorrent::load(layout)?);
                    }
                }
                Err(e @ ChunkError::NoSuchFile(_)) => {
                    println!("{e}");
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e.into()),
            }
        }
        ChunksCmd::Torrent => {
            let (ini, t) = chunks::torrent(layout)?;
            println!(
                "{}: {} bytes in {} chunks of {} bytes, file id {}",
                layout.file_torrent().display(),
                t.info().total_length(),
                t.chunks().len(),
                t.info().piece_length,
                t.file_id()
            );
            print_magnet(layout, &ini, &t);
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

/// The magnet link, with `x.pe` of the peers file.ini assigns chunks to.
fn print_magnet(layout: &Layout, ini: &FileIni, t: &CourseTorrent) {
    println!("{}", t.magnet(&assigned_peers(layout, ini)));
}
