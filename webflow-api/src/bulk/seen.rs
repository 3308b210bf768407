//! The slugs an import has read so far, per locale: a line whose slug an earlier line
//! already holds is refused before anything is sent, naming that line; a sync's prune keeps
//! what the source holds. A slug is kept as a 128-bit hash (two `u64`s: a `u128` would be
//! 16-byte aligned and pad the entry to 32 bytes) and the position of its first item: 24
//! bytes and a control byte per bucket. For a million distinct slugs the table has 2²¹
//! buckets, about 52 MB; when the number of items is known up front it is sized once,
//! instead of doubling with two tables alive. Two different slugs share a hash with a
//! probability near 10⁻²⁶ for a million.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

/// The slugs read so far.
#[derive(Debug, Default)]
pub(super) struct SeenSlugs {
    first: HashMap<Key, u64, BuildHasherDefault<PassThrough>>,
}

/// The most entries reserved up front from an announced number of items (an announcement
/// that is wrong must not allocate gigabytes).
const MAX_RESERVED: u64 = 4_000_000;

impl SeenSlugs {
    /// Room for `items` distinct slugs (at most [`MAX_RESERVED`]), allocated once.
    pub(super) fn with_capacity(items: u64) -> SeenSlugs {
        let capacity = usize::try_from(items.min(MAX_RESERVED)).unwrap_or(0);
        SeenSlugs {
            first: HashMap::with_capacity_and_hasher(capacity, Default::default()),
        }
    }

    /// Records `(locale, slug)` for the item at `index`; returns the position of an earlier
    /// item with the same locale and slug, if there is one.
    pub(super) fn insert(&mut self, locale: Option<&str>, slug: &str, index: u64) -> Option<u64> {
        match self.first.entry(key(locale, slug)) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(vacant) => {
                vacant.insert(index);
                None
            }
        }
    }

    /// Whether an item with this locale and slug was read.
    pub(super) fn contains(&self, locale: Option<&str>, slug: &str) -> bool {
        self.first.contains_key(&key(locale, slug))
    }

    /// Whether any item with this slug was read, in any of `locales`.
    pub(super) fn contains_any<'a>(
        &self,
        locales: impl IntoIterator<Item = Option<&'a str>>,
        slug: &str,
    ) -> bool {
        locales
            .into_iter()
            .any(|locale| self.contains(locale, slug))
    }

    /// How many distinct slugs were read.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.first.len()
    }
}

/// A 128-bit hash of a locale and a slug, as two halves (8-byte aligned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key(u64, u64);

impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Already a hash: the table takes one half as it is.
        state.write_u64(self.0);
    }
}

/// The key of a locale and a slug: two SipHash runs told apart by a leading byte.
fn key(locale: Option<&str>, slug: &str) -> Key {
    let half = |salt: u8| {
        let mut hasher = DefaultHasher::new();
        salt.hash(&mut hasher);
        locale.hash(&mut hasher);
        slug.hash(&mut hasher);
        hasher.finish()
    };
    Key(half(0), half(1))
}

/// The keys are hashes already: the table uses their low bits as they are.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_is_seen_once_per_locale() {
        let mut seen = SeenSlugs::default();
        assert_eq!(seen.insert(None, "mug", 0), None);
        assert_eq!(seen.insert(Some("fr"), "mug", 1), None, "another locale");
        assert_eq!(seen.insert(None, "mug", 7), Some(0));
        assert_eq!(seen.insert(Some("fr"), "mug", 9), Some(1));
        assert!(seen.contains(None, "mug") && !seen.contains(None, "plate"));
        assert_eq!(seen.len(), 2);
    }

    #[test]
    fn an_entry_is_24_bytes() {
        assert_eq!(std::mem::size_of::<(Key, u64)>(), 24);
    }
}
