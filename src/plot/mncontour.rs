//! The figure of `plot mncontour` (iminuit's `draw_mncontour`): one closed
//! MINOS contour per confidence level, each named in the legend, and the
//! minimum marked. Drawn as a line plot so it shares the axes, legend and
//! both output formats of every other figure.

use super::{LinePlot, Series};

/// The contours (legend label, closed points) around `minimum` of
/// parameters `xname`, `yname`.
pub fn mncontour_plot(
    contours: &[(String, Vec<(f64, f64)>)],
    minimum: (f64, f64),
    xname: &str,
    yname: &str,
) -> LinePlot {
    let mut series: Vec<Series> = contours
        .iter()
        .map(|(label, pts)| Series {
            label: label.clone(),
            points: pts.clone(),
            markers: false,
        })
        .collect();
    series.push(Series {
        label: "minimum".into(),
        points: vec![minimum],
        markers: true,
    });
    LinePlot {
        title: format!("MINOS contours of {xname} and {yname}"),
        xlabel: xname.to_string(),
        ylabel: yname.to_string(),
        series,
        log_y: Some(false),
        zero_lines: false,
        integer_x: false,
        legend: true,
        bands: Vec::new(),
    }
}

/// The legend label of a confidence level as iminuit reads it: `1σ` for a
/// number of standard deviations, `68 %` for a probability.
pub fn cl_label(cl: f64) -> String {
    if cl >= 1.0 {
        format!("{}σ", crate::minuit::report::format_g(cl, 4))
    } else {
        format!("{} %", crate::minuit::report::format_g(cl * 100.0, 4))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_series_per_level_and_the_minimum() {
        let ring = vec![(1.0, 0.0), (0.0, 1.0), (-1.0, 0.0), (1.0, 0.0)];
        let p = mncontour_plot(
            &[(cl_label(1.0), ring.clone()), (cl_label(0.9), ring)],
            (0.0, 0.0),
            "a",
            "b",
        );
        assert_eq!(p.series.len(), 3);
        assert_eq!(p.series[0].label, "1σ");
        assert_eq!(p.series[1].label, "90 %");
        assert!(p.series[2].markers);
        assert!(super::super::Plot::Lines(p)
            .render(super::super::Format::Svg)
            .is_ok());
    }
}
