//! `hosts`: the failing hosts' health rows (FEDERATION.md D7). The decisions (breaker,
//! dead-host detection, probes) are `federation::delivery::hosts`'; these are the statements.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    sea_query::{Expr, OnConflict},
};

use crate::db::entities::hosts::{self, Column as C};

/// Every failing host.
pub async fn all(db: &impl ConnectionTrait) -> Result<Vec<hosts::Model>, DbErr> {
    hosts::Entity::find().all(db).await
}

/// The row of `host`, if it is failing.
pub async fn find(db: &impl ConnectionTrait, host: &str) -> Result<Option<hosts::Model>, DbErr> {
    hosts::Entity::find_by_id(host.to_owned()).one(db).await
}

/// Takes the probe of unavailable `host` due at `now`, moving the next one to `next`; whether
/// this caller got it (only one of several processes does).
pub async fn claim_probe(
    db: &impl ConnectionTrait,
    host: &str,
    now: DateTime<Utc>,
    next: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claimed = hosts::Entity::update_many()
        .col_expr(C::ProbeAfter, Expr::value(next))
        .filter(C::Host.eq(host))
        .filter(C::Unavailable.eq(true))
        .filter(Condition::any().add(C::ProbeAfter.is_null()).add(C::ProbeAfter.lte(now)))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Forgets the failures of `host`.
pub async fn delete(db: &impl ConnectionTrait, host: &str) -> Result<(), DbErr> {
    hosts::Entity::delete_by_id(host.to_owned()).exec(db).await.map(|_| ())
}

/// Stores `row` as the host's state (inserted, or replacing the failure counters).
pub async fn upsert(db: &impl ConnectionTrait, row: &hosts::Model) -> Result<(), DbErr> {
    let active = hosts::ActiveModel {
        host: Set(row.host.clone()),
        consecutive_failures: Set(row.consecutive_failures),
        failure_days: Set(row.failure_days),
        last_failure_day: Set(row.last_failure_day.clone()),
        unavailable: Set(row.unavailable),
        breaker_open_until: Set(row.breaker_open_until),
        last_success_at: Set(row.last_success_at),
        updated_at: Set(row.updated_at),
        probe_after: Set(row.probe_after),
    };
    hosts::Entity::insert(active)
        .on_conflict(
            OnConflict::column(C::Host)
                .update_columns([
                    C::ConsecutiveFailures,
                    C::FailureDays,
                    C::LastFailureDay,
                    C::Unavailable,
                    C::BreakerOpenUntil,
                    C::UpdatedAt,
                    C::ProbeAfter,
                ])
                .to_owned(),
        )
        .exec(db)
        .await
        .map(|_| ())
}
