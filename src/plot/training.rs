//! The training plots: the learning rate per step (`plot lr`), and the
//! loss of a minibatch run (`plot loss`): the batch loss per step with the
//! mean of each epoch and each watched value drawn at the step that ends
//! the epoch, so train and validation curves share one axis.

use super::{LinePlot, Series};

/// The learning rate of each step.
pub fn lr_plot(lrs: &[f64], title: &str) -> LinePlot {
    LinePlot {
        title: title.to_string(),
        xlabel: "step".into(),
        ylabel: "learning rate".into(),
        series: vec![Series {
            label: "lr".into(),
            points: lrs
                .iter()
                .enumerate()
                .map(|(i, &v)| (i as f64, v))
                .collect(),
            markers: lrs.len() <= 50,
        }],
        log_y: None,
        zero_lines: false,
        integer_x: true,
        legend: false,
        bands: Vec::new(),
    }
}

/// The batch loss per step, the epoch means and the watched values, each
/// epoch's points at the step after its last batch.
pub fn epoch_loss_plot(
    losses: &[f64],
    per_epoch: usize,
    epoch_loss: &[f64],
    watch: &[(String, Vec<f64>)],
    title: &str,
) -> LinePlot {
    let mut p = LinePlot::loss(losses, title, "step");
    p.series[0].label = "batch loss".into();
    p.series[0].markers = false;
    let at = |e: usize| ((e + 1) * per_epoch) as f64;
    let epochs = |v: &[f64]| v.iter().enumerate().map(|(e, &y)| (at(e), y)).collect();
    p.series.push(Series {
        label: "epoch mean".into(),
        points: epochs(epoch_loss),
        markers: epoch_loss.len() <= 50,
    });
    for (name, v) in watch {
        p.series.push(Series {
            label: name.clone(),
            points: epochs(v),
            markers: v.len() <= 50,
        });
    }
    p.legend = true;
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_points_sit_at_the_end_of_their_epoch() {
        let w = vec![("val".to_string(), vec![3.0, 2.0])];
        let p = epoch_loss_plot(&[5.0, 4.0, 3.0, 2.0, 1.0], 2, &[4.5, 2.5], &w, "t");
        assert_eq!(p.series.len(), 3);
        assert_eq!(p.series[1].points, vec![(2.0, 4.5), (4.0, 2.5)]);
        assert_eq!(p.series[2].label, "val");
        assert!(p.legend);
        assert_eq!(lr_plot(&[0.1, 0.05], "lr").series[0].points[1], (1.0, 0.05));
    }
}
