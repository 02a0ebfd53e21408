//! What a local account stands for.

use std::{fmt, str::FromStr};

/// The kinds of account an instance hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActorKind {
    /// The company itself.
    Brand,
    /// One of its products.
    Product,
    /// A staff member speaking as themselves.
    Staff,
    /// The instance's own actor, which signs fetches and reports. One per instance.
    Instance,
}

impl ActorKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Brand => "brand",
            Self::Product => "product",
            Self::Staff => "staff",
            Self::Instance => "instance",
        }
    }

    /// Human label for pages.
    pub fn label(self) -> &'static str {
        match self {
            Self::Brand => "Brand",
            Self::Product => "Product",
            Self::Staff => "Staff",
            Self::Instance => "Instance",
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

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
