//! PNG plots with plotters: a CDF (latency), a distribution of small counts (hops,
//! messages per lookup), and lines of a summary figure against the experiment's
//! parameter (success against churn, …). Text needs a TrueType font: DejaVu Sans from
//! the system (Debian's `fonts-dejavu-core`), or the file `SWARMLAB_FONT` names.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::FontStyle;

const SIZE: (u32, u32) = (900, 560);
const FONT_PATHS: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

/// Registers a font for the plots' text, once; false when none was found.
pub fn font_ready() -> bool {
    static READY: OnceLock<bool> = OnceLock::new();
    *READY.get_or_init(|| {
        let from_env = std::env::var_os("SWARMLAB_FONT").map(PathBuf::from);
        let found = from_env
            .into_iter()
            .chain(FONT_PATHS.iter().map(PathBuf::from))
            .find_map(|p| std::fs::read(p).ok());
        match found {
            Some(bytes) => {
                let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_ok()
            }
            None => false,
        }
    })
}

/// Draws into a temporary file next to `path`, then renames it into place.
fn draw_to(path: &Path, draw: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!("{stem}.tmp-{}.png", std::process::id()));
    draw(&tmp)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

fn err(e: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("plot: {e}")
}

/// One line per series: the share of values at or below x. With `log_x` the x axis is
/// logarithmic (values ≤ 0 are left out).
pub fn cdf(
    path: &Path,
    title: &str,
    xlabel: &str,
    series: &[(String, Vec<f64>)],
    log_x: bool,
) -> Result<()> {
    let tx = |v: f64| if log_x { v.max(1e-9).log10() } else { v };
    let all: Vec<f64> = series
        .iter()
        .flat_map(|s| s.1.iter().copied())
        .filter(|v| v.is_finite() && (!log_x || *v > 0.0))
        .collect();
    if all.is_empty() {
        return Ok(());
    }
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (x0, x1) = if log_x {
        (tx(lo).floor(), tx(hi).ceil().max(tx(lo).floor() + 1.0))
    } else {
        (0.0, hi.max(1.0) * 1.05)
    };
    let lines: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, vals)| {
            let mut v: Vec<f64> = vals
                .iter()
                .copied()
                .filter(|v| v.is_finite() && (!log_x || *v > 0.0))
                .collect();
            v.sort_by(f64::total_cmp);
            let n = v.len().max(1) as f64;
            let pts = v
                .iter()
                .enumerate()
                .map(|(j, x)| (tx(*x), (j + 1) as f64 / n))
                .collect();
            (name.clone(), pts)
        })
        .collect();
    chart_lines(
        path,
        Axes {
            title,
            xlabel,
            ylabel: "share of lookups",
            x: (x0, x1),
            y: (0.0, 1.0),
            log_x,
            markers: false,
        },
        &lines,
    )
}

/// One line per series: the share of lookups with each value of a small count (hops,
/// messages per lookup).
pub fn distribution(
    path: &Path,
    title: &str,
    xlabel: &str,
    series: &[(String, Vec<f64>)],
) -> Result<()> {
    let max = series
        .iter()
        .flat_map(|s| s.1.iter().copied())
        .fold(0.0f64, f64::max)
        .ceil()
        .max(1.0);
    let lines: Vec<(String, Vec<(f64, f64)>)> = series
        .iter()
        .map(|(name, vals)| {
            let n = vals.len().max(1) as f64;
            let mut counts = vec![0usize; max as usize + 1];
            for v in vals {
                counts[(v.round().max(0.0) as usize).min(max as usize)] += 1;
            }
            let pts = counts
                .iter()
                .enumerate()
                .map(|(x, c)| (x as f64, *c as f64 / n))
                .collect();
            (name.clone(), pts)
        })
        .collect();
    let ymax = lines
        .iter()
        .flat_map(|l| l.1.iter().map(|p| p.1))
        .fold(0.0f64, f64::max)
        .max(0.05)
        * 1.1;
    let ax = Axes {
        title,
        xlabel,
        ylabel: "share of lookups",
        x: (0.0, max),
        y: (0.0, ymax),
        log_x: false,
        markers: true,
    };
    chart_lines(path, ax, &lines)
}

/// One line per family: a figure against the parameter.
pub fn against(
    path: &Path,
    title: &str,
    xlabel: &str,
    ylabel: &str,
    lines: &[(String, Vec<(f64, f64)>)],
) -> Result<()> {
    let xs = lines.iter().flat_map(|l| l.1.iter().map(|p| p.0));
    let (x0, x1) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let ys = lines.iter().flat_map(|l| l.1.iter().map(|p| p.1));
    let y1 = ys.fold(0.0f64, f64::max);
    if !x0.is_finite() {
        return Ok(());
    }
    let pad = ((x1 - x0) * 0.05).max(0.5);
    let ax = Axes {
        title,
        xlabel,
        ylabel,
        x: (x0 - pad, x1 + pad),
        y: (0.0, (y1 * 1.1).max(1.0)),
        log_x: false,
        markers: true,
    };
    chart_lines(path, ax, lines)
}

/// What a line chart shows around its lines.
struct Axes<'a> {
    title: &'a str,
    xlabel: &'a str,
    ylabel: &'a str,
    x: (f64, f64),
    y: (f64, f64),
    /// The x values are log10 of the values: label the decades.
    log_x: bool,
    /// A dot on every point.
    markers: bool,
}

fn chart_lines(path: &Path, ax: Axes<'_>, lines: &[(String, Vec<(f64, f64)>)]) -> Result<()> {
    draw_to(path, |tmp| {
        let root = BitMapBackend::new(tmp, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(ax.title, ("sans-serif", 22))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(ax.x.0..ax.x.1, ax.y.0..ax.y.1)
            .map_err(err)?;
        let log_x = ax.log_x;
        chart
            .configure_mesh()
            .x_desc(ax.xlabel)
            .y_desc(ax.ylabel)
            .x_labels(if log_x {
                (ax.x.1 - ax.x.0) as usize + 1
            } else {
                10
            })
            .x_label_formatter(&|v| {
                if !log_x {
                    format!("{v:.0}")
                } else if (v - v.round()).abs() < 1e-6 {
                    // Decades only: 1, 10, 100, ...
                    format!("{:.0}", 10f64.powf(v.round()))
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(err)?;
        for (i, (name, pts)) in lines.iter().enumerate() {
            let color = Palette99::pick(i).stroke_width(2);
            chart
                .draw_series(LineSeries::new(pts.clone(), color))
                .map_err(err)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(
                        vec![(x, y), (x + 18, y)],
                        Palette99::pick(i).stroke_width(2),
                    )
                });
            if ax.markers {
                chart
                    .draw_series(
                        pts.iter()
                            .map(|p| Circle::new(*p, 3, Palette99::pick(i).filled())),
                    )
                    .map_err(err)?;
            }
        }
        chart
            .configure_series_labels()
            .position(if log_x || !ax.markers {
                SeriesLabelPosition::LowerRight
            } else {
                SeriesLabelPosition::UpperRight
            })
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
        Ok(())
    })
}
