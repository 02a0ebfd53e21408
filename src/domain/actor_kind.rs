//! What an actor stands for: one of our kinds of account, or someone else's actor.
//!
//! Stored as text in `actors.kind` (the derive maps each variant to its string). Parsing
//! from input ([`FromStr`]) accepts only the kinds of account one creates, never `remote`.

use std::{fmt, str::FromStr};

use sea_orm::{DeriveActiveEnum, EnumIter, entity::prelude::StringLen};
use serde::{Serialize, Serializer};

/// The kinds of account an instance hosts, and remote actors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ActorKind {
    /// The company itself.
    #[sea_orm(string_value = "brand")]
    Brand,
    /// One of its products.
    #[sea_orm(string_value = "product")]
    Product,
    /// A staff member speaking as themselves.
    #[sea_orm(string_value = "staff")]
    Staff,
    /// The instance's own actor, which signs fetches and reports. One per instance.
    #[sea_orm(string_value = "instance")]
    Instance,
    /// Another server's actor, cached here.
    #[sea_orm(string_value = "remote")]
    Remote,
}

impl ActorKind {
    /// The stored name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Brand => "brand",
            Self::Product => "product",
            Self::Staff => "staff",
            Self::Instance => "instance",
            Self::Remote => "remote",
        }
    }

    /// Human label for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Brand => "Brand",
            Self::Product => "Product",
            Self::Staff => "Staff",
            Self::Instance => "Instance",
            Self::Remote => "Remote account",
        }
    }
}

impl FromStr for ActorKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "brand" => Ok(Self::Brand),
            "product" => Ok(Self::Product),
            "staff" => Ok(Self::Staff),
            "instance" => Ok(Self::Instance),
            other => Err(format!("{other:?} is not an account kind (brand, product, staff)")),
        }
    }
}

impl Serialize for ActorKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use sea_orm::{ActiveEnum, Iterable};

    use super::*;

    #[test]
    fn stored_strings_are_the_names_and_only_account_kinds_parse() {
        for kind in ActorKind::iter() {
            assert_eq!(kind.to_value(), kind.as_str());
            assert_eq!(kind.to_string(), kind.as_str());
        }
        for kind in [ActorKind::Brand, ActorKind::Product, ActorKind::Staff, ActorKind::Instance] {
            assert_eq!(kind.as_str().parse::<ActorKind>(), Ok(kind));
        }
        assert!("remote".parse::<ActorKind>().unwrap_err().contains("not an account kind"));
    }
}
