//! Notices in the real window (egui_kittest): a burst of xruns on the virtual device (its
//! injected faults) is listed, as one notice, until read, behind a status-bar button. (A lost
//! device reaches the notices the same way as every engine message; `transport.rs` and the
//! engine tests cover losing it.)

mod common;

use common::{open_app, run_until};
use std::time::Duration;

use egui_kittest::kittest::Queryable;
use overdub_engine::io::Fault;
use overdub_engine::session::{Session, SessionDir};

#[test]
fn xruns_and_a_lost_device_stay_as_notices_until_read() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = SessionDir::new(tmp.path().join("s"));
    dir.create(&Session::new(48_000, 1)).expect("create");
    let mut req = common::virtual_request(256);
    // Two dropped blocks close together: one burst.
    req.faults = vec![Fault::Xrun(20), Fault::Xrun(30)];
    let mut h = open_app(dir.root(), req, &tmp.path().join("settings.json"));
    assert!(
        run_until(&mut h, Duration::from_secs(5), |a| {
            let n = a.unread_notices();
            n.iter().any(|t| t.starts_with("2 xrun"))
        }),
        "the xruns and the lost device are noticed: {:?}",
        h.state().unread_notices()
    );
    let unread = h.state().unread_notices();
    assert_eq!(unread.len(), 1, "one notice per burst: {unread:?}");
    // Later, long after a status-bar message would have gone, it is still there.
    std::thread::sleep(Duration::from_secs(1));
    h.run_steps(2);
    assert_eq!(h.state().unread_notices(), unread);
    h.get_by_label("Notices").click();
    h.run_steps(2);
    h.get_by_label("Mark read").click();
    h.run_steps(2);
    assert!(h.state().unread_notices().is_empty(), "read");
}
