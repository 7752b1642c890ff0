//! `config/peers.ini` and `config/file.ini`, read as Python's configparser reads them
//! and written byte for byte as the course's `create_chunks.py` writes them.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};

use swarmlab_course_wire::ChunkHash;

use crate::error::ConfigError;

/// An INI file as sections of lower-cased keys, in file order.
struct Ini {
    path: PathBuf,
    sections: Vec<(String, Vec<(String, String)>)>,
}

impl Ini {
    fn load(path: &Path) -> Result<Ini, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(path, &text)
    }

    fn parse(path: &Path, text: &str) -> Result<Ini, ConfigError> {
        let ini = ini::Ini::load_from_str(text).map_err(|source| ConfigError::Syntax {
            path: path.to_owned(),
            source,
        })?;
        let mut sections = Vec::new();
        for (name, props) in ini.iter() {
            let Some(name) = name else { continue };
            let props = props
                .iter()
                .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
                .collect();
            sections.push((name.trim().to_owned(), props));
        }
        Ok(Ini {
            path: path.to_owned(),
            sections,
        })
    }

    fn section(&self, name: &str) -> Option<&[(String, String)]> {
        self.sections
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p.as_slice())
    }

    fn get(&self, section: &str, key: &str) -> Result<&str, ConfigError> {
        self.section(section)
            .ok_or_else(|| ConfigError::MissingSection {
                path: self.path.clone(),
                section: section.to_owned(),
            })?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| ConfigError::MissingKey {
                path: self.path.clone(),
                section: section.to_owned(),
                key: key.to_owned(),
            })
    }
}

/// `config/peers.ini`: named TCP addresses (`[tracker]`, `[alice]`, `[bob]`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeersIni {
    /// Section names and their addresses, in file order.
    pub entries: Vec<(String, SocketAddrV4)>,
}

impl PeersIni {
    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<PeersIni, ConfigError> {
        Self::from_ini(Ini::load(path)?)
    }

    /// Parses the text of a peers.ini.
    pub fn parse(text: &str) -> Result<PeersIni, ConfigError> {
        Self::from_ini(Ini::parse(Path::new("peers.ini"), text)?)
    }

    fn from_ini(ini: Ini) -> Result<PeersIni, ConfigError> {
        let mut entries = Vec::new();
        for (name, _) in &ini.sections {
            let ip: Ipv4Addr =
                ini.get(name, "ip_address")?
                    .parse()
                    .map_err(|source| ConfigError::BadAddress {
                        path: ini.path.clone(),
                        section: name.clone(),
                        source,
                    })?;
            let port: u16 =
                ini.get(name, "port_number")?
                    .parse()
                    .map_err(|source| ConfigError::BadPort {
                        path: ini.path.clone(),
                        section: name.clone(),
                        source,
                    })?;
            entries.push((name.clone(), SocketAddrV4::new(ip, port)));
        }
        Ok(PeersIni { entries })
    }

    /// The address of section `name`.
    pub fn get(&self, name: &str) -> Option<SocketAddrV4> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| *a)
    }

    /// The file's text, in the starter file's format.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (i, (name, a)) in self.entries.iter().enumerate() {
            if i > 0 {
                s.push('\n');
            }
            let _ = write!(
                s,
                "[{name}]\nip_address = {}\nport_number = {}\n",
                a.ip(),
                a.port()
            );
        }
        s
    }
}

/// `config/file.ini`: the file name, its chunk hashes and which peers hold each chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIni {
    /// The file's name (`[description] filename`).
    pub filename: String,
    /// The chunk hashes in file order (`[chunks]`).
    pub chunks: Vec<ChunkHash>,
    /// Section names of peers.ini for each chunk, in the order written.
    pub chunk_peers: Vec<Vec<String>>,
}

impl FileIni {
    /// Reads and parses the file at `path`.
    pub fn load(path: &Path) -> Result<FileIni, ConfigError> {
        Self::from_ini(Ini::load(path)?)
    }

    /// Parses the text of a file.ini.
    pub fn parse(text: &str) -> Result<FileIni, ConfigError> {
        Self::from_ini(Ini::parse(Path::new("file.ini"), text)?)
    }

    fn from_ini(ini: Ini) -> Result<FileIni, ConfigError> {
        let filename = ini.get("description", "filename")?.to_owned();
        let count: usize = ini
            .get("description", "chunks_count")?
            .parse()
            .map_err(|source| ConfigError::BadCount {
                path: ini.path.clone(),
                source,
            })?;
        if count > u16::MAX as usize {
            return Err(ConfigError::TooManyChunks {
                path: ini.path.clone(),
                count,
            });
        }
        let mut chunks = Vec::with_capacity(count);
        let mut chunk_peers = Vec::with_capacity(count);
        for i in 0..count {
            let key = i.to_string();
            let hx = ini.get("chunks", &key)?;
            let mut h = [0u8; 20];
            hex::decode_to_slice(hx, &mut h).map_err(|source| ConfigError::BadHash {
                path: ini.path.clone(),
                index: i,
                value: hx.to_owned(),
                source,
            })?;
            chunks.push(h);
            let peers = match ini.section("chunks_peers") {
                Some(_) => ini
                    .get("chunks_peers", &key)?
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect(),
                None => Vec::new(),
            };
            chunk_peers.push(peers);
        }
        Ok(FileIni {
            filename,
            chunks,
            chunk_peers,
        })
    }

    /// The text `create_chunks.py` writes (Python configparser: `key = value`, a blank
    /// line after every section, the file ending with `\n\n`).
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "[description]\nfilename = {}\nchunks_count = {}\n\n[chunks]\n",
            self.filename,
            self.chunks.len()
        );
        for (i, h) in self.chunks.iter().enumerate() {
            let _ = writeln!(s, "{i} = {}", hex::encode(h));
        }
        s.push_str("\n[chunks_peers]\n");
        for (i, p) in self.chunk_peers.iter().enumerate() {
            let _ = writeln!(s, "{i} = {}", p.join(", "));
        }
        s.push('\n');
        s
    }
}

/// The starter `config/peers.ini` of the course.
pub const DEFAULT_PEERS_INI: &str = "[tracker]\nip_address = 127.0.0.1\nport_number = 8000\n\n[alice]\nip_address = 127.0.0.1\nport_number = 8001\n\n[bob]\nip_address = 127.0.0.1\nport_number = 8002\n";

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact file.ini of setup A in course-vectors.md.
    const SETUP_A: &str = "[description]\nfilename = hello.txt\nchunks_count = 3\n\n[chunks]\n0 = 4d39faadbf264f3fb59268228994276c36fc3172\n1 = 729e3121ba0b87facdd975695c0e907a1f89d244\n2 = eda92612cf24747e95b6d9df90a329a254dcfa36\n\n[chunks_peers]\n0 = alice\n1 = alice, bob\n2 = bob\n\n";

    #[test]
    fn file_ini_round_trips_byte_for_byte() {
        let f = FileIni::parse(SETUP_A).unwrap();
        assert_eq!(f.filename, "hello.txt");
        assert_eq!(f.chunks.len(), 3);
        assert_eq!(f.chunk_peers[1], vec!["alice", "bob"]);
        assert_eq!(f.to_text(), SETUP_A);
    }

    #[test]
    fn file_ini_accepts_configparser_variants() {
        let text = "[description]\nFileName: x.bin\nCHUNKS_COUNT = 2\n[chunks]\n0=4d39faadbf264f3fb59268228994276c36fc3172\n1 : 729e3121ba0b87facdd975695c0e907a1f89d244\n[chunks_peers]\n0 = alice,bob\n1 =   bob ,  alice\n";
        let f = FileIni::parse(text).unwrap();
        assert_eq!(f.filename, "x.bin");
        assert_eq!(
            f.chunk_peers,
            vec![vec!["alice", "bob"], vec!["bob", "alice"]]
        );
    }

    #[test]
    fn file_ini_errors_are_clear() {
        let e = FileIni::parse("[description]\nfilename = a\nchunks_count = 1\n[chunks]\n0 = zz\n")
            .unwrap_err();
        assert!(e.to_string().contains("not 40 hex digits"), "{e}");
        let e = FileIni::parse("[description]\nfilename = a\n").unwrap_err();
        assert!(e.to_string().contains("chunks_count"), "{e}");
    }

    #[test]
    fn file_ini_with_more_chunks_than_file_info_can_carry_is_refused() {
        // Every key present, so that only the cap stops it.
        let mut text =
            String::from("[description]\nfilename = a\nchunks_count = 65536\n[chunks]\n");
        for i in 0..65536 {
            text.push_str(&format!("{i} = 4d39faadbf264f3fb59268228994276c36fc3172\n"));
        }
        let e = FileIni::parse(&text).unwrap_err();
        assert!(
            matches!(e, ConfigError::TooManyChunks { count: 65536, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("65535"), "{e}");
    }

    #[test]
    fn peers_ini_default() {
        let p = PeersIni::parse(DEFAULT_PEERS_INI).unwrap();
        assert_eq!(p.get("tracker"), Some("127.0.0.1:8000".parse().unwrap()));
        assert_eq!(p.get("bob"), Some("127.0.0.1:8002".parse().unwrap()));
        assert_eq!(p.entries.len(), 3);
        assert_eq!(p.to_text(), DEFAULT_PEERS_INI);
        assert!(PeersIni::parse("[alice]\nip_address = localhost\nport_number = 1\n").is_err());
        assert!(PeersIni::parse("[alice]\nip_address = 1.2.3.4\nport_number = 70000\n").is_err());
    }
}
