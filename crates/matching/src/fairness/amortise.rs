//! Fairness over time: a group's exposure is owed across many rankings, not
//! only within each (amortised fairness, after Biega, Gummadi and Weikum,
//! "Equity of Attention", SIGIR 2018).
//!
//! A top-k list hands out `X_k = Σ_{r=1..k} 1/log2(1 + r)` of exposure.
//! Each list records, per group `g`, what it *owed* (`p_g · X_k`, with `p`
//! the desired shares among the groups present in its pool) and what it
//! *gave* (`Σ_{ranks r of g} 1/log2(1 + r)`). Over a window of lists the
//! deficit is `δ_g = Σ owed_g − Σ given_g`: positive for a group that
//! received less attention than its share.
//!
//! The next list's target is corrected towards paying the deficit off:
//!
//! `n_g = p_g · X_k + clamp(δ_g, −c · X_k, c · X_k)`, then
//! `q_g = max(n_g, 0) / Σ_h max(n_h, 0)` over the groups in the pool,
//!
//! where `c` (`max_correction`) bounds how far one list moves from the
//! desired shares, so a long-standing deficit is repaid over several lists
//! rather than by one list of a single group.

use super::FairnessError;

/// `X_k`: the exposure a list of `k` ranks hands out.
pub fn list_exposure(k: usize) -> f64 {
    (1..=k).map(|rank| 1.0 / ((rank + 1) as f64).log2()).sum()
}

/// One group's exposure over a window of lists.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Account {
    /// Σ of what the lists owed the group.
    pub owed: f64,
    /// Σ of what the lists gave it.
    pub given: f64,
}

impl Account {
    /// Positive when the group is owed exposure.
    pub fn deficit(&self) -> f64 {
        self.owed - self.given
    }
}

/// The desired shares: `fixed` shares where a policy names them, the rest of
/// the mass spread over the other groups by their share of the pool
/// (`fixed` has an entry per group of `pool_share`; missing ones count as
/// unnamed).
///
/// Fixed shares must lie in [0, 1] and sum to at most 1. When the unnamed
/// groups have no one in the pool, the named shares are scaled to sum to 1.
pub fn desired_shares(
    pool_share: &[f64],
    fixed: &[Option<f64>],
) -> Result<Vec<f64>, FairnessError> {
    let fixed = |group: usize| fixed.get(group).copied().flatten();
    let mut named = 0.0;
    let mut unnamed_pool = 0.0;
    for (group, pool) in pool_share.iter().enumerate() {
        match fixed(group) {
            Some(share) if !(0.0..=1.0).contains(&share) => {
                return Err(FairnessError::OutOfRange {
                    name: "target share",
                    value: share,
                    low: 0.0,
                    high: 1.0,
                })
            }
            Some(share) => named += share,
            None => unnamed_pool += pool,
        }
    }
    if named > 1.0 + 1e-9 {
        return Err(FairnessError::BadTarget { sum: named });
    }
    let rest = (1.0 - named).max(0.0);
    let mut shares: Vec<f64> = pool_share
        .iter()
        .enumerate()
        .map(|(group, pool)| match fixed(group) {
            Some(share) => share,
            None if unnamed_pool > 0.0 => rest * pool / unnamed_pool,
            None => 0.0,
        })
        .collect();
    normalise_or(&mut shares, pool_share);
    Ok(shares)
}

/// `desired` restricted to the groups with candidates (`available[g] > 0`),
/// scaled to sum to 1; if it wants only absent groups, the pool's own mix.
pub fn among_available(desired: &[f64], available: &[usize]) -> Vec<f64> {
    let mut shares: Vec<f64> = desired
        .iter()
        .zip(available)
        .map(|(share, count)| if *count > 0 { *share } else { 0.0 })
        .collect();
    let total = available.iter().sum::<usize>().max(1) as f64;
    let pool: Vec<f64> = available.iter().map(|count| *count as f64 / total).collect();
    normalise_or(&mut shares, &pool);
    shares
}

/// The target for the next list of `k`: `desired` (already restricted to
/// the pool) corrected by the accounts' deficits, as in the module doc.
pub fn corrected_target(
    desired: &[f64],
    accounts: &[Account],
    k: usize,
    max_correction: f64,
) -> Vec<f64> {
    let budget = list_exposure(k);
    let bound = max_correction.max(0.0) * budget;
    let mut shares: Vec<f64> = desired
        .iter()
        .enumerate()
        .map(|(group, share)| {
            if *share <= 0.0 {
                return 0.0; // absent from the pool: nothing to give now
            }
            let deficit = accounts.get(group).map_or(0.0, Account::deficit);
            (share * budget + deficit.clamp(-bound, bound)).max(0.0)
        })
        .collect();
    normalise_or(&mut shares, desired);
    shares
}

/// What a list owed and gave each group, for the accounts: `desired` the
/// uncorrected shares among the pool, `ranking` the group of each rank shown.
pub fn list_accounts(desired: &[f64], ranking: &[usize]) -> Vec<Account> {
    let budget = list_exposure(ranking.len());
    let given = super::metrics::exposure(ranking, desired.len());
    desired
        .iter()
        .zip(given)
        .map(|(share, given)| Account { owed: share * budget, given })
        .collect()
}

/// Scales `shares` to sum to 1, or copies `fallback` when they sum to 0.
fn normalise_or(shares: &mut [f64], fallback: &[f64]) {
    let total: f64 = shares.iter().sum();
    if total > 0.0 && total.is_finite() {
        shares.iter_mut().for_each(|share| *share /= total);
    } else {
        shares.copy_from_slice(&fallback[..shares.len()]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn a_top_ten_hands_out_the_discounted_sum() {
        assert!((list_exposure(1) - 1.0).abs() < 1e-12);
        assert!((list_exposure(2) - (1.0 + 1.0 / 3f64.log2())).abs() < 1e-12);
        assert!((list_exposure(10) - 4.543_559_338).abs() < 1e-6);
    }

    #[test]
    fn named_shares_are_kept_and_the_rest_follows_the_pool() {
        let shares = desired_shares(&[0.6, 0.3, 0.1], &[None, Some(0.4), None]).expect("valid");
        // 0.6 of mass left, split 6:1 between groups 0 and 2.
        assert!(close(&shares, &[0.6 * 6.0 / 7.0, 0.4, 0.6 / 7.0]), "{shares:?}");
        assert!(desired_shares(&[0.5, 0.5], &[Some(0.7), Some(0.6)]).is_err());
        assert!(desired_shares(&[0.5, 0.5], &[Some(-0.1), None]).is_err());
        // Nobody unnamed in the pool: the named shares are scaled up.
        let shares = desired_shares(&[1.0, 0.0], &[Some(0.25), None]).expect("valid");
        assert!(close(&shares, &[1.0, 0.0]), "{shares:?}");
    }

    #[test]
    fn absent_groups_get_nothing() {
        assert!(close(
            &among_available(&[0.5, 0.3, 0.2], &[4, 0, 1]),
            &[0.5 / 0.7, 0.0, 0.2 / 0.7]
        ));
        // Wanting only the absent: the pool's mix.
        assert!(close(&among_available(&[0.0, 1.0], &[3, 0]), &[1.0, 0.0]));
    }

    #[test]
    fn no_history_keeps_the_desired_shares() {
        let target = corrected_target(&[0.7, 0.3], &[], 10, 0.25);
        assert!(close(&target, &[0.7, 0.3]));
    }

    #[test]
    fn a_deficit_raises_the_group_by_at_most_the_bound() {
        let budget = list_exposure(10);
        let owed_newcomers = Account { owed: 30.0, given: 10.0 }; // far behind
        let established = Account { owed: 70.0, given: 90.0 };
        let target = corrected_target(&[0.7, 0.3], &[established, owed_newcomers], 10, 0.25);
        let expected_newcomer = (0.3 + 0.25) * budget / budget;
        assert!(close(&target, &[1.0 - expected_newcomer, expected_newcomer]), "{target:?}");
        // A small deficit is repaid in full.
        let small = [Account { owed: 7.0, given: 7.5 }, Account { owed: 3.0, given: 2.5 }];
        let target = corrected_target(&[0.7, 0.3], &small, 10, 0.25);
        assert!(close(&target, &[0.7 - 0.5 / budget, 0.3 + 0.5 / budget]), "{target:?}");
    }

    #[test]
    fn repeated_lists_converge_on_the_desired_exposure() {
        // A ranking that puts the one newcomer last of four gives them
        // 1/log2(5) = 0.43 of 2.56 (17 %) where 25 % is owed; meeting the
        // corrected target on later lists closes the gap.
        let desired = [0.75, 0.25];
        let mut accounts = vec![Account::default(); 2];
        let add = |ranking: &[usize], accounts: &mut [Account]| {
            for (account, list) in accounts.iter_mut().zip(list_accounts(&desired, ranking)) {
                account.owed += list.owed;
                account.given += list.given;
            }
        };
        add(&[0, 0, 0, 1], &mut accounts);
        let before = accounts[1].deficit();
        assert!(before > 0.1);
        let target = corrected_target(&desired, &accounts, 4, 0.25);
        assert!(target[1] > 0.25, "{target:?}");
        // A list meeting that target (newcomer at rank 1) repays the debt.
        add(&[1, 0, 0, 0], &mut accounts);
        assert!(accounts[1].deficit() < 0.0, "now owed by the newcomers: {accounts:?}");
    }

    #[test]
    fn an_empty_list_owes_and_gives_nothing() {
        assert_eq!(list_accounts(&[0.5, 0.5], &[]), vec![Account::default(); 2]);
    }
}
