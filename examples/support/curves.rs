//! Training curves as an SVG file (plotters, SVG backend only): one panel per metric, one
//! line per series, the x axis in epochs.

use plotters::prelude::*;
use std::error::Error;
use std::path::Path;

/// One panel: a title and its lines (name, one value per epoch).
pub struct Panel<'a> {
    pub title: &'a str,
    pub lines: Vec<(&'a str, &'a [f64])>,
}

/// Draws `panels` side by side into an SVG at `path`.
pub fn write_svg(path: &Path, panels: &[Panel<'_>]) -> Result<(), Box<dyn Error>> {
    let root = SVGBackend::new(path, (480 * panels.len() as u32, 360)).into_drawing_area();
    root.fill(&WHITE)?;
    let colors = [BLUE, RED, GREEN, MAGENTA];
    for (area, panel) in root.split_evenly((1, panels.len())).iter().zip(panels) {
        let epochs = panel
            .lines
            .iter()
            .map(|(_, v)| v.len())
            .max()
            .unwrap_or(1)
            .max(2);
        let values = panel.lines.iter().flat_map(|(_, v)| v.iter().copied());
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let pad = ((hi - lo) * 0.05).max(1e-6);
        let mut chart = ChartBuilder::on(area)
            .caption(panel.title, ("sans-serif", 20))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(1f64..epochs as f64, (lo - pad)..(hi + pad))?;
        chart.configure_mesh().x_desc("epoch").draw()?;
        for ((name, v), color) in panel.lines.iter().zip(colors.iter().cycle()) {
            let points = v.iter().enumerate().map(|(i, &y)| ((i + 1) as f64, y));
            chart
                .draw_series(LineSeries::new(points, color))?
                .label(*name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()?;
    }
    root.present()?;
    Ok(())
}
