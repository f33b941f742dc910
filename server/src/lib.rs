//! `rem-server`: `rem serve`, one process that owns a REM database (its redb file) and serves
//! the whole engine API over HTTP/JSON (`docs/server.md`), so that an agent app, an MCP server,
//! notebooks and the `rem` CLI use one database at once.
//!
//! Reads run in parallel (a pool of engine instances, each call in its own read snapshot);
//! writes run one at a time (redb has one writer); each request is one atomic call. The
//! server listens on loopback unless given a token; it writes the database's endpoint file
//! (`rem.server.json`) so clients find it, and shuts down on SIGINT/SIGTERM after finishing
//! the calls in flight.

mod calls;
mod http;
pub mod mcp;
mod pool;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use rem_host::remote::Endpoint;
use rem_host::{Database, Error, OpenOptions};

pub use pool::Pool;

/// Default TCP address: loopback, port 7878.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";

/// Default largest request body: 256 MiB (a batch of about 250,000 short rows).
pub const DEFAULT_MAX_BODY: usize = 256 * 1024 * 1024;

/// How `rem serve` runs.
#[derive(Clone)]
pub struct ServeOptions {
    /// The database to serve (`path` must be set) and its settings.
    pub open: OpenOptions,
    /// TCP address to listen on (`None` with a `socket`: the socket only). Port 0 picks a free
    /// port (the endpoint file names it).
    pub listen: Option<SocketAddr>,
    /// Unix socket to listen on as well (created `0600`).
    pub socket: Option<PathBuf>,
    /// The bearer token every request must carry (required off loopback).
    pub token: Option<String>,
    /// The file the token came from, named in the endpoint file so local clients can read it.
    pub token_file: Option<PathBuf>,
    /// Largest request body, in bytes (larger: 413).
    pub max_body: usize,
    /// Engine instances serving reads at once (at least 1).
    pub readers: usize,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("ServeOptions")
            .field("open", &self.open)
            .field("listen", &self.listen)
            .field("socket", &self.socket)
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("token_file", &self.token_file)
            .field("max_body", &self.max_body)
            .field("readers", &self.readers)
            .finish()
    }
}

/// Why `rem serve` stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The database could not be opened (`Locked` names the holder).
    #[error(transparent)]
    Open(#[from] Error),
    /// Another `rem serve` already serves this database.
    #[error(
        "database {path} is already served by process {pid} at {url}; use that server (clients find it by themselves)"
    )]
    AlreadyServed {
        /// The database directory.
        path: String,
        /// The serving process.
        pid: u32,
        /// Its URL.
        url: String,
    },
    /// A refused setting (a public address without a token, no path...).
    #[error("{0}")]
    Config(String),
    /// Listening or serving failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The OS error.
        source: std::io::Error,
    },
}

impl ServeOptions {
    /// Options to serve `open` on a free loopback port, without a token, with the default body
    /// limit and `readers` read instances.
    pub fn loopback(open: OpenOptions, readers: usize) -> ServeOptions {
        ServeOptions {
            open,
            listen: Some(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
            socket: None,
            token: None,
            token_file: None,
            max_body: DEFAULT_MAX_BODY,
            readers,
        }
    }
}

/// A server running on a thread of this process (see [`spawn`]).
pub struct Running {
    /// Its URL.
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<Result<(), ServeError>>>,
}

impl Running {
    /// Shut the server down as SIGTERM would (calls in flight finish) and wait for it.
    /// Errors: what serving failed with.
    pub fn stop(mut self) -> Result<(), ServeError> {
        self.finish()
    }

    fn finish(&mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(ServeError::Config("the server thread panicked".into())),
            None => Ok(()),
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

/// Serve `options` on a new thread of this process (a server embedded in a program, or in a
/// test); returns once it listens. Errors: as [`serve`], when starting.
pub fn spawn(options: ServeOptions) -> Result<Running, ServeError> {
    let (url_tx, url_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::spawn(move || {
        serve_until(
            options,
            |url| {
                let _ = url_tx.send(url.to_string());
            },
            async {
                let _ = stop_rx.await;
            },
        )
    });
    match url_rx.recv() {
        Ok(url) => Ok(Running { url, stop: Some(stop_tx), thread: Some(thread) }),
        // It stopped before listening: its error says why.
        Err(_) => Err(thread
            .join()
            .unwrap_or_else(|_| Err(ServeError::Config("the server thread panicked".into())))
            .err()
            .unwrap_or_else(|| ServeError::Config("the server stopped before listening".into()))),
    }
}

/// The default number of read instances: two per core, at least 4.
pub fn default_readers() -> usize {
    std::thread::available_parallelism().map_or(4, |n| (2 * n.get()).max(4))
}

/// Start structured logging to stderr: the filter from `$P8_LOG` (default `warn`; `info` logs
/// every request with its id, status and time), JSON lines when `$P8_LOG_FORMAT=json`.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("P8_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let _ = if std::env::var("P8_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Serve the database until SIGINT or SIGTERM; `ready(url)` is called once it listens (and the
/// endpoint file is written). Blocks. On shutdown the calls in flight finish (each commits or
/// rolls back whole), then the endpoint file and socket are removed and the file is closed.
/// Errors: see [`ServeError`].
pub fn serve(options: ServeOptions, ready: impl FnOnce(&str)) -> Result<(), ServeError> {
    serve_until(options, ready, shutdown_signal())
}

/// [`serve`], shutting down when `stop` completes instead of on a signal (for a server embedded
/// in another program, and for tests).
pub fn serve_until(
    options: ServeOptions,
    ready: impl FnOnce(&str),
    stop: impl std::future::Future<Output = ()>,
) -> Result<(), ServeError> {
    let dir = options.open.path.clone().ok_or_else(|| ServeError::Config("rem serve needs a database path".into()))?;
    if let Some(addr) = options.listen
        && !addr.ip().is_loopback()
        && options.token.is_none()
    {
        return Err(ServeError::Config(format!(
            "refusing to listen on {addr} without a token: anyone who can reach it could read and change the \
             database; give --token-file FILE (or P8_SERVER_TOKEN), or listen on 127.0.0.1"
        )));
    }
    if options.listen.is_none() && options.socket.is_none() {
        return Err(ServeError::Config("give --listen ADDR, --socket PATH or both".into()));
    }
    // A server never waits for the file: another holder is either a server (named) or a process
    // the user should close first.
    let root = match Database::open(options.open.clone().busy_timeout(std::time::Duration::ZERO)) {
        Ok(db) => db,
        Err(Error::Locked { path, holder }) => {
            return Err(match Endpoint::live(&path) {
                Some(e) => ServeError::AlreadyServed { path: path.display().to_string(), pid: e.pid, url: e.url },
                None => ServeError::Open(Error::Locked { path, holder }),
            });
        }
        Err(e) => return Err(e.into()),
    };
    let engine = root.engine_version()?;
    let state = Arc::new(http::AppState {
        pool: Arc::new(Pool::new(root, options.readers)),
        token: options.token.clone(),
        max_body: options.max_body,
        path: dir.clone(),
        engine,
        next_id: AtomicU64::new(0),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("rem-serve")
        .max_blocking_threads(options.readers + 8)
        .build()
        .map_err(|source| ServeError::Io { context: "starting the server runtime".into(), source })?;
    let bound_socket = std::sync::atomic::AtomicBool::new(false);
    let served = runtime.block_on(run(state.clone(), &options, &dir, ready, stop, &bound_socket));
    Endpoint::remove_own(&dir);
    if let Some(sock) = &options.socket
        && bound_socket.load(std::sync::atomic::Ordering::Relaxed)
    {
        let _ = std::fs::remove_file(sock);
    }
    drop(runtime);
    state.pool.clear();
    served
}

async fn run(
    state: Arc<http::AppState>,
    options: &ServeOptions,
    dir: &std::path::Path,
    ready: impl FnOnce(&str),
    stop: impl std::future::Future<Output = ()>,
    bound_socket: &std::sync::atomic::AtomicBool,
) -> Result<(), ServeError> {
    let app = http::router(state);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut servers = Vec::new();
    let mut url = None;
    if let Some(addr) = options.listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Io { context: format!("cannot listen on {addr}"), source })?;
        let bound =
            listener.local_addr().map_err(|source| ServeError::Io { context: "local address".into(), source })?;
        url = Some(format!("http://{bound}"));
        let mut stop = stop_rx.clone();
        let app = app.clone();
        servers.push(tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(async move { _ = stop.wait_for(|s| *s).await }).await
        }));
    }
    if let Some(sock) = &options.socket {
        // A socket file left by a server that is gone (nothing answers on it) is replaced;
        // anything else at the path is left alone, and binding then fails naming it.
        if std::fs::symlink_metadata(sock).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()))
            && std::os::unix::net::UnixStream::connect(sock).is_err()
        {
            let _ = std::fs::remove_file(sock);
        }
        // Created owner-only: no moment when another user could connect.
        let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
        let bound = tokio::net::UnixListener::bind(sock);
        rustix::process::umask(old);
        let listener = bound
            .map_err(|source| ServeError::Io { context: format!("cannot listen on {}", sock.display()), source })?;
        bound_socket.store(true, std::sync::atomic::Ordering::Relaxed);
        url.get_or_insert_with(|| format!("unix:{}", sock.display()));
        let mut stop = stop_rx.clone();
        servers.push(tokio::spawn(async move {
            axum::serve(listener, app).with_graceful_shutdown(async move { _ = stop.wait_for(|s| *s).await }).await
        }));
    }
    let url = url.unwrap_or_default();
    let endpoint = Endpoint {
        url: url.clone(),
        pid: std::process::id(),
        token_file: options.token_file.clone(),
        started_unix: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()),
    };
    endpoint.write(dir).map_err(|source| ServeError::Io {
        context: format!("cannot write {}", Endpoint::file(dir).display()),
        source,
    })?;
    tracing::info!(url = %url, path = %dir.display(), "serving");
    ready(&url);
    stop.await;
    tracing::info!("shutting down: finishing the calls in flight");
    let _ = stop_tx.send(true);
    for s in servers {
        match s.await {
            Ok(Ok(())) => {}
            Ok(Err(source)) => return Err(ServeError::Io { context: "serving".into(), source }),
            Err(e) => return Err(ServeError::Config(format!("the server task failed: {e}"))),
        }
    }
    Ok(())
}

/// SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).ok();
    let term = async {
        match term.as_mut() {
            Some(t) => {
                t.recv().await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term => {}
    }
}
