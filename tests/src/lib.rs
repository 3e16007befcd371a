//! Support for the end-to-end tests in `tests/tests/`: run the real `overdub` binary, start a
//! private JACK dummy server, read the files it writes. Tests fail (they do not skip) when
//! something they need, such as `jackd`, is missing: `.ci/run` installs it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

mod clicks;
mod files;
mod in_step;
mod jack_server;
mod minute;
mod spawned;
pub mod witness;
mod world;
mod xvfb;

pub use clicks::*;
pub use files::*;
pub use in_step::*;
pub use jack_server::*;
pub use minute::*;
pub use spawned::*;
pub use world::*;
pub use xvfb::*;

/// The `overdub` binary: `$OVERDUB_BIN` (to test an installed package), else the one cargo built
/// beside this test.
pub fn overdub_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("OVERDUB_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps");
    dir.join(format!("overdub{}", std::env::consts::EXE_SUFFIX))
}

/// `setpriv` and its arguments that run the command after them as `nobody` (no group, no
/// capabilities, no rtprio or memlock limits beyond the defaults).
pub const AS_NOBODY: [&str; 5] = [
    "setpriv",
    "--reuid=nobody",
    "--regid=nogroup",
    "--clear-groups",
    "--",
];

/// `overdub` started through `wrapper` (commands that exec what follows them, such as
/// [`AS_NOBODY`]; empty: none) with its home and config folders in `home`, made open to all
/// (created if missing), and no JACK server to find. Exec'd in place, the child's pid is
/// overdub's.
pub fn overdub_as(wrapper: &[&str], home: &Path) -> Command {
    std::fs::create_dir_all(home).expect("home");
    open_to_all(home);
    let mut cmd = match wrapper.split_first() {
        Some((first, rest)) => {
            let mut c = Command::new(first);
            c.args(rest).arg(overdub_bin());
            c
        }
        None => Command::new(overdub_bin()),
    };
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("JACK_DEFAULT_SERVER", "overdub-test-no-server");
    cmd
}

/// Let any user read, write and enter `dir` (for a test that runs overdub as `nobody`).
pub fn open_to_all(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o777)).expect("chmod");
}

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Hold this for the whole of a test that must not run beside the other tests of its file (each
/// test file is its own binary, so this orders only that file's tests). For tests that run
/// realtime servers and recorders paced by the wall clock: several at once on two cores make each
/// other late, and then they test the machine, not the recorder. A test that panicked while
/// holding it does not stop the rest.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}
