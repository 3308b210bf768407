//! The slugs an import has read so far, per locale: a line whose slug an earlier line
//! already holds is refused before anything is sent, naming that line; a sync's prune keeps
//! what the source holds. A slug is kept as a 128-bit hash and the position of its first
//! item, 24 bytes an entry (about 26 to 52 MB for a million distinct slugs, depending on
//! where the table's growth stands); two different
//! slugs share a hash with a probability near 10⁻²⁶ for a million.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

/// The slugs read so far.
#[derive(Debug, Default)]
pub(super) struct SeenSlugs {
    first: HashMap<u128, u64, BuildHasherDefault<PassThrough>>,
}

impl SeenSlugs {
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

/// A 128-bit hash of a locale and a slug: two SipHash runs told apart by a leading byte.
fn key(locale: Option<&str>, slug: &str) -> u128 {
    let half = |salt: u8| {
        let mut hasher = DefaultHasher::new();
        salt.hash(&mut hasher);
        locale.hash(&mut hasher);
        slug.hash(&mut hasher);
        hasher.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
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

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
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
}
