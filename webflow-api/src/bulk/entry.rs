//! What the import keeps of its input while it works: an item and its position
//! ([`Entry`]), the items of one create request ([`Chunk`]), and when that request was first
//! sent ([`Mark`]) — the time a lookup compares an item's `createdOn` with.

use std::time::{Duration, Instant, SystemTime};

use super::{ItemOutcome, ItemResult};
use crate::client::ServerDate;
use crate::types::NewItem;

/// One input item and its position.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) index: u64,
    pub(super) item: NewItem,
    /// Its create's outcome was unknown at least once (a 5xx, a timeout, a lost answer).
    pub(super) lost: bool,
    /// Sent again after a lookup found it absent: never sent a third time.
    pub(super) resent: bool,
}

impl Entry {
    pub(super) fn new(index: u64, item: NewItem) -> Entry {
        Entry {
            index,
            item,
            lost: false,
            resent: false,
        }
    }

    pub(super) fn locale(&self) -> Option<&str> {
        self.item.locale_id()
    }

    pub(super) fn slug(&self) -> &str {
        self.item.slug()
    }

    pub(super) fn outcome(self, result: ItemResult) -> ItemOutcome {
        ItemOutcome {
            index: self.index,
            slug: self.item.field_data.slug,
            result,
        }
    }
}

/// When a create request was first sent, on the client's clock, and what the server's time
/// was known to be then: together, a lower bound for the `createdOn` of anything it made.
#[derive(Clone, Copy, Debug)]
pub(super) struct Mark {
    pub(super) sent_at: Instant,
    /// The latest `Date` reading taken before sending, if any.
    pub(super) reading: Option<ServerDate>,
}

impl Mark {
    /// The earliest server time an item this request created can carry: the server's time
    /// when it was sent (from the reading before it, else `later`, the first reading after
    /// it), less `tolerance` for a server clock that steps back or a `Date` rounded down.
    /// `None` when no answer ever carried a `Date`.
    pub(super) fn floor(
        &self,
        later: Option<ServerDate>,
        tolerance: Duration,
    ) -> Option<SystemTime> {
        let reading = self.reading.or(later)?;
        let sent = reading.server_time_at(self.sent_at);
        Some(
            sent.checked_sub(tolerance)
                .unwrap_or(SystemTime::UNIX_EPOCH),
        )
    }

    /// The earlier of two marks (for items sent again together).
    pub(super) fn earlier(self, other: Mark) -> Mark {
        if other.sent_at < self.sent_at {
            other
        } else {
            self
        }
    }
}

/// The items of one create request.
#[derive(Debug)]
pub(super) struct Chunk {
    pub(super) entries: Vec<Entry>,
    /// When its items were first sent (kept through resends).
    pub(super) mark: Option<Mark>,
}

impl Chunk {
    pub(super) fn new(entries: Vec<Entry>) -> Chunk {
        Chunk {
            entries,
            mark: None,
        }
    }

    pub(super) fn first_index(&self) -> u64 {
        self.entries.first().map_or(0, |entry| entry.index)
    }
}

impl crate::item::SentItem for Entry {
    fn slug(&self) -> &str {
        self.item.slug()
    }

    fn locale_id(&self) -> Option<&str> {
        self.item.locale_id()
    }
}
