//! The device under a [`Live`] session: opening and closing the stream, following what the
//! server changes under it (buffer size), telling what the disk lost, and carrying a recording
//! through a device that goes away. Not on the audio thread.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{FINISH_WAIT, Live, RECONNECT_EVERY, State};
use crate::engine::Engine;
use crate::error::Result;
use crate::io::StreamRequest;
use crate::latency::find_stored;

/// What the engine counted that the user was already told. A new stream counts from zero.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Told {
    overruns: u64,
    slips: u64,
    regrown: u64,
    shifts: u64,
}

impl Live {
    pub(super) fn update_latency(&mut self) {
        self.latency = match &self.engine {
            None => (0, "no device".into()),
            Some(e) => match find_stored(&self.measured, e.info()) {
                Some(m) => (
                    m.frames_now(e.latency_now().bridge),
                    format!(
                        "measured by `overdub latency` (output {} to input {}; the driver \
                         reports {})",
                        m.out_channel, m.in_channel, m.reported
                    ),
                ),
                None => (
                    e.latency_now().round_trip(),
                    "reported by the driver (run `overdub latency` to measure it)".into(),
                ),
            },
        };
    }

    /// Open (or reopen) the stream on a device: the settings page's Apply. Stops the transport
    /// first; on failure the message says why and no device is open.
    pub fn set_stream(&mut self, req: StreamRequest) -> Result<()> {
        self.stop_and_wait();
        let req = StreamRequest {
            rate: self.editor.session().rate,
            ..req
        };
        self.engine = None;
        self.req = req.clone();
        let mut engine = Engine::start(&req)?;
        for t in self.editor.session().tracks.clone() {
            engine.add_track(&t, self.monitor_of(&t))?;
        }
        self.last_status = Some(engine.status().clone());
        self.engine = Some(engine);
        self.told = Told::default();
        // A stream of another size asked is not the server changing it.
        self.buffer_seen = 0;
        self.lost_since = None;
        let m = self.metronome;
        self.set_metronome(m);
        self.update_latency();
        Ok(())
    }

    /// Close the device (before measuring latency with another stream, say). A recording is
    /// stopped and its takes placed first.
    pub fn close_stream(&mut self) {
        self.stop_and_wait();
        self.engine = None;
    }

    /// Leave: stop, place every take (to its last block) and save the session, waiting for all
    /// of it. For the window's close and the program's exit.
    pub fn close(&mut self) -> Result<()> {
        self.stop_and_wait();
        self.shut_engine();
        self.save_now()
    }

    /// Close the session for good (the window's Session ▸ Close): stop, close the device, save,
    /// and let go of the folder, so another program may open it. What is left can be looked at
    /// and nothing more: it is read-only and has no device.
    pub fn release(&mut self) -> Result<()> {
        self.close()?;
        self.saver = None;
        self.lock = None;
        Ok(())
    }

    /// Close the stream: the disk thread finishes every take with what reached it.
    fn shut_engine(&mut self) {
        if let Some(engine) = self.engine.take() {
            for ev in engine.shutdown() {
                self.disk_event(ev);
            }
        }
    }

    /// The device stopped answering: close it under the recording, which keeps everything that
    /// reached the disk, and place the takes.
    pub fn abandon_stream(&mut self) {
        let (at, ran) = (self.position_rolling(), self.ran_rolling());
        self.state = match std::mem::replace(&mut self.state, State::Stopped) {
            State::Playing => {
                self.playhead = at;
                State::Stopped
            }
            starting @ State::Starting { .. } => {
                self.state = starting;
                self.stop();
                State::Stopped
            }
            // A take of a set length is never placed longer than asked.
            recording @ State::Recording { until, .. } => {
                recording.finishing(until.map_or(ran, |u| u.min(ran)))
            }
            other => other.finishing(ran),
        };
        self.shut_engine();
        self.place_takes();
    }

    /// Stop and wait until the transport is at rest with every take closed and placed. When the
    /// audio thread no longer answers (a stalled device), the stream is closed under the takes:
    /// the disk thread finishes them with everything that reached it, and they are placed.
    pub fn stop_and_wait(&mut self) {
        self.stop();
        let deadline = Instant::now()
            + FINISH_WAIT
            + Duration::from_secs_f64(
                f64::from(self.latency.0) / f64::from(self.editor.session().rate.max(1)),
            );
        while matches!(self.state, State::Finishing { .. }) && Instant::now() < deadline {
            self.poll();
            std::thread::sleep(Duration::from_millis(2));
        }
        if matches!(self.state, State::Finishing { .. }) {
            self.shut_engine();
            self.place_takes();
        }
    }

    /// Say when the disk fell behind a take (the lost frames are silence; nothing moved).
    pub(super) fn tell_capture_loss(&mut self) {
        let Some(st) = self.status() else {
            return;
        };
        let n = st.capture_overruns.load(Ordering::Relaxed);
        if n <= self.told.overruns {
            return;
        }
        let at = st.first_capture_loss().unwrap_or(0);
        let rate = f64::from(self.editor.session().rate.max(1));
        self.messages.push(format!(
            "the disk fell behind the recording (first at {:.3} s): {} frames became silence, \
             everything after is in its place",
            at as f64 / rate,
            n
        ));
        self.told.overruns = n;
    }

    /// Tell what the duplex bridge of a cpal stream counted since last told: input lost between
    /// the driver's two callbacks, growth during a take (the driver changed its callback order),
    /// and input moved against output by the driver without a word.
    pub(super) fn tell_bridge(&mut self) {
        let Some(st) = self.status() else {
            return;
        };
        let now = Told {
            overruns: self.told.overruns,
            slips: st.bridge_underruns.load(Ordering::Relaxed),
            regrown: st.bridge_regrown.load(Ordering::Relaxed),
            shifts: st.driver_shifts.load(Ordering::Relaxed),
        };
        let told = std::mem::replace(&mut self.told, now);
        if now.regrown > told.regrown {
            self.messages.push(format!(
                "the driver changed the order of its input and output callbacks: the monitoring \
                 went silent for {} frames and is that much later from now on; the take kept \
                 every frame, in place",
                now.regrown - told.regrown
            ));
        }
        if now.slips > told.slips {
            self.messages.push(format!(
                "{} frames of input came too late to be heard or recorded: silence in their \
                 place, nothing after them moved (a larger buffer size may help)",
                now.slips - told.slips
            ));
        }
        if now.shifts > told.shifts {
            self.messages.push(format!(
                "the driver moved its input against its output by {} frames without saying so: \
                 takes recorded since may be off by that much; measure the latency again",
                now.shifts - told.shifts
            ));
        }
    }

    /// The server changed the buffer size under the stream (JACK, PipeWire): say so, and take
    /// the latency that holds for the new size (a take under way keeps its own).
    pub(super) fn follow_buffer_size(&mut self) {
        let Some(buffer) = self.engine.as_ref().map(|e| e.info().buffer) else {
            return;
        };
        if buffer == self.buffer_seen {
            return;
        }
        if self.buffer_seen != 0 {
            self.messages.push(format!(
                "the audio server changed the buffer size to {buffer} frames"
            ));
        }
        self.buffer_seen = buffer;
        if !self.is_recording() {
            self.update_latency();
        }
    }

    pub(super) fn watch_device(&mut self) {
        let lost = self.engine.as_ref().is_some_and(Engine::device_lost);
        if !lost {
            return;
        }
        if !self.reconnect {
            // The command line: end the run with every take kept.
            self.interruption
                .get_or_insert_with(|| crate::engine::DEVICE_GONE.into());
            self.abandon_stream();
            return;
        }
        let now = Instant::now();
        if self.lost_since.is_none() {
            self.lost_since = Some(now);
            self.messages.push(
                "the audio device went away; the takes so far are kept. Reconnecting when it \
                 returns, or choose another in Audio settings."
                    .into(),
            );
            let (at, ran) = (self.position_rolling(), self.ran_rolling());
            match std::mem::replace(&mut self.state, State::Stopped) {
                State::Playing => self.playhead = at,
                starting @ State::Starting { .. } => {
                    self.state = starting;
                    self.stop();
                }
                other => self.state = other.finishing(ran),
            }
        }
        if self.last_try.is_some_and(|t| now - t < RECONNECT_EVERY) {
            return;
        }
        self.last_try = Some(now);
        if let Some(engine) = self.engine.as_mut() {
            // Reopening closes the dead stream first, which also lets its takes be finished.
            if engine.reopen(None).is_ok() {
                self.lost_since = None;
                self.told = Told::default();
                self.messages.push("the audio device is back".into());
                let m = self.metronome;
                self.set_metronome(m);
                self.update_latency();
            }
        }
    }
}
