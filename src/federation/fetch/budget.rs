//! What one unit of work may fetch (FEDERATION.md F5): [`FetchBudget`], shared by
//! everything that fetches on behalf of one inbound activity, and [`PageLimit`], the pages
//! of one collection.

/// Fetches one inbound activity may cause, all kinds together (F5).
pub const FETCHES_PER_ACTIVITY: u32 = 20;
/// Pages of one collection we read at most (F5).
pub const MAX_COLLECTION_PAGES: u32 = 10;

/// What one unit of work (an inbound activity, one continuation of a thread walk) may still
/// fetch (F5). Passed by `&mut` through everything that fetches on its behalf; once spent,
/// fetches are refused with [`FetchError::BudgetSpent`](super::FetchError::BudgetSpent) before any connection is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchBudget {
    remaining: u32,
}

impl FetchBudget {
    /// The budget of one inbound activity: [`FETCHES_PER_ACTIVITY`].
    pub fn per_activity() -> Self {
        Self { remaining: FETCHES_PER_ACTIVITY }
    }

    /// A budget of `n` fetches.
    pub fn of(n: u32) -> Self {
        Self { remaining: n }
    }

    /// Fetches left.
    pub fn remaining(&self) -> u32 {
        self.remaining
    }

    /// Takes one fetch; false when none is left.
    pub fn take(&mut self) -> bool {
        match self.remaining.checked_sub(1) {
            Some(left) => {
                self.remaining = left;
                true
            }
            None => false,
        }
    }
}

/// Counts the pages read of one collection against [`MAX_COLLECTION_PAGES`].
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PageLimit {
    read: u32,
}

impl PageLimit {
    /// Takes one page; false once [`MAX_COLLECTION_PAGES`] were read.
    pub fn take(&mut self) -> bool {
        if self.read >= MAX_COLLECTION_PAGES {
            return false;
        }
        self.read += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_run_out_and_stay_out() {
        let mut budget = FetchBudget::per_activity();
        assert_eq!((0..25).filter(|_| budget.take()).count(), FETCHES_PER_ACTIVITY as usize);
        assert!(!budget.take());
        let mut pages = PageLimit::default();
        assert_eq!((0..15).filter(|_| pages.take()).count(), MAX_COLLECTION_PAGES as usize);
    }
}
