//! `hosts`: delivery health per remote host (circuit breaker, dead-host detection).

use sea_orm::entity::prelude::*;

/// Health of one remote host.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "hosts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub host: String,
    pub consecutive_failures: i32,
    /// Distinct UTC days with a failure and no success since.
    pub failure_days: i32,
    /// `YYYY-MM-DD` of the last failure.
    pub last_failure_day: Option<String>,
    /// Marked dead after failures on 7 distinct days; revived by any success or signed request.
    pub unavailable: bool,
    pub breaker_open_until: Option<DateTimeUtc>,
    pub last_success_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    /// When an unavailable host's next probe delivery is due (one a day).
    pub probe_after: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
