//! Charts as server-rendered SVG: no chart library in the browser, no
//! inline style (the portal's CSP forbids it), a title and description for
//! screen readers, and the same figures in a table beside each chart.

use std::fmt::Write as _;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const PAD_LEFT: f64 = 48.0;
const PAD_RIGHT: f64 = 12.0;
const PAD_TOP: f64 = 12.0;
const PAD_BOTTOM: f64 = 32.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// A line chart of one series over labelled points (days), with the value
/// axis from `min` to `max` and a zero line when zero is inside it.
pub fn line_chart(
    title: &str,
    description: &str,
    points: &[(String, f64)],
    min: f64,
    max: f64,
) -> String {
    let mut svg = String::new();
    let span = if (max - min).abs() < f64::EPSILON { 1.0 } else { max - min };
    let plot_w = WIDTH - PAD_LEFT - PAD_RIGHT;
    let plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM;
    let x = |i: usize| {
        if points.len() <= 1 {
            PAD_LEFT + plot_w / 2.0
        } else {
            PAD_LEFT + plot_w * i as f64 / (points.len() - 1) as f64
        }
    };
    let y = |v: f64| PAD_TOP + plot_h * (1.0 - (v.clamp(min, max) - min) / span);
    let _ = write!(
        svg,
        "<svg class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"chart-title chart-desc\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"chart-title\">{}</title><desc id=\"chart-desc\">{}</desc>",
        escape(title),
        escape(description)
    );
    let _ = write!(
        svg,
        "<rect x=\"{PAD_LEFT}\" y=\"{PAD_TOP}\" width=\"{plot_w}\" height=\"{plot_h}\" fill=\"#f4f6f8\" stroke=\"#d0d6dd\"/>"
    );
    for value in [min, (min + max) / 2.0, max] {
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\" fill=\"#4d5661\">{value:.2}</text>",
            PAD_LEFT - 6.0,
            y(value) + 4.0
        );
    }
    if min < 0.0 && max > 0.0 {
        let _ = write!(
            svg,
            "<line x1=\"{PAD_LEFT}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#7a838c\" stroke-dasharray=\"4 3\"/>",
            WIDTH - PAD_RIGHT,
            y(0.0),
            y(0.0)
        );
    }
    if !points.is_empty() {
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (_, v))| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#0b5cad\" stroke-width=\"2.5\"/>",
            path.join(" ")
        );
        for (i, (label, value)) in points.iter().enumerate() {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"#0b5cad\"><title>{}: {value:.3}</title></circle>",
                x(i),
                y(*value),
                escape(label)
            );
        }
        let first = &points[0].0;
        let last = &points[points.len() - 1].0;
        let _ = write!(
            svg,
            "<text x=\"{PAD_LEFT}\" y=\"{}\" font-size=\"11\" fill=\"#4d5661\">{}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"end\" fill=\"#4d5661\">{}</text>",
            HEIGHT - 10.0,
            escape(first),
            WIDTH - PAD_RIGHT,
            HEIGHT - 10.0,
            escape(last)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_is_svg_with_a_point_per_day_and_escaped_text() {
        let points = vec![("2026-12-01".to_owned(), -0.4), ("2026-12-02".to_owned(), -0.1)];
        let svg = line_chart("MinSkew <by day>", "desc", &points, -1.0, 0.5);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<circle").count(), 2);
        assert!(svg.contains("MinSkew &lt;by day&gt;"));
        assert!(!svg.contains("style="), "no inline style under the portal's CSP");
        assert!(svg.contains("stroke-dasharray"), "zero line inside the range");
        let empty = line_chart("t", "d", &[], 0.0, 0.0);
        assert!(empty.ends_with("</svg>"));
    }
}
