//! Interoperability tests with libtorrent (being written).
