//! Small builders the migrations share (portable across SQLite and PostgreSQL).

use sea_orm_migration::prelude::*;

/// Creates a (non-unique) index on `columns` of `table`.
pub async fn index<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
) -> Result<(), DbErr> {
    create(manager, name, table, columns, false).await
}

/// Creates a unique index on `columns` of `table`.
pub async fn unique<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
) -> Result<(), DbErr> {
    create(manager, name, table, columns, true).await
}

async fn create<T: IntoIden + Copy + 'static, C: IntoIden + Copy + 'static>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
    is_unique: bool,
) -> Result<(), DbErr> {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    if is_unique {
        stmt.unique();
    }
    for c in columns {
        stmt.col(*c);
    }
    manager.create_index(stmt.to_owned()).await
}
