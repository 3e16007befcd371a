//! Waveform overviews for the timeline, built on background threads so that opening a long
//! session never blocks a frame. Asks are idempotent; `get` returns None until a file is ready.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};

use overdub_engine::peaks::{self, Peaks};
use overdub_engine::session::SessionDir;

enum Slot {
    Loading,
    Ready(Arc<Peaks>),
    Failed,
}

/// Peaks by file name.
pub struct PeakCache {
    slots: HashMap<String, Slot>,
    tx: Sender<(String, Option<Peaks>)>,
    rx: Receiver<(String, Option<Peaks>)>,
}

impl Default for PeakCache {
    fn default() -> Self {
        let (tx, rx) = channel();
        Self {
            slots: HashMap::new(),
            tx,
            rx,
        }
    }
}

impl PeakCache {
    /// The peaks of `audio/FILE`, or None while they are being built (and `ctx` is woken when
    /// they are ready).
    pub fn get(&mut self, dir: &SessionDir, file: &str, ctx: &egui::Context) -> Option<Arc<Peaks>> {
        while let Ok((f, p)) = self.rx.try_recv() {
            let slot = p.map_or(Slot::Failed, |p| Slot::Ready(Arc::new(p)));
            self.slots.insert(f, slot);
        }
        match self.slots.get(file) {
            Some(Slot::Ready(p)) => return Some(p.clone()),
            Some(_) => return None,
            None => {}
        }
        self.slots.insert(file.to_string(), Slot::Loading);
        let (tx, dir, name, ctx) = (self.tx.clone(), dir.clone(), file.to_string(), ctx.clone());
        let spawned = std::thread::Builder::new()
            .name("overdub-peaks".into())
            .spawn(move || {
                let p = peaks::load_or_build(&dir, &name).ok();
                let _ = tx.send((name, p));
                ctx.request_repaint();
            });
        if spawned.is_err() {
            self.slots.insert(file.to_string(), Slot::Failed);
        }
        None
    }
}
