//! A throwaway MariaDB server for tests, the demo and benchmarks.
//!
//! [`TestServer::start`] creates a fresh data directory under the system temp dir, starts
//! `mariadbd` on a free port of 127.0.0.1, locks the accounts down (no anonymous users, a random
//! root password) and removes everything again when dropped. [`shared`] gives one server per
//! test binary. A small `sh` watchdog per server stops it and deletes its directory once the
//! test process is gone, so nothing leaks even when `Drop` never runs (statics, aborts, Ctrl-C).

use std::collections::hash_map::RandomState;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};

/// How long `mariadbd` may take to accept TCP connections.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the start-up wait looks at the server.
const POLL_INTERVAL: Duration = Duration::from_millis(50);
/// How long a SIGTERM'd server may take to shut down before it gets SIGKILL.
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts at starting when another process grabs the chosen port first.
const PORT_ATTEMPTS: u32 = 3;
/// Lines of a log file quoted in an error.
const LOG_TAIL_LINES: usize = 40;
/// `sun_path` of a Unix socket address holds 108 bytes including the terminating NUL.
const MAX_SOCKET_PATH: usize = 107;

/// Server options beyond the data directory and the addresses, checked against
/// `mariadbd --help --verbose` of MariaDB 10.11: big packets and buffers for the benchmarks,
/// relaxed durability since the data is thrown away, utf8mb4 as the client tests expect.
const SERVER_TUNING: &[&str] = &[
    "--max-allowed-packet=256M",
    "--innodb-buffer-pool-size=256M",
    "--innodb-log-file-size=256M",
    "--innodb-flush-log-at-trx-commit=2",
    "--skip-name-resolve",
    "--max-connections=500",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
];

/// Stops the server and deletes its data directory once the process `$1` is gone.
/// `$2` is the server's pid, `$3` the data directory.
const WATCHDOG_SCRIPT: &str = r#"
while kill -0 "$1" 2>/dev/null; do sleep 1; done
kill -TERM "$2" 2>/dev/null
i=0
while kill -0 "$2" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i+1)); done
kill -KILL "$2" 2>/dev/null
rm -rf "$3"
"#;

/// A running, private MariaDB server listening on `127.0.0.1:port`.
///
/// Accounts: `root@localhost` (Unix socket) and `root@127.0.0.1` (TCP), both with
/// `root_password` and all privileges; no anonymous or password-less accounts. The database
/// `test` exists. Dropping the value stops the server and deletes its data directory.
pub struct TestServer {
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// The password of `root@localhost` and `root@127.0.0.1` (random, alphanumeric).
    pub root_password: String,
    datadir: PathBuf,
    client: PathBuf,
    server: Child,
    watchdog: Option<Child>,
    /// How to start it again after [`TestServer::kill`].
    launch: Launch,
}

/// What starting `mariadbd` takes, kept for restarts.
#[derive(Clone)]
struct Launch {
    server: PathBuf,
    /// Options after ours, for every start.
    extra: Vec<String>,
    /// The account it runs as: `mysql` for a Galera node started by root (see [`ServerSpec`]).
    user: Option<String>,
}

/// A server beyond the plain one of [`TestServer::start`]: a Galera node or a replica.
#[derive(Debug, Clone, Default)]
pub struct ServerSpec {
    /// Options after ours, for every start (restarts too).
    pub extra: Vec<String>,
    /// Options for the first start only (`--wsrep-new-cluster`).
    pub first_start: Vec<String>,
    /// The TCP port; None picks a free one.
    pub port: Option<u16>,
    /// Whether the data directory comes by state transfer from a cluster: no mariadb-install-db,
    /// and the accounts (with `root_password`) come with the data.
    pub joins_cluster: bool,
    /// The root password of a node that joins a cluster (the cluster's); None makes a new one.
    pub root_password: Option<String>,
    /// Run as the `mysql` account when started by root. A Galera joiner's rsync daemon, started
    /// by root, drops to `nobody` and cannot write a root-owned data directory.
    pub as_mysql_user: bool,
}

/// Raised when another process took the port between choosing it and the server binding it.
#[derive(Debug)]
struct PortInUse(u16);

impl fmt::Display for PortInUse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "port {} was taken by another process", self.0)
    }
}

impl std::error::Error for PortInUse {}

/// The MariaDB programs a server needs.
struct Programs {
    server: PathBuf,
    install_db: PathBuf,
    client: PathBuf,
}

impl TestServer {
    /// Starts a new server in a fresh data directory; takes a few seconds.
    ///
    /// When `mariadbd` is missing and the process runs as root, MariaDB is installed with
    /// `apt-get install -y mariadb-server` first; otherwise the error says how to install it.
    pub fn start() -> Result<TestServer> {
        Self::start_with_args(&[])
    }

    /// Like [`TestServer::start`], with extra `mariadbd` options (e.g. `--ssl-cert=..`) after ours.
    pub fn start_with_args(extra: &[String]) -> Result<TestServer> {
        Self::start_spec(&ServerSpec { extra: extra.to_vec(), ..ServerSpec::default() })
    }

    /// Starts a server as `spec` says; a chosen port is not retried when another process takes it.
    pub fn start_spec(spec: &ServerSpec) -> Result<TestServer> {
        let programs = Programs::find_or_install()?;
        let mut attempt = 1;
        loop {
            match Self::start_once(&programs, spec) {
                Err(e) if e.downcast_ref::<PortInUse>().is_some() && attempt < PORT_ATTEMPTS && spec.port.is_none() => {
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    fn start_once(programs: &Programs, spec: &ServerSpec) -> Result<TestServer> {
        let datadir = unique_datadir()?;
        let socket = datadir.join("sock");
        if socket.as_os_str().len() > MAX_SOCKET_PATH {
            let _ = fs::remove_dir_all(&datadir);
            bail!(
                "the socket path {} is longer than a Unix socket allows; set TMPDIR to a shorter directory",
                socket.display()
            );
        }
        let user = (spec.as_mysql_user && is_root()).then(|| "mysql".to_string());
        let prepared = if spec.joins_cluster { Ok(()) } else { install_db(programs, &datadir, user.as_deref()) };
        let prepared = prepared.and_then(|()| match &user {
            Some(user) => chown_recursive(&datadir, user),
            None => Ok(()),
        });
        if let Err(e) = prepared {
            let _ = fs::remove_dir_all(&datadir);
            return Err(e);
        }

        let port = match spec.port {
            Some(port) => port,
            None => free_port()?,
        };
        let launch = Launch { server: programs.server.clone(), extra: spec.extra.clone(), user };
        let first: Vec<String> = launch.extra.iter().chain(&spec.first_start).cloned().collect();
        let child = match spawn_server(&launch, &datadir, port, &first) {
            Ok(child) => child,
            Err(e) => {
                let _ = fs::remove_dir_all(&datadir);
                return Err(e);
            }
        };
        // From here on, Drop stops the server and deletes the directory on every error path.
        let mut server = TestServer {
            port,
            root_password: spec.root_password.clone().unwrap_or_else(random_password),
            datadir,
            client: programs.client.clone(),
            server: child,
            watchdog: None,
            launch,
        };
        server.watchdog = Some(server.spawn_watchdog()?);
        server.wait_until_ready()?;
        if spec.joins_cluster {
            server.write_client_cnf()?;
        } else {
            server.secure_accounts()?;
        }
        Ok(server)
    }

    /// SIGKILL, as in a crash: no clean shutdown; the data directory stays for [`TestServer::restart`].
    pub fn kill(&mut self) {
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }

    /// Starts the server again on its data directory and port (after [`TestServer::kill`]) and
    /// waits until it accepts connections.
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        self.server = spawn_server(&self.launch, &self.datadir, self.port, &self.launch.extra)?;
        self.watchdog = Some(self.spawn_watchdog()?);
        self.wait_until_ready()
    }

    /// Runs SQL as root through the `mariadb` command-line client over the Unix socket, in
    /// batch mode without column names (`-N -B`), and returns its standard output.
    ///
    /// For out-of-band actions in tests: killing connections, installing plugins, creating
    /// users. Several statements separated by `;` are allowed; the first failing one ends the
    /// run with an error carrying the client's message.
    pub fn admin_sql(&self, sql: &str) -> Result<String> {
        let defaults = format!("--defaults-file={}", self.datadir.join("client.cnf").display());
        run_client(&self.client, &defaults, &self.socket_path(), sql)
    }

    /// A connection URL for `root@127.0.0.1` and the given database, e.g.
    /// `mysql://root:PASS@127.0.0.1:PORT/test`.
    pub fn url(&self, db: &str) -> String {
        format!("mysql://root:{}@127.0.0.1:{}/{}", percent_encode(&self.root_password), self.port, percent_encode(db))
    }

    /// The `mariadb` command-line client the server came with.
    pub fn client(&self) -> &Path {
        &self.client
    }

    /// The server's data directory (deleted on drop).
    pub fn datadir(&self) -> &Path {
        &self.datadir
    }

    /// The server's Unix socket, inside the data directory.
    pub fn socket_path(&self) -> PathBuf {
        self.datadir.join("sock")
    }

    /// The process id of `mariadbd`.
    pub fn pid(&self) -> u32 {
        self.server.id()
    }

    /// Starts the `sh` loop that cleans up after this server once the test process exits.
    fn spawn_watchdog(&self) -> Result<Child> {
        let mut command = Command::new("sh");
        command
            .arg("-c")
            .arg(WATCHDOG_SCRIPT)
            .arg("cymysql-wasi-watchdog")
            .arg(std::process::id().to_string())
            .arg(self.server.id().to_string())
            .arg(&self.datadir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so a Ctrl-C aimed at the test run does not kill the cleaner.
        command.process_group(0);
        command.spawn().context("starting the MariaDB watchdog (sh)")
    }

    /// Waits until the server accepts TCP connections and its Unix socket exists.
    fn wait_until_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let socket = self.socket_path();
        loop {
            if let Some(status) = self.server.try_wait().context("waiting for mariadbd")? {
                let log = log_tail(&self.datadir.join("err.log"));
                let error = anyhow!("mariadbd exited during start-up ({status}); err.log ends with:\n{log}");
                if log.contains("Address already in use") {
                    return Err(error.context(PortInUse(self.port)));
                }
                return Err(error);
            }
            // The socket is checked too: it lives in our directory, so unlike the port it
            // cannot belong to a process that grabbed the port before our server did. It is
            // connected to, not just seen: mariadbd binds it a moment before it listens on it, and
            // a client in between is refused (seen with two test modules starting at once).
            if std::os::unix::net::UnixStream::connect(&socket).is_ok()
                && TcpStream::connect_timeout(&addr, POLL_INTERVAL).is_ok()
            {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!(
                    "mariadbd did not accept connections on {addr} within {}s; err.log ends with:\n{}",
                    STARTUP_TIMEOUT.as_secs(),
                    log_tail(&self.datadir.join("err.log"))
                );
            }
            thread::sleep(POLL_INTERVAL);
        }
    }

    /// Removes anonymous and password-less accounts, sets the root password, creates
    /// `test`, and writes the option file that `admin_sql` logs in with.
    fn secure_accounts(&self) -> Result<()> {
        let socket = self.socket_path();
        // mariadb-install-db also creates password-less root@<hostname> and root@::1, and
        // anonymous users unless --skip-test-db: drop all of them, whatever the version made.
        let stray = run_client(
            &self.client,
            "--no-defaults",
            &socket,
            "SELECT User, Host FROM mysql.user \
             WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '127.0.0.1'))",
        )?;
        let mut sql = String::new();
        for line in stray.lines() {
            let (user, host) = line.split_once('\t').unwrap_or((line, ""));
            sql.push_str(&format!("DROP USER IF EXISTS {}@{};\n", sql_string(user), sql_string(host)));
        }
        let password = sql_string(&self.root_password);
        sql.push_str(&format!(
            "ALTER USER 'root'@'localhost' IDENTIFIED BY {password};\n\
             CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY {password};\n\
             ALTER USER 'root'@'127.0.0.1' IDENTIFIED BY {password};\n\
             GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n\
             CREATE DATABASE IF NOT EXISTS test;\n\
             FLUSH PRIVILEGES;\n"
        ));
        run_client(&self.client, "--no-defaults", &socket, &sql).context("securing the test server's accounts")?;
        self.write_client_cnf()
    }

    /// The option file that `admin_sql` logs in with.
    fn write_client_cnf(&self) -> Result<()> {
        // The password goes into a private option file rather than onto command lines, where
        // `ps` would show it.
        // Not create_new: a Galera joiner may have received the donor's copy with its data.
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(self.datadir.join("client.cnf"))
            .context("writing client.cnf")?;
        writeln!(file, "[client]\nuser=root\npassword={}", self.root_password).context("writing client.cnf")?;
        Ok(())
    }

    /// SIGTERM, up to ten seconds for a clean shutdown, then SIGKILL.
    fn stop_server(&mut self) {
        if matches!(self.server.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.server.id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + SHUTDOWN_TIMEOUT;
        while Instant::now() < deadline {
            match self.server.try_wait() {
                Ok(Some(_)) => return,
                Ok(None) => thread::sleep(POLL_INTERVAL),
                Err(_) => break,
            }
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // The watchdog goes first: left running, it would later signal a pid that may by then
        // belong to an unrelated process.
        if let Some(mut watchdog) = self.watchdog.take() {
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
        self.stop_server();
        let _ = fs::remove_dir_all(&self.datadir);
    }
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("port", &self.port)
            .field("root_password", &"<redacted>")
            .field("datadir", &self.datadir)
            .field("pid", &self.server.id())
            .finish()
    }
}

/// The server shared by all tests of this test binary, started on first use.
///
/// It is never dropped (statics are not); its watchdog stops it and deletes its data directory
/// after the test process exits.
///
/// # Panics
///
/// When the server cannot be started; the panic message says why. Use [`try_shared`] to handle
/// that instead.
pub fn shared() -> &'static TestServer {
    match try_shared() {
        Ok(server) => server,
        Err(e) => panic!("{e:#}"),
    }
}

/// Like [`shared`], but returns the start-up error (the same one on every call) instead of
/// panicking.
pub fn try_shared() -> Result<&'static TestServer> {
    // The error is kept as text: anyhow::Error is not Clone, and every caller needs it.
    static SHARED: OnceLock<std::result::Result<TestServer, String>> = OnceLock::new();
    match SHARED.get_or_init(|| TestServer::start().map_err(|e| format!("{e:#}"))) {
        Ok(server) => Ok(server),
        Err(message) => Err(anyhow!("the shared test MariaDB did not start: {message}")),
    }
}

impl Programs {
    fn find() -> Option<Programs> {
        Some(Programs {
            server: find_program(&["mariadbd", "mysqld"], &["/usr/sbin/mariadbd", "/usr/sbin/mysqld"])?,
            install_db: find_program(
                &["mariadb-install-db", "mysql_install_db"],
                &["/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db"],
            )?,
            client: find_program(&["mariadb", "mysql"], &["/usr/bin/mariadb", "/usr/bin/mysql"])?,
        })
    }

    fn find_or_install() -> Result<Programs> {
        if let Some(programs) = Programs::find() {
            return Ok(programs);
        }
        if !is_root() {
            bail!(
                "MariaDB is not installed (no mariadbd, mariadb-install-db and mariadb found on PATH \
                 or in /usr/sbin, /usr/bin). Install it with `sudo apt-get install -y mariadb-server` \
                 (Debian/Ubuntu) or your system's mariadb-server package, then rerun the tests."
            );
        }
        // Test threads of one binary must not run apt-get side by side.
        static INSTALL: Mutex<()> = Mutex::new(());
        let _guard = INSTALL.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(programs) = Programs::find() {
            return Ok(programs);
        }
        apt_install_mariadb()?;
        Programs::find().ok_or_else(|| anyhow!("apt-get installed mariadb-server, but mariadbd is still not found"))
    }
}

/// `apt-get update && apt-get install -y mariadb-server`, quietly, output to a log file.
fn apt_install_mariadb() -> Result<()> {
    let log_path = std::env::temp_dir().join(format!("cymysql-wasi-apt-{}.log", std::process::id()));
    let log = File::create(&log_path).with_context(|| format!("creating {}", log_path.display()))?;
    // Another apt may be running (unattended upgrades, a provisioning script): wait for its lock.
    let lock_wait = "DPkg::Lock::Timeout=600";
    for args in
        [&["-q", "-o", lock_wait, "update"][..], &["-q", "-y", "-o", lock_wait, "install", "mariadb-server"][..]]
    {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log.try_clone()?)
            .status()
            .context("running apt-get")?;
        if !status.success() {
            bail!(
                "`apt-get {}` failed ({status}); {} ends with:\n{}",
                args.join(" "),
                log_path.display(),
                log_tail(&log_path)
            );
        }
    }
    let _ = fs::remove_file(&log_path);
    Ok(())
}

/// `mariadb-install-db` into an empty directory, with root reachable by password (not by
/// unix_socket authentication) and no test database.
fn install_db(programs: &Programs, datadir: &Path, user: Option<&str>) -> Result<()> {
    let log_path = datadir.join("install.log");
    let log = File::create(&log_path).context("creating install.log")?;
    let mut command = Command::new(&programs.install_db);
    // --no-defaults must come first, or the system's my.cnf leaks into the throwaway server.
    command.arg("--no-defaults");
    match user {
        Some(user) => {
            command.arg(format!("--user={user}"));
        }
        // mariadbd refuses to run as root unless told to, and install-db starts one.
        None if is_root() => {
            command.arg("--user=root");
        }
        None => {}
    }
    let status = command
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db")
        .arg(format!("--datadir={}", datadir.display()))
        // A private tmpdir: a starting server deletes every #sql* file in its tmpdir, including
        // the temporary tables of another server bootstrapping at the same time.
        .arg(format!("--tmpdir={}", datadir.display()))
        .current_dir(datadir)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .status()
        .with_context(|| format!("running {}", programs.install_db.display()))?;
    if !status.success() {
        bail!("mariadb-install-db failed ({status}); install.log ends with:\n{}", log_tail(&log_path));
    }
    Ok(())
}

fn spawn_server(launch: &Launch, datadir: &Path, port: u16, extra: &[String]) -> Result<Child> {
    let mut command = Command::new(&launch.server);
    command.arg("--no-defaults");
    match &launch.user {
        Some(user) => {
            command.arg(format!("--user={user}"));
        }
        None if is_root() => {
            command.arg("--user=root");
        }
        None => {}
    }
    command
        .arg(format!("--datadir={}", datadir.display()))
        .arg(format!("--tmpdir={}", datadir.display()))
        .arg(format!("--port={port}"))
        .arg("--bind-address=127.0.0.1")
        .arg(format!("--socket={}", datadir.join("sock").display()))
        .arg(format!("--pid-file={}", datadir.join("pid").display()))
        .arg(format!("--log-error={}", datadir.join("err.log").display()))
        .args(SERVER_TUNING)
        .args(extra)
        .current_dir(datadir)
        // Everything goes to err.log; an inherited pipe would keep `cargo test` waiting.
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", launch.server.display()))
}

/// Gives a data directory to the account a server runs as.
fn chown_recursive(dir: &Path, user: &str) -> Result<()> {
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{user}:"))
        .arg(dir)
        .stdin(Stdio::null())
        .status()
        .context("running chown")?;
    if !status.success() {
        bail!("chown -R {user}: {} failed ({status})", dir.display());
    }
    Ok(())
}

/// Runs `sql` through the `mariadb` client on stdin (no length limit, unlike `-e`) and returns
/// its standard output. `defaults` is `--no-defaults` or `--defaults-file=..`.
fn run_client(client: &Path, defaults: &str, socket: &Path, sql: &str) -> Result<String> {
    let mut child = Command::new(client)
        .arg(defaults)
        .arg("--user=root")
        .arg(format!("--socket={}", socket.display()))
        .arg("--protocol=socket")
        .arg("--batch")
        .arg("--skip-column-names")
        .arg("--default-character-set=utf8mb4")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", client.display()))?;
    // Written from a thread: a large script and a large result would otherwise deadlock on
    // full pipes.
    let writer = child.stdin.take().map(|mut stdin| {
        let sql = sql.to_owned();
        thread::spawn(move || stdin.write_all(sql.as_bytes()))
    });
    let output = child.wait_with_output().context("waiting for the mariadb client")?;
    let write_result = writer.map(|w| w.join());
    if !output.status.success() {
        bail!("the mariadb client failed ({}): {}", output.status, String::from_utf8_lossy(&output.stderr).trim());
    }
    if let Some(Ok(Err(e))) = write_result {
        return Err(e).context("sending SQL to the mariadb client");
    }
    String::from_utf8(output.stdout).context("the mariadb client printed invalid UTF-8")
}

/// `<temp>/cymysql-wasi-mariadb-<pid>-<n>-<nanos>`, created empty.
fn unique_datadir() -> Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("cymysql-wasi-mariadb-{}-{n}-{nanos}", std::process::id()));
    fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// A port the kernel considers free right now; another process may still take it before the
/// server binds it, which `start` handles by retrying.
pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

fn find_program(names: &[&str], fallbacks: &[&str]) -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|path| {
        std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |name| dir.join(name))).collect::<Vec<_>>()
    });
    on_path.chain(fallbacks.iter().map(PathBuf::from)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn is_root() -> bool {
    static ROOT: OnceLock<bool> = OnceLock::new();
    *ROOT.get_or_init(|| {
        Command::new("id").arg("-u").output().is_ok_and(|out| out.status.success() && out.stdout.trim_ascii() == b"0")
    })
}

/// The last lines of a log file, for error messages.
fn log_tail(path: &Path) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let skip = text.lines().count().saturating_sub(LOG_TAIL_LINES);
            text.lines().skip(skip).collect::<Vec<_>>().join("\n")
        }
        Err(e) => format!("({} unreadable: {e})", path.display()),
    }
}

/// 24 random letters and digits: safe in SQL literals, URLs and option files without escaping.
pub fn random_password() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut password = String::new();
    while password.len() < 24 {
        // RandomState is seeded from the OS's random source: no rand crate needed.
        let mut hasher = RandomState::new().build_hasher();
        hasher.write_usize(password.len());
        let mut bits = hasher.finish();
        for _ in 0..8 {
            let index = (bits % ALPHABET.len() as u64) as usize;
            password.push(char::from(ALPHABET[index]));
            bits /= ALPHABET.len() as u64;
        }
    }
    password
}

/// A single-quoted SQL string literal.
pub fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "''"))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
