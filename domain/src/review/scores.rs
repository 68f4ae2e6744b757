//! The figures the committee decides on, from the mentors' scores: a review's weighted total,
//! each mentor's z-scores (which calibrate harsh and lenient mentors), and per application the
//! mean, the spread (mentors disagree) and the normalised score. Pure: `decisions` reads the
//! scores and shows these.
use std::collections::HashMap;

/// Reviews further apart than this (on the 1–5 scale) are flagged as a disagreement.
pub const DISAGREEMENT_SPREAD: f64 = 1.5;

/// A review's weighted total on the 1–5 scale.
pub(super) fn weighted_total(scores: &[(i64, i32)], weights: &HashMap<i64, i32>) -> Option<f64> {
    let (mut sum, mut weight) = (0i64, 0i64);
    for (criterion_id, s) in scores {
        if let Some(w) = weights.get(criterion_id) {
            sum += i64::from(*w) * i64::from(*s);
            weight += i64::from(*w);
        }
    }
    (weight > 0).then(|| sum as f64 / weight as f64)
}

/// z-scores of one mentor's totals: 0 when they reviewed once or scored everything alike.
pub(super) fn z_scores(totals: &[f64]) -> Vec<f64> {
    let n = totals.len() as f64;
    let mean = totals.iter().sum::<f64>() / n;
    let sd = (totals.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / n).sqrt();
    totals
        .iter()
        .map(|t| if sd > 1e-9 { (t - mean) / sd } else { 0.0 })
        .collect()
}

/// What the committee sees of one application's submitted reviews.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Aggregate {
    /// The mean of the reviews' weighted totals.
    pub mean: f64,
    /// The highest total less the lowest.
    pub spread: f64,
    /// The mean of the reviews' z-scores, each within its mentor's reviews.
    pub normalised: f64,
}

/// The figures of one application from its reviews, each (weighted total, its z-score); None
/// without a review.
pub(super) fn aggregate(reviews: &[(f64, f64)]) -> Option<Aggregate> {
    if reviews.is_empty() {
        return None;
    }
    let n = reviews.len() as f64;
    let totals = || reviews.iter().map(|(t, _)| *t);
    Some(Aggregate {
        mean: totals().sum::<f64>() / n,
        spread: totals().fold(f64::MIN, f64::max) - totals().fold(f64::MAX, f64::min),
        normalised: reviews.iter().map(|(_, z)| *z).sum::<f64>() / n,
    })
}

/// Whether mentors disagree: their totals are DISAGREEMENT_SPREAD or more apart.
pub(super) fn disagree(spread: Option<f64>) -> bool {
    spread.is_some_and(|s| s >= DISAGREEMENT_SPREAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_are_weighted_and_ignore_removed_criteria() {
        let weights = HashMap::from([(1, 2), (2, 1)]);
        assert_eq!(weighted_total(&[(1, 5), (2, 2)], &weights), Some(4.0));
        assert_eq!(
            weighted_total(&[(1, 5), (2, 2), (9, 1)], &weights),
            Some(4.0)
        );
        assert_eq!(weighted_total(&[], &weights), None);
    }

    #[test]
    fn z_scores_calibrate_each_mentor() {
        assert_eq!(z_scores(&[4.0, 3.0]), vec![1.0, -1.0]);
        assert_eq!(z_scores(&[2.0, 1.0]), vec![1.0, -1.0]);
        assert_eq!(z_scores(&[3.0]), vec![0.0]);
        assert_eq!(z_scores(&[3.0, 3.0]), vec![0.0, 0.0]);
    }

    #[test]
    fn a_review_only_on_unweighted_criteria_has_no_total() {
        let weights = HashMap::from([(1, 0), (2, 3)]);
        assert_eq!(weighted_total(&[(1, 5)], &weights), None);
        assert_eq!(weighted_total(&[(1, 5), (2, 2)], &weights), Some(2.0));
    }

    #[test]
    fn an_application_without_reviews_has_no_figures() {
        assert_eq!(aggregate(&[]), None);
    }

    #[test]
    fn one_review_is_its_own_mean_without_spread() {
        assert_eq!(
            aggregate(&[(3.5, 0.0)]),
            Some(Aggregate {
                mean: 3.5,
                spread: 0.0,
                normalised: 0.0,
            })
        );
    }

    #[test]
    fn reviews_give_a_mean_a_spread_and_a_normalised_score() {
        assert_eq!(
            aggregate(&[(4.0, 1.0), (2.0, -1.0), (3.0, 0.5)]),
            Some(Aggregate {
                mean: 3.0,
                spread: 2.0,
                normalised: 0.5 / 3.0,
            })
        );
    }

    #[test]
    fn mentors_disagree_from_one_and_a_half_points_apart() {
        assert!(!disagree(None));
        assert!(!disagree(Some(0.0)));
        assert!(!disagree(Some(1.49)));
        assert!(disagree(Some(1.5)));
        assert!(disagree(Some(3.0)));
        let spread = |r: &[(f64, f64)]| aggregate(r).map(|a| a.spread);
        assert!(disagree(spread(&[(5.0, 0.0), (3.5, 0.0)])));
        assert!(!disagree(spread(&[(5.0, 0.0), (3.75, 0.0)])));
    }

    #[test]
    fn normalised_scores_rank_past_a_harsh_mentor() {
        // A harsh mentor scores X 3.0 and Y 1.0; a lenient one scores Z 5.0 and W 4.6.
        let harsh = z_scores(&[3.0, 1.0]);
        let lenient = z_scores(&[5.0, 4.6]);
        let x = aggregate(&[(3.0, harsh[0])]).unwrap();
        let w = aggregate(&[(4.6, lenient[1])]).unwrap();
        // By raw mean W leads; normalised, X (its mentor's best) leads W (its mentor's worst).
        assert!(w.mean > x.mean);
        assert_eq!((x.normalised, w.normalised), (1.0, -1.0));
    }

    #[test]
    fn two_mentors_of_different_severity_agree_once_normalised() {
        // Both prefer X to Y, one on a harsher scale: three points apart on the raw scale.
        let harsh = z_scores(&[2.0, 1.0]);
        let lenient = z_scores(&[5.0, 4.0]);
        let x = aggregate(&[(2.0, harsh[0]), (5.0, lenient[0])]).unwrap();
        let y = aggregate(&[(1.0, harsh[1]), (4.0, lenient[1])]).unwrap();
        assert_eq!((x.mean, x.spread, x.normalised), (3.5, 3.0, 1.0));
        assert_eq!((y.mean, y.spread, y.normalised), (2.5, 3.0, -1.0));
        assert!(disagree(Some(x.spread)));
    }
}
