//! SMTP without sockets: the command state machine ([`Machine`]), the
//! command line splitter ([`Lines`]), the DATA reader ([`DataReader`]) and
//! the trap's own `Received:` line ([`received_line`]). Everything here is
//! pure and unit-tested; `crate::session` drives it over a socket.

mod data;
mod lines;
mod machine;
mod received;

pub use data::{DataEnd, DataReader};
pub use lines::{LineItem, Lines};
pub use machine::{Config, Machine, Reply, Step, Transaction, canonical_ip};
pub use received::received_line;
