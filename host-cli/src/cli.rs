//! The command line: clap derive structs for every `rem` command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// REM: an embedded memory database for AI agents (Resources, Entities, Moments).
///
/// Data lives in a database directory (default ~/.p8/db; see --path). Results
/// go to stdout as JSON; errors go to stderr with a hint and a non-zero exit.
#[derive(Debug, Parser)]
#[command(name = "rem", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// Global options.
    #[command(flatten)]
    pub global: Global,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Database directory [default: $P8_DB_PATH, else $P8_HOME/db, else ~/.p8/db]
    #[arg(long, global = true, value_name = "DIR")]
    pub path: Option<PathBuf>,
    /// Tenant whose data to read and write.
    #[arg(long, global = true, default_value = "default", env = "P8_TENANT_ID")]
    pub tenant: String,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// How errors are written to stderr: text for people, or one JSON object for programs
    /// (`{"error": {kind, message, display, issues?, line?, column?}}`, as the server's, docs/server.md).
    #[arg(long, global = true, value_enum, default_value_t = ErrorFormat::Text)]
    pub error_format: ErrorFormat,
    /// Send every call to the REM server at this URL (e.g. http://127.0.0.1:7878) instead of
    /// opening the database file. Without it, a server serving --path is found by itself.
    #[arg(long, global = true, env = "P8_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Wait up to this many milliseconds while another process holds the database
    /// [default: $P8_BUSY_TIMEOUT_MS, else 5000].
    #[arg(long, global = true, value_name = "MS")]
    pub wait: Option<u64>,
    /// The database is encrypted (with `rem init`: make it so): ask for its password at a
    /// prompt on the terminal, unless --password-file or P8_PASSWORD gives it. An encrypted
    /// database also opens with P8_PASSWORD alone, and asks on a terminal when it has none.
    #[arg(long, global = true)]
    pub password: bool,
    /// Read the database's password from the first line of FILE (keep it 0600) [default:
    /// $P8_PASSWORD, else a prompt on a terminal]. The password is never printed or logged.
    #[arg(long, global = true, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Pretty JSON.
    Json,
    /// One compact JSON value per line.
    Jsonl,
    /// A table for people.
    Table,
    /// CSV with a header row (query results and lists).
    Csv,
}

/// How errors are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ErrorFormat {
    /// `error: ...` lines with a hint.
    Text,
    /// One JSON object.
    Json,
}

/// All commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database directory (if needed), open it, warm the engine cache, and register
    /// the core schemas (resources, documents, sessions, messages, moments).
    Init {
        /// Do not register the core schemas.
        #[arg(long)]
        no_core: bool,
    },
    /// Register, list and show table schemas.
    #[command(subcommand)]
    Schema(SchemaCommand),
    /// Insert (upsert) one entity, or a JSONL batch with --batch.
    Insert(InsertArgs),
    /// Print the entity with this id or natural key (soft-deleted ones included).
    Get {
        /// Entity id (UUID), or the natural key of one live entity (`rem get 'Python Guide'`).
        id: String,
        /// Also print the entity's stored vector as `embedding` (unit length, as indexed).
        #[arg(long)]
        include_vectors: bool,
    },
    /// Print the live entities whose natural key is exactly KEY, across tables.
    Lookup {
        /// Natural key (the key field, `key`, `name` or `uri` value).
        key: String,
    },
    /// Merge a JSON object into an entity's properties.
    Update {
        /// Entity id (UUID), or a natural key.
        id: String,
        /// JSON object of properties to set, e.g. '{"age": 31}'.
        patch: String,
    },
    /// Soft-delete an entity (or remove it with --hard).
    Delete {
        /// Entity id (UUID), or a natural key.
        id: String,
        /// Remove the entity and its index entries for good.
        #[arg(long)]
        hard: bool,
    },
    /// List live entities of a table in id order.
    List {
        /// Table name.
        table: String,
        /// At most this many entities.
        #[arg(long)]
        limit: Option<u32>,
        /// Skip this many first.
        #[arg(long, default_value_t = 0, conflicts_with = "after")]
        offset: u32,
        /// Start after this entity id (keyset pagination: pass the last id of the page before;
        /// a page then costs only its own rows). Pages hold --limit entities (default 1000).
        #[arg(long, value_name = "ID")]
        after: Option<String>,
    },
    /// Count live entities of a table.
    Count {
        /// Table name.
        table: String,
    },
    /// Add, list and delete typed edges between entities.
    #[command(subcommand)]
    Edge(EdgeCommand),
    /// Walk the graph from an entity (id or natural key).
    Traverse(TraverseArgs),
    /// Shortest path between two entities (ids or natural keys).
    Path {
        /// Source entity.
        from: String,
        /// Target entity.
        to: String,
        /// Edge direction to follow: out, in or both.
        #[arg(long, default_value = "out")]
        direction: String,
        /// Give up beyond this many hops (1 to 10).
        #[arg(long, default_value_t = 10)]
        max_depth: u32,
        /// Relationship types to follow (repeat for several; default: all).
        #[arg(long = "type", value_name = "REL")]
        types: Vec<String>,
        /// Minimise the total `weight` property (Dijkstra) instead of the hop count.
        #[arg(long)]
        weighted: bool,
    },
    /// Semantic search of a table's embedding fields (HNSW, cosine); rows carry `_score`.
    ///
    /// Example: rem search "web server" --table packages --top-k 5 --where "section = 'httpd'"
    Search {
        /// The text to search for (embedded with the table's model).
        #[arg(required_unless_present = "vector")]
        text: Option<String>,
        /// Search with this vector instead of a text: a JSON array of numbers of the table's dimensions.
        #[arg(long, conflicts_with = "text", value_name = "JSON")]
        vector: Option<String>,
        /// Table to search (it must have `embedding_fields`); `--schema` is an alias.
        #[arg(long, short, visible_alias = "schema", default_value = "resources")]
        table: String,
        /// Number of results (1 to 10000).
        #[arg(long, short = 'k', default_value_t = 10)]
        top_k: u32,
        /// Drop results scoring below this (score = 1 - cosine distance, -1 to 1).
        #[arg(long, default_value_t = -1.0, allow_negative_numbers = true)]
        min_score: f32,
        /// Only rows matching this REM SQL predicate (what follows WHERE).
        #[arg(long = "where", value_name = "PREDICATE")]
        filter: Option<String>,
        /// Fuse a BM25 keyword ranking with the vector ranking (reciprocal rank fusion).
        #[arg(long)]
        hybrid: bool,
        /// Candidate list size for this search (default: the table's ef_search).
        #[arg(long)]
        ef_search: Option<u32>,
        /// Also print each row's stored vector as `embedding` (unit length, as indexed).
        #[arg(long)]
        include_vectors: bool,
        /// Search these vectors: `embedding` (the table's model, the default) or `embedding_alt`
        /// (the second model's: `embedding_provider_alt` or `P8_ALT_EMBEDDING`).
        #[arg(long, value_name = "FIELD")]
        vector_field: Option<String>,
    },
    /// The engine as a portable WASI component: write it out with its WIT.
    #[command(subcommand)]
    Component(ComponentCommand),
    /// Serve the database to other processes over HTTP/JSON (docs/server.md): this process
    /// holds the file; `rem` commands and Python's REMDatabase(path) on this machine find the
    /// server by themselves. Stops on Ctrl-C or SIGTERM after finishing the calls in flight.
    Serve(ServeArgs),
    /// Inspect or rebuild a table's vector index.
    #[command(subcommand)]
    Index(IndexCommand),
    /// Ask a question in words: a chat model plans one REM SQL read statement, REM checks it
    /// (nothing that writes runs) and runs it. Prints {results, query, query_type, confidence,
    /// explanation, stages}, or with --plan only the plan.
    ///
    /// The model is $P8_DEFAULT_LLM (or --llm) on the OpenAI-compatible endpoint
    /// $P8_OPENAI_BASE_URL (OpenAI, Ollama, llama.cpp's server, vLLM), key $P8_OPENAI_API_KEY.
    Ask {
        /// The question.
        question: String,
        /// Print the checked plan without running it.
        #[arg(long)]
        plan: bool,
        /// Show the model only this table.
        #[arg(long)]
        table: Option<String>,
        /// Plans tried at most: when a query returns no rows, the model is asked again.
        #[arg(long, default_value_t = 3)]
        max_stages: u32,
        /// The chat model [default: $P8_DEFAULT_LLM].
        #[arg(long, value_name = "MODEL")]
        llm: Option<String>,
    },
    /// Dream: a chat model reads a period's activity (messages by session, rows created or
    /// changed) and writes moments, a summary of the period and edges between what it saw,
    /// in one transaction. Dreaming over the same window again updates rather than duplicates.
    /// Prints a JSON report (moments, edges, summaries written; tokens used).
    Dream {
        /// Read the last this many hours (ignored with --start).
        #[arg(long, default_value_t = 24.0, value_name = "HOURS")]
        lookback_hours: f64,
        /// Start of the period: a date (2026-12-01) or an RFC 3339 time.
        #[arg(long, requires = "end", value_name = "DATE")]
        start: Option<String>,
        /// End of the period (inclusive): a date or an RFC 3339 time.
        #[arg(long, requires = "start", value_name = "DATE")]
        end: Option<String>,
        /// Print exactly what would be written, and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// The chat model [default: $P8_DEFAULT_LLM].
        #[arg(long, value_name = "MODEL")]
        llm: Option<String>,
        /// Characters of activity per chat call (about 4 per token).
        #[arg(long, default_value_t = 48_000, value_name = "CHARS")]
        max_context_chars: usize,
        /// Also print the rows and edges written (always printed with --dry-run).
        #[arg(long)]
        verbose: bool,
    },
    /// What is in the database, counted by a scan of every record: per table live and
    /// soft-deleted rows, index entries, row copies, vectors (live, tombstoned), keyword
    /// documents and bytes; per tenant edges, id- and key-index entries; the layout version,
    /// the engine's caches, the file's size and the engine's version.
    Stats,
    /// Change the password of an encrypted database (opened with the current one: --password,
    /// --password-file or P8_PASSWORD). The data key is wrapped again in the file's header; no
    /// data is rewritten. Stop `rem serve` first.
    Rekey {
        /// Read the new password from the first line of FILE [default: $P8_NEW_PASSWORD, else
        /// a prompt on the terminal, typed twice].
        #[arg(long, value_name = "FILE")]
        new_password_file: Option<std::path::PathBuf>,
    },
    /// Make the Ed25519 key pair kept for sharing: the public key and the private key sealed
    /// with a key Argon2id derives from the password (--password-file, P8_PASSWORD, or a
    /// prompt typed twice), in $P8_HOME/keys (~/.p8/keys), files 0600. Prints the public key.
    KeyGen {
        /// The folder to write the key pair in [default: $P8_HOME/keys].
        #[arg(long, value_name = "DIR")]
        dir: Option<std::path::PathBuf>,
        /// Replace a key pair already there.
        #[arg(long)]
        force: bool,
    },
    /// Verify every derived record against the rows (secondary, key and id indexes, live-row
    /// counts, vector and keyword indexes, edges and their reverse) and list every
    /// disagreement. Exits 1 when there is one. Reads one snapshot; works through `rem serve`.
    Check {
        /// Most problems listed (all are counted).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        max_problems: u32,
    },
    /// Copy the whole database (every tenant) to a new database directory from one read
    /// snapshot (consistent while the same process writes); the copy opens with `--path DEST`.
    /// Nothing is left at DEST if it fails. Not through `rem serve` yet: stop the server first.
    /// Example: `rem backup ~/backups/rem-2026-12-07`.
    Backup {
        /// The new database directory.
        dest: std::path::PathBuf,
        /// Replace DEST when it holds a database (never one that is open).
        #[arg(long)]
        force: bool,
    },
    /// Restore a backup (a database directory made by `rem backup`) into the database path
    /// (`--path`, else the default). Refused when a database is there, unless `--force`.
    Restore {
        /// The backup's directory.
        src: std::path::PathBuf,
        /// Replace the database at the path (never one that is open).
        #[arg(long)]
        force: bool,
    },
    /// Write a table's rows to a Parquet (ZSTD), CSV or JSONL file, streaming in pages of 1,000
    /// rows; `--all` writes every table to a folder. Parquet columns are typed from the table's
    /// JSON Schema (docs/design.md). Examples: `rem export messages --output m.parquet`,
    /// `rem export --all --output backup/ --format jsonl`.
    Export {
        /// Table name (or --all).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        table: Option<String>,
        /// Every table, one file each (`<table>.<ext>`) in the folder --output names.
        #[arg(long)]
        all: bool,
        /// The file (or, with --all, the folder) to write.
        #[arg(long, short)]
        output: std::path::PathBuf,
        /// parquet, csv or jsonl [default: from the file's extension; parquet with --all].
        #[arg(long = "as", value_name = "FORMAT")]
        file_format: Option<String>,
        /// Only rows passing this REM SQL predicate, e.g. "status = 'open'".
        #[arg(long = "where", value_name = "PREDICATE")]
        filter: Option<String>,
        /// Add the rows' vectors (an `embedding` column).
        #[arg(long)]
        with_vectors: bool,
        /// Soft-deleted rows too.
        #[arg(long)]
        include_deleted: bool,
        /// Replace a file already there.
        #[arg(long)]
        force: bool,
    },
    /// Give back the space of deleted data (redb's compaction) and print the file's size before
    /// and after. Needs the database to itself: stop `rem serve` first.
    Compact,
    /// Serve the database to an MCP client (Claude Desktop, an IDE, an agent framework) over
    /// stdio: the Model Context Protocol's JSON-RPC on stdin and stdout (docs/agent.md).
    /// Uses the `rem serve` server of the database when one runs, else opens the file.
    Mcp,
    /// Ingest documents of every common kind as searchable chunks.
    ///
    /// Reads text, Markdown, HTML, PDF, Word (.docx .doc), PowerPoint (.pptx .ppt, with notes),
    /// spreadsheets (.xlsx .xlsm .xls .ods), CSV/TSV, JSON, YAML and e-mail (.eml). Each file
    /// becomes a `documents` row and chunks in --table (default `resources`, with `part_of`
    /// edges to the document), embedded for `rem search`; each chunk's `metadata` says where it
    /// is (`page`, `sheet` and `rows`, `slide`, `headings`), and table rows are chunked under
    /// their header row. Folders are walked recursively, files read on every core while one
    /// writer commits. A file already in --table with the same BLAKE3 hash is skipped; a changed
    /// one has its chunks replaced in one transaction. The summary accounts for every file:
    /// ingested, skipped_unchanged, unsupported (with the reason), errors (with the error).
    /// Only regular files are read: symlinks inside folders are not followed (unless
    /// --follow-symlinks), devices, FIFOs and sockets are listed under `ignored`, and files over
    /// --max-file-size fail without being read.
    Ingest {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Table of the chunks (needs the `resources` fields; see `rem schema templates`);
        /// `--schema` is an alias.
        #[arg(long, visible_alias = "schema", default_value = "resources")]
        table: String,
        /// Largest chunk, in --unit.
        #[arg(long, default_value_t = 1000)]
        chunk_size: usize,
        /// How much consecutive chunks share, in --unit.
        #[arg(long, default_value_t = 100)]
        overlap: usize,
        /// What sizes count: chars, or tokens of the all-MiniLM-L6-v2 tokenizer.
        #[arg(long, default_value = "chars", value_parser = ["chars", "tokens"])]
        unit: String,
        /// Re-ingest files even when their hash is unchanged.
        #[arg(long)]
        force: bool,
        /// Largest file read, in bytes; larger files are reported as errors.
        #[arg(long, default_value_t = rem_host::ingest::DEFAULT_MAX_FILE_SIZE, value_name = "BYTES")]
        max_file_size: u64,
        /// Follow symlinks found inside the folders given (loops are detected).
        #[arg(long)]
        follow_symlinks: bool,
    },
    /// Run one REM SQL statement (SELECT, LOOKUP, SEARCH, TRAVERSE, EXPLAIN; with --write also
    /// DELETE FROM t [WHERE ...] [HARD] and UPDATE t SET f = expr [WHERE ...]).
    Query {
        /// The statement, e.g. "SELECT name, age FROM person WHERE age > 30 ORDER BY age".
        sql: String,
        /// Print the plan (index used, rows estimated, read and returned) instead of the rows.
        #[arg(long)]
        explain: bool,
        /// Values for the statement's placeholders, as JSON: a list for `?`, `?N`, `$N`
        /// (e.g. '[30, "engineer"]') or an object for `:name`, `$name`. Bound as SQL literals.
        #[arg(long, value_name = "JSON")]
        params: Option<String>,
        /// Allow a statement that writes (DELETE, UPDATE), run in one transaction; prints
        /// `[{"changed": n}]`. Without it such statements are refused.
        #[arg(long)]
        write: bool,
    },
}

/// `rem component ...`
#[derive(Debug, Subcommand)]
pub enum ComponentCommand {
    /// Write `rem-engine.wasm` (the engine component this `rem` runs) and `wit/engine.wit` into DIR,
    /// for other component hosts (jco for Node and browsers, wasmtime, edge runtimes).
    Export {
        /// Output folder (created if needed).
        dir: std::path::PathBuf,
    },
}

/// `rem index ...`
#[derive(Debug, Subcommand)]
pub enum IndexCommand {
    /// Figures of a table's vector index: model, dims, M, ef_construction, ef_search, live and tombstoned nodes.
    Stats {
        /// Table name.
        table: String,
    },
    /// Rebuild a table's vector index from its stored vectors, dropping tombstones.
    Rebuild {
        /// Table name.
        table: String,
        /// Embed every row again with the table's model instead of reusing stored vectors.
        #[arg(long)]
        reembed: bool,
    },
}

/// `rem schema ...`
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Register (or replace) a table schema from a JSON or YAML file.
    ///
    /// The table name is --name, else the schema's `short_name`, else its
    /// `title` in snake_case. REM settings (key_field, indexed_fields, covering_fields,
    /// embedding_fields, version, ...) are read from `json_schema_extra` or
    /// the top level, as Pydantic's model_json_schema() emits them.
    ///
    /// With --template, the schema is a built-in template (see `rem schema templates`)
    /// cloned under --name; with --output it is written to a file for editing instead.
    Add {
        /// Schema file (.json, .yaml or .yml), or a Pydantic model as FILE.py::Class (imported
        /// with python3, or $P8_PYTHON, for its model_json_schema()); omit with --template.
        #[arg(required_unless_present = "template")]
        file: Option<PathBuf>,
        /// Table name (overrides short_name/title; required with --template).
        #[arg(long)]
        name: Option<String>,
        /// Start from a built-in template: resources, entities, agentlets or moments.
        #[arg(long, conflicts_with = "file", requires = "name")]
        template: Option<String>,
        /// Write the schema to this file instead of registering it.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// List the built-in templates `schema add --template` can clone.
    Templates,
    /// List registered tables with their versions and settings.
    List,
    /// Print a table's schema record.
    Show {
        /// Table name.
        name: String,
    },
}

/// `rem edge ...`
#[derive(Debug, Subcommand)]
pub enum EdgeCommand {
    /// Add (or update) the edge SRC -[TYPE]-> DST; both ends are ids or natural keys.
    Add {
        /// Source entity.
        src: String,
        /// Target entity.
        dst: String,
        /// Relationship type, e.g. depends_on.
        rel_type: String,
        /// Edge properties as a JSON object, e.g. '{"weight": 0.5}'.
        #[arg(long)]
        props: Option<String>,
    },
    /// List an entity's edges.
    List {
        /// Entity id or natural key.
        id: String,
        /// out, in or both.
        #[arg(long, default_value = "out")]
        direction: String,
        /// Only these relationship types (repeat for several).
        #[arg(long = "type", value_name = "REL")]
        types: Vec<String>,
    },
    /// Add many edges from a JSONL file ('-' for stdin), atomically: one
    /// `{"src", "dst", "rel_type", "properties"}` object a line, ends as ids or natural keys.
    Import {
        /// JSONL file, or '-'.
        file: std::path::PathBuf,
    },
    /// Delete the edge SRC -[TYPE]-> DST.
    Delete {
        /// Source entity.
        src: String,
        /// Target entity.
        dst: String,
        /// Relationship type.
        rel_type: String,
    },
}

/// `rem serve ...`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TCP address to listen on; any address but loopback needs a token.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    pub listen: std::net::SocketAddr,
    /// Also listen on this Unix socket (created 0600).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// Listen only on --socket (no TCP).
    #[arg(long, requires = "socket")]
    pub no_tcp: bool,
    /// Require `Authorization: Bearer <token>` with the token in this file (else $P8_SERVER_TOKEN).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Largest request body in MiB (larger requests get 413).
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub max_body_mib: usize,
    /// Engine instances answering reads at once [default: two per core, at least 4].
    #[arg(long, value_name = "N")]
    pub readers: Option<usize>,
}

/// `rem insert ...`
#[derive(Debug, Args)]
pub struct InsertArgs {
    /// Table name.
    pub table: String,
    /// The entity as a JSON object (omit with --batch).
    #[arg(conflicts_with = "batch")]
    pub data: Option<String>,
    /// Insert every line of a JSONL file ('-' for stdin), every item of a YAML list
    /// (.yaml/.yml), or every row of a Parquet (.parquet) or CSV (.csv) file (`rem export`'s
    /// files too), atomically: one bad row rejects the whole batch and the error names the
    /// line (or item, or row) and field.
    #[arg(long, value_name = "FILE", num_args = 0..=1, default_missing_value = "-")]
    pub batch: Option<PathBuf>,
    /// With --batch: also print the ids of the rows, in input order (`ids`).
    #[arg(long, requires = "batch")]
    pub ids: bool,
}

/// `rem traverse`.
#[derive(Debug, Args)]
pub struct TraverseArgs {
    /// Start entity: id or natural key.
    pub start: String,
    /// Maximum hops (1 to 10).
    #[arg(long, default_value_t = 2)]
    pub depth: u32,
    /// Edge direction to follow: out, in or both.
    #[arg(long, default_value = "out")]
    pub direction: String,
    /// Relationship types to follow on every hop (repeat for several; default: all).
    #[arg(long = "type", value_name = "REL")]
    pub types: Vec<String>,
    /// Depth-first instead of breadth-first.
    #[arg(long)]
    pub dfs: bool,
    /// Return at most this many nodes.
    #[arg(long)]
    pub limit: Option<u32>,
    /// Show each node's table and natural key beside its id (always with --format table).
    #[arg(long)]
    pub keys: bool,
}
