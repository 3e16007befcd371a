//! `overdub devices`: every host of this build and its devices.

use overdub_engine::engine::Engine;
use overdub_engine::io::{self, HostInfo};
use overdub_engine::{Error, Result};

use super::{device_rate, stream_request};
use crate::cli::AudioArgs;

/// `overdub control-panel`: open the chosen device and show its driver's own control panel.
pub fn control_panel(audio: &AudioArgs) -> Result<()> {
    let (mut req, _) = stream_request(audio)?;
    if !io::control_panel::has_control_panel(req.host) {
        return Err(Error::InvalidSetting(format!(
            "the {} driver has no control panel of its own",
            req.host
        )));
    }
    device_rate(&mut req)?;
    let engine = Engine::start(&req)?;
    engine.open_control_panel()?;
    println!("asked the {} driver for its control panel", req.host);
    Ok(())
}

pub fn run(json: bool, only: Option<&str>) -> Result<()> {
    let (hosts, default) = match only {
        Some(name) => {
            let host = io::HostId::parse(name)?;
            (vec![io::describe(host)], host)
        }
        None => (
            io::hosts()
                .into_iter()
                .map(io::describe)
                .collect::<Vec<HostInfo>>(),
            io::default_host(),
        ),
    };
    let priority = overdub_engine::rt::probe_priority().describe();
    let memory = overdub_engine::io::memory_lock::status().describe();
    if json {
        let doc = serde_json::json!({
            "default_host": default,
            "callback_priority": priority,
            "memory": memory,
            "hosts": hosts,
        });
        println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
        return Ok(());
    }
    for h in &hosts {
        let mark = if h.host == default { " (default)" } else { "" };
        let state = if h.available { "" } else { " - not available" };
        println!("{}{mark}{state}", h.host);
        if let Some(note) = &h.note {
            println!("    {note}");
        }
        for d in &h.devices {
            let rates: Vec<String> = d.rates.iter().map(u32::to_string).collect();
            let mut defaults = Vec::new();
            if d.default_input {
                defaults.push("default input");
            }
            if d.default_output {
                defaults.push("default output");
            }
            println!(
                "  {}: {}{}  in {}  out {}  rates {}  buffer {}{}",
                d.index,
                d.name,
                d.description
                    .as_ref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default(),
                d.inputs,
                d.outputs,
                if rates.is_empty() {
                    "?".into()
                } else {
                    rates.join(",")
                },
                d.buffer,
                if defaults.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", defaults.join(", "))
                }
            );
        }
    }
    println!("callback threads of ALSA, WASAPI and PipeWire streams: {priority}");
    println!("memory while a driver runs: {memory}");
    Ok(())
}
