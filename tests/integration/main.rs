//! Integration tests: the real engine component, driven through `rem-host`
//! the way the CLI and Python do.

mod agent;
mod conformance;
mod corpus;
mod encryption;
mod entities;
mod fuzz;
mod maintenance;
mod minilm;
mod openai;
mod pages;
mod parallel;
mod query;
mod search;
mod sql_writes;
mod sqlite_diff;
mod sqlite_join;
mod storage;
mod transfer;
mod vectors;
mod wit;
