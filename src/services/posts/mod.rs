//! Posts: product updates written by local accounts, edited and deleted, scheduled posts
//! released when due (`write`); and reading them for pages, collections and the federation
//! wing (`read`). Callers use the items re-exported here.

mod read;
mod write;

pub use read::{Lookup, PAGE_SIZE, PostDetails, count_listed, details, find, find_by_url, listed_page, public, tagged};
pub use write::{Draft, MAX_CW_CHARS, MAX_TEXT_CHARS, Mention, ReplyTarget, delete, edit, publish, release_due};
