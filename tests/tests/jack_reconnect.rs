//! The engine reconnects to a JACK server that went away and came back, without a restart of the
//! program. (Its own test binary: it points JACK_DEFAULT_SERVER at a private server.)

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use overdub_engine::Engine;
use overdub_engine::io::{CallbackOrder, HostId, StreamRequest};
use overdub_tests::JackServer;

fn rolled(engine: &Engine) -> u64 {
    engine.status().blocks.load(Ordering::Relaxed)
}

fn wait_until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[allow(unsafe_code)]
fn the_engine_reopens_after_the_server_comes_back() {
    let mut jack = JackServer::start(128);
    // SAFETY: this test binary holds this one test; no other thread reads the environment.
    unsafe { std::env::set_var("JACK_DEFAULT_SERVER", &jack.name) };
    let req = StreamRequest {
        host: HostId::Jack,
        input: None,
        output: None,
        rate: 48_000,
        buffer: None,
        loopback_delay: None,
        master_out: 0,
        faults: Vec::new(),
        callbacks: CallbackOrder::Duplex,
    };
    let mut engine = Engine::start(&req).expect("open JACK");
    wait_until("the first blocks", || rolled(&engine) > 10);

    jack.stop();
    wait_until("the engine to notice", || engine.device_lost());
    // Reopening while the server is down fails cleanly and can be tried again.
    assert!(engine.reopen(None).is_err());

    jack.restart();
    engine.reopen(None).expect("reopen on the restarted server");
    assert!(!engine.device_lost());
    wait_until("blocks from the new server", || rolled(&engine) > 10);
    assert_eq!(engine.info().buffer, 128);
}
