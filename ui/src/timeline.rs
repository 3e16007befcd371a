//! The timeline: a ruler (markers, bars|beats from the session's tempo and time signature, and
//! time), grid lines, one lane per track with its clips drawn from the peak cache, the playhead,
//! the take being recorded growing on its lanes. Click to locate, drag clips to move them (onto
//! another lane too), drag their edges to trim, scroll and zoom; moves, trims and loop edges snap
//! to the grid while Snap is on (Shift places freely).

use egui::{Color32, CornerRadius, Rect, Sense, Stroke, StrokeKind, Vec2, pos2};
use overdub_engine::live::Transport;
use overdub_engine::session::{Clip, Edit, Grid};

use crate::app::OverdubApp;
use crate::take_lanes::{TAKE_LANE, Takes};

/// Height of one track lane (and its header), points.
pub const LANE_HEIGHT: f32 = 78.0;
/// Height of the ruler, points: a row of markers, a row of bars, a row of time.
pub const RULER_HEIGHT: f32 = 42.0;
/// Height of each of the ruler's rows, points.
const ROW: f32 = 14.0;
/// Grab distance for a clip edge, points.
const EDGE: f32 = 6.0;

/// Zoom and scroll.
pub struct TimelineView {
    /// Frames per point.
    pub frames_per_px: f64,
    /// Timeline frame at the left edge.
    pub scroll: f64,
    drag: Option<Drag>,
    loop_drag: Option<(u64, u64)>,
    /// A marker being dragged: its id and where it would go.
    pub(crate) marker_drag: Option<(u32, u64)>,
    /// A fade handle being dragged.
    pub(crate) fade_drag: Option<crate::clip_fades::FadeDrag>,
    /// A punch range being dragged along the ruler (Ctrl held).
    punch_drag: Option<(u64, u64)>,
    /// A comp range being dragged on a take lane: track id, lane, and the two ends.
    pub(crate) comp_drag: Option<(u32, usize, u64, u64)>,
}

impl Default for TimelineView {
    fn default() -> Self {
        Self {
            frames_per_px: 400.0,
            scroll: 0.0,
            drag: None,
            loop_drag: None,
            marker_drag: None,
            comp_drag: None,
            punch_drag: None,
            fade_drag: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum DragKind {
    Move,
    TrimStart,
    TrimEnd,
}

#[derive(Clone, Debug)]
struct Drag {
    clip: Clip,
    lane: usize,
    kind: DragKind,
    grab_frames: f64,
    /// Where the drag would put it now: (lane, start, end).
    now: (usize, u64, u64),
}

impl TimelineView {
    /// Zoom by a factor (below 1 zooms in).
    pub fn zoom(&mut self, factor: f64) {
        self.frames_per_px = (self.frames_per_px * factor).clamp(2.0, 200_000.0);
    }

    pub(crate) fn x(&self, rect: Rect, frame: f64) -> f32 {
        rect.left() + ((frame - self.scroll) / self.frames_per_px) as f32
    }

    pub(crate) fn frame(&self, rect: Rect, x: f32) -> f64 {
        (self.scroll + f64::from(x - rect.left()) * self.frames_per_px).max(0.0)
    }
}

impl TimelineView {
    /// Grid lines at least this many points apart.
    pub const GRID_MIN_PX: f64 = 12.0;

    /// The grid step (beats) drawn and snapped to at this zoom.
    pub fn grid_step(&self, grid: &Grid) -> u64 {
        grid.step_beats(Self::GRID_MIN_PX * self.frames_per_px)
    }
}

/// Snapping as it stands: onto the nearest line of the grid drawn at this zoom while Snap is on
/// and `shift` is not held. It owns a copy of the grid, so it borrows nothing of `app`.
pub fn snapper(app: &OverdubApp, shift: bool) -> impl Fn(u64) -> u64 + use<> {
    let grid = Grid::of(app.live.editor().session());
    let step = app.view.grid_step(&grid);
    let on = app.snap && !shift;
    move |frame| if on { grid.snap(frame, step) } else { frame }
}

/// Where a drag began. A drag is seen only once the pointer has moved a little: it counts from
/// where it was pressed, so nothing lags the pointer by that distance.
fn pressed_at(r: &egui::Response) -> Option<egui::Pos2> {
    r.ctx
        .input(|i| i.pointer.press_origin())
        .or(r.interact_pointer_pos())
}

/// Where each track's row starts below the ruler, points, and one past the last: a track's row
/// is its lane and its take rows.
pub fn row_tops(takes: &[Takes]) -> Vec<f32> {
    let mut tops = vec![0.0];
    for t in takes {
        let last = tops.last().copied().unwrap_or(0.0);
        tops.push(last + t.height + TAKE_LANE * t.rows() as f32);
    }
    tops
}

/// The track whose row holds `y` (points below the ruler), the last one past the end.
pub(crate) fn row_at(tops: &[f32], y: f32) -> usize {
    let rows = tops.len().saturating_sub(1);
    (0..rows)
        .find(|&i| y < tops[i + 1])
        .unwrap_or(rows.saturating_sub(1))
}

/// The timeline, its rows laid out as `tops` says (from [`row_tops`]) with each track's `takes`.
pub fn show(app: &mut OverdubApp, ui: &mut egui::Ui, takes: &[Takes], tops: &[f32]) {
    let session = app.live.editor().session().clone();
    let rate = session.rate;
    let lanes = session.tracks.len();
    let rows_height = tops.last().copied().unwrap_or(0.0).max(LANE_HEIGHT);
    let size = Vec2::new(ui.available_width().max(200.0), RULER_HEIGHT + rows_height);
    let (rect, resp) = ui.allocate_exact_size(size, Sense::click_and_drag());
    let painter = ui.painter_at(rect);
    let visuals = ui.visuals().clone();
    painter.rect_filled(rect, 0.0, visuals.extreme_bg_color);

    // Zoom with Ctrl+wheel around the pointer, scroll with the wheel.
    if resp.hovered() {
        let (scroll, zoom, pointer) =
            ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.pointer.hover_pos()));
        if zoom != 1.0
            && let Some(p) = pointer
        {
            let anchor = app.view.frame(rect, p.x);
            app.view.zoom(1.0 / f64::from(zoom));
            app.view.scroll =
                (anchor - f64::from(p.x - rect.left()) * app.view.frames_per_px).max(0.0);
        }
        let dx = if scroll.x != 0.0 { scroll.x } else { 0.0 };
        app.view.scroll = (app.view.scroll - f64::from(dx) * app.view.frames_per_px).max(0.0);
    }

    let ruler = Rect::from_min_size(rect.min, Vec2::new(rect.width(), RULER_HEIGHT));
    let grid = Grid::of(&session);
    draw_ruler(app, &painter, ruler, rate, &grid);
    draw_grid(app, &painter, rect, &grid);
    // Drag along the ruler to set the loop; with Ctrl (Cmd), the punch range.
    let (shift, command) = ui.input(|i| (i.modifiers.shift, i.modifiers.command));
    if resp.drag_started()
        && let Some(p) = pressed_at(&resp)
        && ruler.contains(p)
    {
        let f = snapper(app, shift)(app.view.frame(rect, p.x) as u64);
        if command {
            app.view.punch_drag = Some((f, f));
        } else {
            app.view.loop_drag = Some((f, f));
        }
    }
    if let Some(p) = resp.interact_pointer_pos()
        && resp.dragged()
    {
        let f = snapper(app, shift)(app.view.frame(rect, p.x) as u64);
        for d in [&mut app.view.loop_drag, &mut app.view.punch_drag] {
            if let Some((a, _)) = *d {
                *d = Some((a, f));
            }
        }
    }
    if resp.drag_stopped() {
        if let Some((a, b)) = app.view.loop_drag.take()
            && a != b
        {
            app.live.set_loop(true, Some((a.min(b), a.max(b))));
        }
        if let Some((a, b)) = app.view.punch_drag.take()
            && a != b
        {
            app.set_punch(a.min(b), a.max(b));
        }
    }
    if let Some((a, b)) = app.view.punch_drag.or(app.punch_range) {
        let (a, b) = (a.min(b), a.max(b));
        let (xa, xb) = (app.view.x(rect, a as f64), app.view.x(rect, b as f64));
        let band =
            egui::Rect::from_min_max(pos2(xa, ruler.bottom() - 5.0), pos2(xb, ruler.bottom()));
        let alpha = if app.punch_on { 200 } else { 70 };
        painter.rect_filled(
            band,
            0.0,
            Color32::from_rgba_unmultiplied(220, 60, 60, alpha),
        );
        if app.punch_on {
            for x in [xa, xb] {
                painter.line_segment(
                    [pos2(x, ruler.bottom()), pos2(x, rect.bottom())],
                    Stroke::new(1.0, Color32::from_rgba_unmultiplied(220, 60, 60, 140)),
                );
            }
        }
    }
    let (loop_on, loop_range) = app.live.looping();
    if let Some((a, b)) = app.view.loop_drag.or(loop_range) {
        let (a, b) = (a.min(b), a.max(b));
        let r = Rect::from_min_max(
            pos2(app.view.x(rect, a as f64), ruler.top()),
            pos2(app.view.x(rect, b as f64), ruler.bottom()),
        );
        let alpha = if loop_on { 140 } else { 60 };
        painter.rect_filled(r, 0.0, Color32::from_rgba_unmultiplied(80, 200, 120, alpha));
    }
    let lane_rect = |i: usize| {
        Rect::from_min_size(
            pos2(rect.left(), rect.top() + RULER_HEIGHT + tops[i]),
            Vec2::new(rect.width(), takes[i].height),
        )
    };
    for i in 0..lanes {
        let r = lane_rect(i);
        if i % 2 == 1 {
            painter.rect_filled(r, 0.0, visuals.faint_bg_color);
        }
        painter.line_segment(
            [r.left_bottom(), r.right_bottom()],
            Stroke::new(1.0, visuals.widgets.noninteractive.bg_stroke.color),
        );
    }

    // Clips, with their waveforms. Each clip is a widget of its own (named for screen readers and
    // tests), so it can be clicked and dragged.
    let dir = app.live.editor().dir().clone();
    let ctx = ui.ctx().clone();
    // (lane, clip, the visible part of its rectangle, all of it)
    let mut clip_widgets: Vec<(usize, Clip, Rect, Rect)> = Vec::new();
    // What the scroll area shows: clips above or below it cost nothing (a 64-track session
    // shows about ten).
    let shown = ui.clip_rect();
    for (i, t) in session.tracks.iter().enumerate() {
        let lane = lane_rect(i);
        for c in &t.clips {
            let dragging = app.view.drag.as_ref().is_some_and(|d| d.clip.id == c.id);
            let (li, start, end) = match (&app.view.drag, dragging) {
                (Some(d), true) => d.now,
                _ => (i, c.position, c.end()),
            };
            let lane = if li == i { lane } else { lane_rect(li) };
            let r = Rect::from_min_max(
                pos2(app.view.x(rect, start as f64), lane.top() + 3.0),
                pos2(app.view.x(rect, end as f64), lane.bottom() - 3.0),
            );
            if r.right() < rect.left() || r.left() > rect.right() {
                continue;
            }
            if !dragging && (r.bottom() < shown.top() || r.top() > shown.bottom()) {
                continue;
            }
            if !dragging {
                clip_widgets.push((i, c.clone(), r.intersect(rect), r));
            }
            let selected = app.selected_clip == Some(c.id);
            // Clips take their track's colour, brighter when selected.
            let base = crate::track_colour::of(t);
            let fill = if selected {
                base.gamma_multiply(0.75)
            } else {
                base.gamma_multiply(0.5)
            };
            painter.rect_filled(r, CornerRadius::same(3), fill);
            let offset = c.offset + start.saturating_sub(c.position).min(c.length);
            let shown_offset = if dragging
                && app
                    .view
                    .drag
                    .as_ref()
                    .is_some_and(|d| d.kind == DragKind::TrimStart)
            {
                (c.offset + start).saturating_sub(c.position)
            } else if dragging {
                c.offset
            } else {
                offset
            };
            if let Some(p) = app.peaks.get(&dir, &c.file, &ctx) {
                let mid = r.center().y;
                let half = r.height() * 0.45;
                let left = r.left().max(rect.left()) as i32;
                let right = r.right().min(rect.right()) as i32;
                for x in left..right {
                    let f0 =
                        app.view.frame(rect, x as f32) as i64 - start as i64 + shown_offset as i64;
                    let f1 = f0 + app.view.frames_per_px.ceil() as i64;
                    if f1 <= 0 {
                        continue;
                    }
                    let (lo, hi) = p.range(f0.max(0) as u64, f1 as u64);
                    painter.line_segment(
                        [
                            pos2(x as f32, mid - hi * half),
                            pos2(x as f32, mid - lo * half),
                        ],
                        Stroke::new(1.0, Color32::from_rgb(190, 215, 240)),
                    );
                }
            }
            painter.rect_stroke(
                r,
                CornerRadius::same(3),
                Stroke::new(
                    if selected { 2.0 } else { 1.0 },
                    Color32::from_rgb(150, 180, 220),
                ),
                StrokeKind::Inside,
            );
            painter.text(
                r.left_top() + Vec2::new(4.0, 2.0),
                egui::Align2::LEFT_TOP,
                &c.file,
                egui::FontId::proportional(11.0),
                Color32::from_gray(230),
            );
        }
    }

    // Take lanes under their tracks.
    for (i, (t, takes)) in session.tracks.iter().zip(takes).enumerate() {
        if !takes.shown().is_empty() {
            let top = lane_rect(i).bottom();
            crate::take_lanes::show(app, ui, rect, top, t, takes.shown());
        }
    }

    // The take being recorded grows on its lanes.
    if let Some((start, now, tracks)) = app.live.live_take() {
        for (i, t) in session.tracks.iter().enumerate() {
            if tracks.contains(&t.id) {
                let lane = lane_rect(i);
                let r = Rect::from_min_max(
                    pos2(app.view.x(rect, start as f64), lane.top() + 3.0),
                    pos2(app.view.x(rect, now as f64), lane.bottom() - 3.0),
                );
                painter.rect_filled(r, 3.0, Color32::from_rgba_unmultiplied(200, 50, 50, 120));
            }
        }
    }

    // Playhead; the view follows it while rolling.
    let pos = app.live.position();
    let mut px = app.view.x(rect, pos as f64);
    if app.live.transport() != Transport::Stopped && px > rect.right() - 20.0 {
        app.view.scroll = pos as f64 - 20.0 * app.view.frames_per_px;
        px = app.view.x(rect, pos as f64);
    }
    painter.line_segment(
        [pos2(px, rect.top()), pos2(px, rect.bottom())],
        Stroke::new(1.5, Color32::from_rgb(255, 90, 90)),
    );

    let markers_row = Rect::from_min_size(ruler.min, Vec2::new(ruler.width(), ROW));
    crate::markers::show(app, ui, rect, markers_row);

    let mut seen = Vec::new();
    for (lane, clip, r, whole) in clip_widgets {
        seen.push(clip.id);
        let id = ui.scope_id().with(("clip", clip.id));
        let cr = ui.interact(r, id, Sense::click_and_drag());
        let cr = crate::widgets::named(
            cr,
            egui::Role::Button,
            &format!("Clip {} on {}", clip.file, session.tracks[lane].name),
        );
        cr.context_menu(|ui| crate::clip_fades::menu(app, ui, &clip));
        let name = &session.tracks[lane].name;
        crate::clip_fades::show(app, ui, rect, whole, &clip, name);
        clip_interact(app, rect, &cr, lane, clip, r, tops);
    }
    if let Some(d) = &app.view.drag
        && !seen.contains(&d.clip.id)
    {
        // Keep following a drag whose clip widget moved away from under the pointer.
        let cr = ui.interact(
            Rect::NOTHING,
            ui.scope_id().with(("clip", d.clip.id)),
            Sense::click_and_drag(),
        );
        let (lane, clip) = (d.lane, d.clip.clone());
        clip_interact(app, rect, &cr, lane, clip, Rect::NOTHING, tops);
    }
    if resp.clicked()
        && let Some(p) = resp.interact_pointer_pos()
    {
        app.selected_clip = None;
        app.live.locate(app.view.frame(rect, p.x) as u64);
    }
    let _ = lane_rect;
}

fn draw_ruler(app: &OverdubApp, painter: &egui::Painter, ruler: Rect, rate: u32, grid: &Grid) {
    painter.rect_filled(ruler, 0.0, Color32::from_gray(40));
    let (bars, time) = (ruler.top() + ROW, ruler.top() + 2.0 * ROW);
    // Bars and beats: a number at each line of the grid step, "bar" or "bar.beat".
    let from = app.view.frame(ruler, ruler.left()) as u64;
    let to = app.view.frame(ruler, ruler.right()) as u64;
    let label_step = grid.step_beats(60.0 * app.view.frames_per_px);
    for (f, n) in grid.lines(from, to, label_step) {
        let x = app.view.x(ruler, f as f64);
        let bpb = u64::from(grid.beats_per_bar);
        let text = if n.is_multiple_of(bpb) {
            format!("{}", n / bpb + 1)
        } else {
            format!("{}.{}", n / bpb + 1, n % bpb + 1)
        };
        painter.line_segment(
            [pos2(x, bars), pos2(x, bars + ROW)],
            Stroke::new(1.0, Color32::from_gray(110)),
        );
        painter.text(
            pos2(x + 3.0, bars + 1.0),
            egui::Align2::LEFT_TOP,
            text,
            egui::FontId::monospace(10.0),
            Color32::from_gray(220),
        );
    }
    // Time.
    let secs_per_px = app.view.frames_per_px / f64::from(rate);
    let step = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0]
        .into_iter()
        .find(|s| s / secs_per_px >= 70.0)
        .unwrap_or(600.0);
    let first = (app.view.scroll / f64::from(rate) / step).floor() * step;
    let mut t = first;
    while app.view.x(ruler, t * f64::from(rate)) < ruler.right() {
        let x = app.view.x(ruler, t * f64::from(rate));
        painter.line_segment(
            [pos2(x, ruler.bottom() - 5.0), pos2(x, ruler.bottom())],
            Stroke::new(1.0, Color32::from_gray(160)),
        );
        painter.text(
            pos2(x + 3.0, time + 1.0),
            egui::Align2::LEFT_TOP,
            format!("{}:{:04.1}", (t / 60.0) as u64, t % 60.0),
            egui::FontId::monospace(10.0),
            Color32::from_gray(170),
        );
        t += step;
    }
}

/// Grid lines over the lanes: bars stronger than beats.
fn draw_grid(app: &OverdubApp, painter: &egui::Painter, rect: Rect, grid: &Grid) {
    let from = app.view.frame(rect, rect.left()) as u64;
    let to = app.view.frame(rect, rect.right()) as u64;
    let bpb = u64::from(grid.beats_per_bar);
    let top = rect.top() + RULER_HEIGHT;
    for (f, n) in grid.lines(from, to, app.view.grid_step(grid)) {
        let x = app.view.x(rect, f as f64);
        let shade = if n.is_multiple_of(bpb) { 70 } else { 45 };
        painter.line_segment(
            [pos2(x, top), pos2(x, rect.bottom())],
            Stroke::new(1.0, Color32::from_white_alpha(shade)),
        );
    }
}

fn clip_interact(
    app: &mut OverdubApp,
    rect: Rect,
    cr: &egui::Response,
    lane: usize,
    clip: Clip,
    r: Rect,
    tops: &[f32],
) {
    let session_tracks: Vec<u32> = app
        .live
        .editor()
        .session()
        .tracks
        .iter()
        .map(|t| t.id)
        .collect();
    let wide = r.width() > 3.0 * EDGE;
    if let Some(p) = cr.hover_pos()
        && wide
        && ((p.x - r.left()).abs() <= EDGE || (p.x - r.right()).abs() <= EDGE)
    {
        cr.ctx.set_cursor_icon(egui::CursorIcon::ResizeHorizontal);
    }
    if cr.drag_started()
        && let Some(p) = pressed_at(cr)
    {
        let kind = if wide && (p.x - r.left()).abs() <= EDGE {
            DragKind::TrimStart
        } else if wide && (p.x - r.right()).abs() <= EDGE {
            DragKind::TrimEnd
        } else {
            DragKind::Move
        };
        app.selected_clip = Some(clip.id);
        let grab = app.view.frame(rect, p.x) - clip.position as f64;
        app.view.drag = Some(Drag {
            now: (lane, clip.position, clip.end()),
            clip: clip.clone(),
            lane,
            kind,
            grab_frames: grab,
        });
    }
    let pointer = cr.interact_pointer_pos();
    let f = pointer.map(|p| app.view.frame(rect, p.x)).unwrap_or(0.0);
    let snap = snapper(app, cr.ctx.input(|i| i.modifiers.shift));
    if cr.dragged()
        && let (Some(d), Some(p)) = (app.view.drag.as_mut(), pointer)
        && d.clip.id == clip.id
    {
        let c = &d.clip;
        d.now = match d.kind {
            DragKind::Move => {
                let l = row_at(tops, p.y - rect.top() - RULER_HEIGHT);
                let start = snap((f - d.grab_frames).max(0.0) as u64);
                (l, start, start + c.length)
            }
            DragKind::TrimStart => {
                let earliest = c.position.saturating_sub(c.offset);
                let start = snap(f as u64).clamp(earliest, c.end().saturating_sub(1));
                (d.lane, start, c.end())
            }
            DragKind::TrimEnd => (d.lane, c.position, snap(f as u64).max(c.position + 1)),
        };
    }
    if cr.drag_stopped()
        && app.view.drag.as_ref().is_some_and(|d| d.clip.id == clip.id)
        && let Some(d) = app.view.drag.take()
    {
        let (l, start, end) = d.now;
        let edit = match d.kind {
            DragKind::Move => Edit::MoveClip {
                clip: d.clip.id,
                position: start,
                track: (l != d.lane)
                    .then(|| session_tracks.get(l).copied())
                    .flatten(),
            },
            _ => Edit::TrimClip {
                clip: d.clip.id,
                start,
                end,
            },
        };
        if (start, end, l) != (d.clip.position, d.clip.end(), d.lane) {
            app.edit(edit);
        }
    }
    if cr.clicked() {
        app.selected_clip = Some(clip.id);
    }
}
