//! `OrderedCollection` and its pages.

use activitypub_federation::kinds::collection::{OrderedCollectionPageType, OrderedCollectionType};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

/// A collection's summary document: its size and where its first page is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedCollection {
    /// JSON-LD context.
    #[serde(rename = "@context")]
    pub context: Value,
    /// The collection URL.
    pub id: Url,
    /// `OrderedCollection`.
    #[serde(rename = "type")]
    pub kind: OrderedCollectionType,
    /// How many items in all.
    pub total_items: u64,
    /// The first page.
    pub first: Url,
    /// The last page.
    pub last: Url,
}

/// One page of a collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderedCollectionPage {
    /// JSON-LD context.
    #[serde(rename = "@context")]
    pub context: Value,
    /// This page's URL.
    pub id: Url,
    /// `OrderedCollectionPage`.
    #[serde(rename = "type")]
    pub kind: OrderedCollectionPageType,
    /// The collection this page belongs to.
    pub part_of: Url,
    /// How many items in the whole collection.
    pub total_items: u64,
    /// The next page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<Url>,
    /// The previous page, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prev: Option<Url>,
    /// The items (ids or objects), newest first.
    pub ordered_items: Vec<Value>,
}
