//! Graph option types of the host API: the engine's own (`rem_core::graph`), defined once,
//! and their conversion into the WIT enums.

use crate::bindings::rem::engine::types as wit;

pub use rem_core::graph::{Direction, Strategy};

impl From<Direction> for wit::Direction {
    fn from(d: Direction) -> Self {
        match d {
            Direction::Outgoing => wit::Direction::Outgoing,
            Direction::Incoming => wit::Direction::Incoming,
            Direction::Both => wit::Direction::Both,
        }
    }
}

impl From<Strategy> for wit::Strategy {
    fn from(s: Strategy) -> Self {
        match s {
            Strategy::Bfs => wit::Strategy::Bfs,
            Strategy::Dfs => wit::Strategy::Dfs,
        }
    }
}
