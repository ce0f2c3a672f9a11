//! The drawing: a [`Chart`] as a standalone SVG document.
//!
//! Every mark carries a class (`lane`, `bar`, `failure`, `limit`, `threshold`, `in-flight`,
//! `failed-count`) and data attributes (`data-robot`, `data-step`, `data-code`), so programs
//! (tests, the dashboard) read the picture by structure, and every bar and mark has a
//! `<title>` naming robot, step and code, so it reads without colour.

use std::fmt::Write as _;

use robodeploy_core::model::ProgressStep;

use super::Chart;

/// The picture's width in px.
const WIDTH: f64 = 960.0;
/// The robot-name column's width.
const LABELS: f64 = 170.0;
/// Room for the heading and the legend.
const HEAD: f64 = 52.0;
/// A lane's height when robots are few.
const LANE: f64 = 12.0;
/// The lanes' height at most: past it lanes get thinner.
const LANES_MAX: f64 = 2400.0;
/// Each strip's height (in flight, failed).
const STRIP: f64 = 70.0;
/// Room for the time axis under the lanes.
const AXIS: f64 = 22.0;

/// The colour of a step (names are drawn too: the legend, and each bar's title).
pub(crate) fn colour(step: ProgressStep) -> &'static str {
    match step {
        ProgressStep::Validating => "#9e9e9e",
        ProgressStep::ExecutingDownloadCondition => "#8e6bbf",
        ProgressStep::DownloadingExtracting => "#3f7fbf",
        ProgressStep::ExecutingPreLaunch => "#d9962b",
        ProgressStep::Launching => "#2aa198",
        ProgressStep::ExecutingPostLaunch => "#7a9e3a",
        ProgressStep::Finished => "#2e7d32",
        _ => "#607d8b",
    }
}

/// `text` with the five XML specials escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A duration as the axis labels it.
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{}.{}s", s, (ms % 1000) / 100)
    }
}

/// A round tick spacing for a span of `end` ms: about eight ticks.
fn tick(end: u64) -> u64 {
    const STEPS: [u64; 14] = [
        100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000,
        600_000, 1_800_000,
    ];
    STEPS
        .iter()
        .copied()
        .find(|s| end / s <= 8)
        .unwrap_or(3_600_000 * (end / 3_600_000 / 8).max(1))
}

/// Draws `chart`.
pub(crate) fn svg(chart: &Chart) -> String {
    let n = chart.lanes.len();
    let lane = if n == 0 {
        LANE
    } else {
        LANE.min(LANES_MAX / n as f64)
    };
    let lanes_h = lane * n as f64;
    let plot = WIDTH - LABELS - 10.0;
    let end = chart.end_ms.max(1);
    let x = |ms: u64| LABELS + plot * (ms.min(end) as f64 / end as f64);
    let strips_top = HEAD + lanes_h + AXIS;
    let height = strips_top + 2.0 * (STRIP + 16.0) + 8.0;
    let mut s = String::with_capacity(256 + n * 200);
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="rollout-timeline" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="sans-serif" font-size="11" data-robots="{n}" data-end-ms="{end}" data-limit="{}" data-threshold="{}">"#,
        chart.in_flight_limit, chart.failure_threshold
    );
    let _ = write!(
        s,
        r##"<title>{}</title><rect width="100%" height="100%" fill="#ffffff"/><text x="8" y="16" font-size="13" font-weight="bold">{}</text>"##,
        esc(&chart.title),
        esc(&chart.title)
    );
    // Legend: every step's colour and name, and the failure mark.
    let mut lx = 8.0;
    for step in ProgressStep::ALL {
        let name = step.to_string();
        let _ = write!(
            s,
            r#"<g class="legend"><rect x="{lx}" y="28" width="10" height="10" fill="{}"/><text x="{}" y="37">{}</text></g>"#,
            colour(step),
            lx + 13.0,
            esc(&name)
        );
        lx += 18.0 + 6.0 * name.len() as f64;
    }
    let _ = write!(
        s,
        r##"<g class="legend"><path d="M{a} 28 l10 10 M{a} 38 l10 -10" stroke="#d32f2f" stroke-width="2"/><text x="{b}" y="37">failed</text></g>"##,
        a = lx,
        b = lx + 13.0
    );
    // Lanes.
    let _ = write!(s, r#"<g class="lanes">"#);
    for (i, l) in chart.lanes.iter().enumerate() {
        let y = HEAD + lane * i as f64;
        let robot = esc(&l.robot);
        let _ = write!(s, r#"<g class="lane" data-robot="{robot}">"#);
        if lane >= 8.0 {
            let _ = write!(
                s,
                r#"<text x="{}" y="{:.1}" text-anchor="end" font-size="{:.0}">{robot}</text>"#,
                LABELS - 6.0,
                y + lane * 0.8,
                (lane - 2.0).min(11.0)
            );
        }
        for seg in &l.segments {
            let x0 = x(seg.start_ms);
            let w = (x(seg.end_ms) - x0).max(0.5);
            let _ = write!(
                s,
                r#"<rect class="bar" data-step="{step}" x="{x0:.2}" y="{:.2}" width="{w:.2}" height="{:.2}" fill="{}"><title>{robot}: {step} from {} to {}</title></rect>"#,
                y + lane * 0.1,
                lane * 0.8,
                colour(seg.step),
                clock(seg.start_ms),
                clock(seg.end_ms),
                step = seg.step,
            );
        }
        if let Some((at, code)) = l.failure {
            let cx = x(at);
            let r = (lane * 0.45).max(1.5);
            let cy = y + lane / 2.0;
            let _ = write!(
                s,
                r##"<path class="failure" data-code="{code}" d="M{:.2} {:.2} l{d:.2} {d:.2} M{:.2} {:.2} l{d:.2} -{d:.2}" stroke="#d32f2f" stroke-width="2"><title>{robot}: failed, {code}, at {}</title></path>"##,
                cx - r,
                cy - r,
                cx - r,
                cy + r,
                clock(at),
                d = 2.0 * r,
            );
        }
        s.push_str("</g>");
    }
    s.push_str("</g>");
    // Time axis.
    let axis_y = HEAD + lanes_h + 2.0;
    let _ = write!(
        s,
        r##"<g class="axis"><line x1="{LABELS}" y1="{axis_y:.1}" x2="{:.1}" y2="{axis_y:.1}" stroke="#555"/>"##,
        LABELS + plot
    );
    let step = tick(end);
    let mut t = 0;
    while t <= end {
        let tx = x(t);
        let _ = write!(
            s,
            r##"<line x1="{tx:.1}" y1="{axis_y:.1}" x2="{tx:.1}" y2="{:.1}" stroke="#555"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle">{}</text>"##,
            axis_y + 4.0,
            axis_y + 15.0,
            clock(t)
        );
        t += step;
    }
    s.push_str("</g>");
    // Strips: in flight against the limit, failed against the threshold.
    let in_flight = chart.in_flight();
    let failures = chart.failures();
    strip(
        &mut s,
        &StripSpec {
            top: strips_top,
            class: "in-flight",
            label: "in flight",
            line_class: "limit",
            line_label: "concurrency limit",
            line_at: chart.in_flight_limit,
            colour: "#3f7fbf",
        },
        &in_flight,
        end,
        &x,
    );
    strip(
        &mut s,
        &StripSpec {
            top: strips_top + STRIP + 16.0,
            class: "failed-count",
            label: "failed",
            line_class: "threshold",
            line_label: "failure threshold",
            line_at: chart.failure_threshold,
            colour: "#d32f2f",
        },
        &failures,
        end,
        &x,
    );
    s.push_str("</svg>\n");
    s
}

/// One strip's settings.
struct StripSpec {
    top: f64,
    class: &'static str,
    label: &'static str,
    line_class: &'static str,
    line_label: &'static str,
    line_at: u32,
    colour: &'static str,
}

/// A step plot of `points` with a dashed horizontal line at `spec.line_at`.
fn strip(
    s: &mut String,
    spec: &StripSpec,
    points: &[(u64, u32)],
    end: u64,
    x: &dyn Fn(u64) -> f64,
) {
    let top_value = points
        .iter()
        .map(|p| p.1)
        .max()
        .unwrap_or(0)
        .max(spec.line_at)
        .max(1);
    let bottom = spec.top + STRIP;
    let y = |v: u32| bottom - (STRIP - 10.0) * (f64::from(v) / f64::from(top_value));
    let _ = write!(
        s,
        r##"<g class="strip {}"><text x="{}" y="{:.1}" text-anchor="end">{}</text><line x1="{LABELS}" y1="{bottom:.1}" x2="{:.1}" y2="{bottom:.1}" stroke="#999"/>"##,
        spec.class,
        LABELS - 6.0,
        bottom - 2.0,
        spec.label,
        x(end)
    );
    let mut d = format!("M{LABELS:.2} {bottom:.2}");
    let mut last = 0;
    for &(t, v) in points {
        let _ = write!(d, " H{:.2} V{:.2}", x(t), y(v));
        last = v;
    }
    let _ = write!(d, " H{:.2}", x(end));
    let _ = write!(
        s,
        r#"<path class="{}" d="{d}" fill="none" stroke="{}" stroke-width="1.5"><title>{}: {} at the end, {} at most</title></path>"#,
        spec.class,
        spec.colour,
        spec.label,
        last,
        points.iter().map(|p| p.1).max().unwrap_or(0)
    );
    let ly = y(spec.line_at);
    let _ = write!(
        s,
        r##"<line class="{}" data-value="{}" x1="{LABELS}" y1="{ly:.2}" x2="{:.2}" y2="{ly:.2}" stroke="#000" stroke-dasharray="4 3"><title>{}: {}</title></line><text x="{:.1}" y="{:.1}" text-anchor="end">{} {}</text></g>"##,
        spec.line_class,
        spec.line_at,
        x(end),
        spec.line_label,
        spec.line_at,
        x(end),
        ly - 2.0,
        spec.line_label,
        spec.line_at
    );
}
