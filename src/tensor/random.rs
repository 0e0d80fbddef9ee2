//! The session's random stream: ChaCha8 seeded with `seed_from_u64`, so a
//! seed gives the same numbers on every platform. One stream per session,
//! advanced by every random use (initializers, `rand`, `randn`, `randint`)
//! and restarted by `seed N;`.

use rand::{Rng as _, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

#[derive(Clone, Debug)]
pub struct Rng(ChaCha8Rng);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// A uniform number in [0, 1) with 53 random bits.
    pub fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// `n` numbers uniform in [a, b).
    pub fn uniform(&mut self, a: f64, b: f64, n: usize) -> Vec<f64> {
        (0..n).map(|_| a + (b - a) * self.unit()).collect()
    }

    /// `n` numbers from a normal distribution.
    pub fn normal(&mut self, mean: f64, std: f64, n: usize) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let z: f64 = StandardNormal.sample(&mut self.0);
                mean + std * z
            })
            .collect()
    }

    /// Shuffles `idx` in place: Fisher-Yates from the last position down,
    /// position i swapped with `floor(unit() * (i + 1))`. Our own
    /// permutation (not torch's), the same for a seed on every machine.
    pub fn permute(&mut self, idx: &mut [usize]) {
        for i in (1..idx.len()).rev() {
            let j = ((self.unit() * (i + 1) as f64) as usize).min(i);
            idx.swap(i, j);
        }
    }

    /// `n` whole numbers uniform in [lo, hi) (lo < hi).
    pub fn randint(&mut self, lo: i64, hi: i64, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.0.gen_range(lo..hi) as f64).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_numbers() {
        let a = Rng::new(7).uniform(-1.0, 1.0, 5);
        let b = Rng::new(7).uniform(-1.0, 1.0, 5);
        assert_eq!(a, b);
        assert_ne!(a, Rng::new(8).uniform(-1.0, 1.0, 5));
        assert!(a.iter().all(|v| (-1.0..1.0).contains(v)));
    }

    #[test]
    fn permute_is_a_seeded_permutation() {
        let mut a: Vec<usize> = (0..10).collect();
        Rng::new(3).permute(&mut a);
        let mut b: Vec<usize> = (0..10).collect();
        Rng::new(3).permute(&mut b);
        assert_eq!(a, b);
        assert_ne!(a, (0..10).collect::<Vec<_>>());
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn portable_stream() {
        // ChaCha8 with seed_from_u64 is specified bit for bit: these are
        // the same on every platform.
        let mut r = Rng::new(0);
        let first = r.unit();
        let mut r2 = Rng::new(0);
        assert_eq!(first.to_bits(), r2.unit().to_bits());
        let ints = Rng::new(1).randint(0, 10, 100);
        assert!(ints
            .iter()
            .all(|v| v.fract() == 0.0 && (0.0..10.0).contains(v)));
    }
}
