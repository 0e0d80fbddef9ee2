//! The figure of `plot profile` (iminuit's `draw_mnprofile`): the MINOS
//! profile with its minimum subtracted, a vertical line at the fitted
//! value, and the MINOS interval shaded when MINOS ran on the parameter.

use super::{LinePlot, Series};

/// The profile of `name` (grid `values`, minima `fcn`) around the fitted
/// `value`, with the MINOS interval `(lower, upper)` (offsets) if known.
pub fn profile_plot(
    values: &[f64],
    fcn: &[f64],
    name: &str,
    value: f64,
    minos: Option<(f64, f64)>,
) -> LinePlot {
    let lowest = fcn
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let top = fcn
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max)
        - lowest;
    let top = if top.is_finite() && top > 0.0 {
        top
    } else {
        1.0
    };
    let vline = |x: f64| vec![(x, 0.0), (x, top)];
    let series = vec![
        Series {
            label: "profile".into(),
            points: values
                .iter()
                .zip(fcn)
                .map(|(&x, &f)| (x, f - lowest))
                .collect(),
            markers: true,
        },
        Series {
            label: format!("{name} = {}", crate::minuit::report::format_g(value, 4)),
            points: vline(value),
            markers: false,
        },
    ];
    let g = |v: f64| crate::minuit::report::format_g(v, 3);
    let title = match minos {
        Some((lo, hi)) => format!("MINOS profile of {name}: {} {} +{}", g(value), g(lo), g(hi)),
        None => format!("MINOS profile of {name}"),
    };
    LinePlot {
        title,
        xlabel: name.to_string(),
        ylabel: "FCN - min".into(),
        series,
        log_y: Some(false),
        zero_lines: false,
        integer_x: false,
        legend: true,
        bands: minos
            .map(|(lo, hi)| vec![(value + lo, value + hi)])
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtracts_the_minimum_and_marks_the_interval() {
        let p = profile_plot(
            &[0.0, 1.0, 2.0],
            &[5.0, 4.0, 5.0],
            "a",
            1.0,
            Some((-1.0, 1.0)),
        );
        assert_eq!(p.series[0].points, vec![(0.0, 1.0), (1.0, 0.0), (2.0, 1.0)]);
        assert_eq!(p.series.len(), 2);
        assert_eq!(p.bands, vec![(0.0, 2.0)]);
        let svg = super::super::Plot::Lines(p)
            .render(super::super::Format::Svg)
            .expect("an svg");
        let text = String::from_utf8_lossy(&svg);
        assert!(text.contains("class=\"span\""), "no shaded interval");
    }
}
