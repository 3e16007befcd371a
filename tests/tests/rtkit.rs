//! Realtime priority through RealtimeKit, as a desktop user gets it: a user with no rtprio limit
//! (not in the `audio` group), on a system where rtkit runs. The test starts the real services on
//! a private system bus (dbus-daemon with Debian's system policy, polkitd, rtkit-daemon), allows
//! rtkit's actions to the test's user in a polkit rule (on a desktop, polkit allows them to the
//! active login session, which a CI machine has none of), and runs `overdub` as `nobody`:
//!
//! - with no rtkit on the bus, `overdub devices` says realtime was refused, and why;
//! - with rtkit, it says rtkit granted it, and a recording on the virtual device with cpal-style
//!   split callbacks reports its callback threads granted by rtkit, which the kernel confirms
//!   (`SCHED_RR` on the callback threads in `/proc`, while it records).
//!
//! Needs root (to start the daemons and become `nobody`), as CI runs; `.ci/run` installs `dbus`,
//! `polkitd` and `rtkit`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use overdub_tests::{AS_NOBODY, open_to_all, overdub_as};

/// The rule this test adds while it runs, and takes away after: rtkit's actions for `nobody`.
const RULE: &str = "/etc/polkit-1/rules.d/49-overdub-test-rtkit.rules";

/// A process stopped (and reaped) when dropped.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The polkit rule, removed when dropped.
struct Rule;

impl Drop for Rule {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(RULE);
    }
}

/// A private system bus: its address, its folder (which `nobody` can enter) and its processes.
struct Bus {
    address: String,
    dir: tempfile::TempDir,
    daemons: Vec<Daemon>,
}

impl Bus {
    /// dbus-daemon with Debian's system bus policy, listening on a socket of its own.
    fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        open_to_all(dir.path());
        let socket = dir.path().join("bus");
        let policy = std::fs::read_to_string("/usr/share/dbus-1/system.conf")
            .expect("dbus's system.conf: apt-get install dbus (.ci/run installs it)");
        // Its own socket, no pid file, no activation (the test starts each service itself), and
        // the services' policies from the system's folder.
        let conf = policy
            .replace(
                "<listen>unix:path=/run/dbus/system_bus_socket</listen>",
                &format!("<listen>unix:path={}</listen>", socket.display()),
            )
            .replace("<pidfile>/run/dbus/pid</pidfile>", "")
            .replace("<standard_system_servicedirs/>", "")
            .replace(
                "<includedir>system.d</includedir>",
                "<includedir>/usr/share/dbus-1/system.d</includedir>",
            );
        assert!(conf.contains(&socket.display().to_string()), "{conf}");
        let conf_path = dir.path().join("bus.conf");
        std::fs::write(&conf_path, conf).expect("bus config");
        let daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", conf_path.display()))
            .arg("--nofork")
            .stdout(Stdio::null())
            .spawn()
            .expect("dbus-daemon (apt-get install dbus)");
        let bus = Self {
            address: format!("unix:path={}", socket.display()),
            dir,
            daemons: vec![Daemon(daemon)],
        };
        bus.wait_for(None);
        bus
    }

    /// Start a service on this bus and wait until it owns `name`. Its output goes nowhere:
    /// rtkit-daemon forbids itself to write files, and dies writing its log to one.
    fn start_service(&mut self, program: &str, args: &[&str], name: &str) {
        let child = Command::new(program)
            .args(args)
            .env("DBUS_SYSTEM_BUS_ADDRESS", &self.address)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{program}: {e} (.ci/run installs it)"));
        self.daemons.push(Daemon(child));
        self.wait_for(Some(name));
    }

    /// Wait until the bus answers and, if given, `name` is on it.
    fn wait_for(&self, name: Option<&str>) {
        let start = Instant::now();
        loop {
            let out = Command::new("dbus-send")
                .args([
                    &format!("--bus={}", self.address),
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/",
                    "org.freedesktop.DBus.ListNames",
                ])
                .output()
                .expect("dbus-send");
            let names = String::from_utf8_lossy(&out.stdout);
            if out.status.success() && name.is_none_or(|n| names.contains(&format!("\"{n}\""))) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "{name:?} did not appear on the private bus: {names}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `overdub ARGS` as `nobody` (no rtprio limit, no capabilities), with this bus as the
    /// system bus and its own config folders.
    fn overdub_as_nobody(&self, args: &[&str]) -> Command {
        let mut cmd = overdub_as(&AS_NOBODY, &self.dir.path().join("home"));
        cmd.args(args).env("DBUS_SYSTEM_BUS_ADDRESS", &self.address);
        cmd
    }
}

/// `overdub devices --host virtual --json` as nobody: what it says of the callback threads.
fn callback_priority(bus: &Bus) -> String {
    let out = bus
        .overdub_as_nobody(&["devices", "--host", "virtual", "--json"])
        .output()
        .expect("run overdub");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("devices --json");
    doc["callback_priority"]
        .as_str()
        .expect("callback_priority")
        .to_string()
}

/// The scheduling policy of each thread of `pid` (field 41 of `/proc/PID/task/TID/stat`), with
/// the thread's id and name.
fn thread_policies(pid: u32) -> Vec<(String, String, u32)> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| {
            let stat = std::fs::read_to_string(t.path().join("stat")).ok()?;
            let (name, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
            // Fields after the name start at field 3; the policy is field 41.
            let policy = rest.split_whitespace().nth(41 - 3)?.parse().ok()?;
            Some((
                t.file_name().to_string_lossy().into_owned(),
                name.to_string(),
                policy,
            ))
        })
        .collect()
}

const SCHED_RR: u32 = 2;

#[test]
fn rtkit_grants_realtime_to_a_user_without_an_rtprio_limit() {
    use std::os::unix::fs::MetadataExt;
    // /proc/self belongs to the effective user.
    assert_eq!(
        std::fs::metadata("/proc/self").map(|m| m.uid()).ok(),
        Some(0),
        "this test starts system services and runs overdub as nobody: run it as root (CI does)"
    );
    let mut bus = Bus::start();
    std::fs::create_dir_all("/etc/polkit-1/rules.d").expect("polkit rules folder");
    std::fs::write(
        RULE,
        "polkit.addRule(function(action, subject) {\n  \
         if (action.id.indexOf(\"org.freedesktop.RealtimeKit1.\") == 0 && \
         subject.user == \"nobody\") {\n    return polkit.Result.YES;\n  }\n});\n",
    )
    .expect("polkit rule");
    let _rule = Rule;
    bus.start_service(
        "/usr/lib/polkit-1/polkitd",
        &["--no-debug"],
        "org.freedesktop.PolicyKit1",
    );

    // No rtkit: the system refuses SCHED_FIFO, and nothing grants it.
    let refused = callback_priority(&bus);
    eprintln!("without rtkit: {refused}");
    assert!(
        refused.starts_with("normal (realtime refused") && refused.contains("rtkit"),
        "{refused}"
    );

    bus.start_service(
        "/usr/libexec/rtkit-daemon",
        &[],
        "org.freedesktop.RealtimeKit1",
    );
    let granted = callback_priority(&bus);
    eprintln!("with rtkit: {granted}");
    assert_eq!(granted, "realtime (granted by rtkit)");

    // A real stream: the virtual device's split callbacks, two threads as cpal's ALSA host has.
    let session = bus.dir.path().join("home").join("session");
    let s = session.to_string_lossy().into_owned();
    let out = bus
        .overdub_as_nobody(&["new", &s, "--tracks", "1"])
        .output()
        .expect("overdub new");
    assert!(out.status.success(), "{out:?}");
    let rec = bus
        .overdub_as_nobody(&[
            "record",
            &s,
            "--seconds",
            "4",
            "--host",
            "virtual",
            "--callbacks",
            "threads",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("overdub record");
    // The setpriv process execs overdub, so the pid is overdub's.
    let mut seen: Vec<(String, String)> = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(200));
        for (tid, name, policy) in thread_policies(rec.id()) {
            if policy == SCHED_RR && !seen.iter().any(|(t, _)| *t == tid) {
                seen.push((tid, name));
            }
        }
    }
    let out = rec.wait_with_output().expect("overdub record");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{stdout}\nthreads at SCHED_RR: {seen:?}");
    assert!(
        stdout.contains("callback threads: realtime (granted by rtkit)"),
        "{stdout}"
    );
    // Both callback threads of the double (input and output), as the kernel sees them.
    assert!(
        seen.len() >= 2,
        "threads at SCHED_RR while recording: {seen:?}"
    );
}
