//! A device's channels as the musician knows them: each input's name (the user's, else the
//! driver's, else "In N") and which inputs and outputs are in use. The track input pickers, the
//! settings page's meters and its master output picker go by these; they are kept in the
//! settings, per device.

use overdub_engine::settings::{DeviceChannels, MAX_CHANNEL_NAME, Settings};

use crate::app::OverdubApp;

/// Inputs offered when no device is open.
const NO_DEVICE_INPUTS: usize = 8;

/// Where the open device's input (`output`: false) or output channels are kept in the settings;
/// None when no device is open.
pub fn key(app: &OverdubApp, output: bool) -> Option<String> {
    let info = app.live.engine()?.info();
    let device = if output {
        &info.output_device
    } else {
        &info.input_device
    };
    Some(Settings::device_key(
        info.host.name(),
        device.as_deref().unwrap_or("-"),
    ))
}

/// The open device's channels as set up (all on and unnamed without a device).
pub fn setup(app: &OverdubApp, output: bool) -> DeviceChannels {
    key(app, output)
        .map(|k| app.settings.device_channels(&k))
        .unwrap_or_default()
}

/// The name of each input of the open device: the user's, else the driver's; None for neither.
pub fn names(app: &OverdubApp) -> Vec<Option<String>> {
    let Some(engine) = app.live.engine() else {
        return vec![None; NO_DEVICE_INPUTS];
    };
    let info = engine.info();
    let user = setup(app, false);
    (0..info.in_channels)
        .map(|c| {
            user.input_names
                .get(c)
                .filter(|n| !n.trim().is_empty())
                .or_else(|| info.input_names.get(c))
                .cloned()
        })
        .collect()
}

/// How a track's `input` reads in its picker: "In 3" (or "In 3-4" for a stereo pair) where the
/// channels have no name, else their names ("Guitar", "Keys L / Keys R").
pub fn label(names: &[Option<String>], input: u16, channels: u8) -> String {
    let name = |c: u16| names.get(usize::from(c)).cloned().flatten();
    let n = input + 1;
    match (channels, name(input), name(input + 1)) {
        (2, None, None) => format!("In {n}-{}", n + 1),
        (2, a, b) => format!(
            "{} / {}",
            a.unwrap_or_else(|| format!("In {n}")),
            b.unwrap_or_else(|| format!("In {}", n + 1))
        ),
        (_, a, _) => a.unwrap_or_else(|| format!("In {n}")),
    }
}

/// The inputs a track of `channels` can take: each input that is on (a stereo track: each pair
/// of neighbours both on). All of them if the user switched every one off.
pub fn choices(app: &OverdubApp, channels: u8) -> Vec<u16> {
    let count = app
        .live
        .engine()
        .map_or(NO_DEVICE_INPUTS, |e| e.info().in_channels.max(1));
    let off = setup(app, false).inputs_off;
    let on = |c: u16| !off.contains(&c);
    let width = u16::from(channels.clamp(1, 2));
    let all: Vec<u16> = (0..u16::try_from(count).unwrap_or(u16::MAX))
        .filter(|&c| usize::from(c + width) <= count.max(usize::from(width)))
        .collect();
    let usable: Vec<u16> = all
        .iter()
        .copied()
        .filter(|&c| (c..c + width).all(on))
        .collect();
    if usable.is_empty() { all } else { usable }
}

/// Switch channel `c` on or off in a list of channels switched off (kept sorted).
pub fn switch(off: &mut Vec<u16>, c: u16, on: bool) {
    off.retain(|&o| o != c);
    if !on {
        off.push(c);
        off.sort_unstable();
    }
}

/// A name as typed, cut to the longest the settings keep ([`MAX_CHANNEL_NAME`] bytes, at a
/// character's edge), so a long name in another script never makes the settings file unreadable.
pub fn fit_name(mut name: String) -> String {
    let mut end = name.len().min(MAX_CHANNEL_NAME);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    name.truncate(end);
    name
}

/// Change the open device's set-up with `f`; saved with the settings when `save`.
pub fn change(app: &mut OverdubApp, output: bool, save: bool, f: impl FnOnce(&mut DeviceChannels)) {
    let Some(k) = key(app, output) else {
        return;
    };
    let entry = app.settings.channels.entry(k.clone()).or_default();
    f(entry);
    if *entry == DeviceChannels::default() {
        app.settings.channels.remove(&k);
    }
    if save && let Err(e) = app.save_settings() {
        app.tell(format!("the channel set-up could not be saved: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::label;

    #[test]
    fn inputs_read_by_their_names_or_their_numbers() {
        let names = [
            None,
            Some("Guitar".to_string()),
            None,
            Some("Keys R".into()),
        ];
        assert_eq!(label(&names, 0, 1), "In 1");
        assert_eq!(label(&names, 1, 1), "Guitar");
        assert_eq!(label(&names, 0, 2), "In 1 / Guitar");
        assert_eq!(label(&names, 4, 2), "In 5-6");
        assert_eq!(label(&names, 2, 2), "In 3 / Keys R");
    }

    #[test]
    fn a_long_name_is_cut_at_a_character_edge_within_the_settings_limit() {
        use overdub_engine::settings::MAX_CHANNEL_NAME;
        // 40 two-byte letters: 40 characters, 80 bytes.
        let cut = super::fit_name("Ж".repeat(40));
        assert_eq!(cut, "Ж".repeat(MAX_CHANNEL_NAME / 2));
        assert_eq!(super::fit_name("Guitar".into()), "Guitar");
        let mut off = vec![1, 5];
        super::switch(&mut off, 3, false);
        super::switch(&mut off, 5, true);
        assert_eq!(off, [1, 3]);
    }
}
