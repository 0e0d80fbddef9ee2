//! Tensor parameter initializers, with torch.nn.init's fan and gain rules.

/// torch's `_calculate_fan_in_and_fan_out`: (fan_in, fan_out), or None
/// for fewer than two dimensions.
pub fn fans(shape: &[usize]) -> Option<(f64, f64)> {
    if shape.len() < 2 {
        return None;
    }
    let receptive: usize = shape[2..].iter().product();
    Some(((shape[1] * receptive) as f64, (shape[0] * receptive) as f64))
}

/// The fan_in used by the default initializer (nn.Linear's weight): torch's
/// rule for rank >= 2; a vector's length for rank 1; 1 for a scalar.
pub fn default_fan_in(shape: &[usize]) -> f64 {
    match fans(shape) {
        Some((fi, _)) => fi,
        None => shape.first().copied().unwrap_or(1) as f64,
    }
}

/// torch's `calculate_gain(nonlinearity, param)`.
pub fn gain(nonlinearity: &str, param: Option<f64>) -> Result<f64, String> {
    Ok(match nonlinearity {
        "linear" | "conv1d" | "conv2d" | "conv3d" | "conv_transpose1d" | "conv_transpose2d"
        | "conv_transpose3d" | "sigmoid" => 1.0,
        "tanh" => 5.0 / 3.0,
        "relu" => 2f64.sqrt(),
        "leaky_relu" => {
            let a = param.unwrap_or(0.01);
            (2.0 / (1.0 + a * a)).sqrt()
        }
        "selu" => 3.0 / 4.0,
        _ => return Err(format!("unsupported nonlinearity `{nonlinearity}`")),
    })
}

/// The names of the initializers.
pub const INITIALIZERS: &[&str] = &[
    "uniform",
    "normal",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "zeros",
    "ones",
    "constant",
];

/// The NONLINEARITIES `calculate_gain` knows.
pub const NONLINEARITIES: &[&str] = &[
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn torch_fans_and_gains() {
        assert_eq!(fans(&[10, 20]), Some((20.0, 10.0)));
        assert_eq!(fans(&[8, 3, 5, 5]), Some((75.0, 200.0)));
        assert_eq!(fans(&[4]), None);
        assert_eq!(gain("relu", None).unwrap(), 2f64.sqrt());
        assert_eq!(gain("leaky_relu", Some(0.0)).unwrap(), 2f64.sqrt());
        assert!(
            (gain("leaky_relu", Some(5f64.sqrt())).unwrap() - (1.0f64 / 3.0).sqrt()).abs() < 1e-15
        );
        assert!(gain("bogus", None).is_err());
    }
}
