//! Public graph option types of the host API (mirroring the WIT enums).

use crate::bindings::rem::engine::types as wit;

/// Which edges of a node to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Edges leaving the node.
    #[default]
    Outgoing,
    /// Edges arriving at the node.
    Incoming,
    /// Both.
    Both,
}

impl std::str::FromStr for Direction {
    type Err = crate::Error;
    /// `out`/`outgoing`, `in`/`incoming`, `both` (any case).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "out" | "outgoing" => Ok(Direction::Outgoing),
            "in" | "incoming" => Ok(Direction::Incoming),
            "both" => Ok(Direction::Both),
            other => Err(crate::Error::InvalidArgument(format!("invalid direction {other:?}: use out, in or both"))),
        }
    }
}

/// Traversal order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Breadth-first (depths are hop distances).
    #[default]
    Bfs,
    /// Depth-first, pre-order.
    Dfs,
}

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
