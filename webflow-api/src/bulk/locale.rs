//! Which stored items are in the locale of an input line. A line with a `cmsLocaleId` is
//! in that locale; a line without one lands in the site's primary locale, whose id the
//! import needs to know before it can call a stored item "the same": it is given
//! ([`BulkImport::primary_locale`](super::BulkImport::primary_locale)), or read from the
//! first item this import creates from a line without one, or from a complete listing of
//! the collection (items stored without a locale: none is needed; items of one locale
//! only: that one). Until then, a stored item of any locale other than "none" is not known
//! to be in the line's locale — never taken as its item, never as proof that it exists.

use std::collections::BTreeSet;

/// What the import knows of the primary locale.
#[derive(Clone, Debug, Default)]
pub(super) struct Locales {
    /// The `cmsLocaleId` a line without one lands in (`Some(None)`: stored without one);
    /// `None` while unknown.
    primary: Option<Option<String>>,
}

impl Locales {
    pub(super) fn new(primary: Option<String>) -> Locales {
        Locales {
            primary: primary.map(Some),
        }
    }

    /// The primary locale, when known (`Some(None)`: items are stored without one).
    #[cfg(test)]
    pub(super) fn primary(&self) -> Option<Option<&str>> {
        self.primary.as_ref().map(Option::as_deref)
    }

    /// Learns from an item this import created from a line without a locale.
    pub(super) fn created_without_locale(&mut self, stored: Option<&str>) {
        if self.primary.is_none() {
            self.primary = Some(stored.map(str::to_owned));
        }
    }

    /// Learns from every locale a complete listing of the collection holds; `Err` with the
    /// locales when they leave the primary one undecided.
    pub(super) fn listed(&mut self, locales: &BTreeSet<Option<String>>) -> Result<(), Vec<String>> {
        if self.primary.is_some() || locales.is_empty() {
            return Ok(());
        }
        if locales.contains(&None) {
            self.primary = Some(None);
        } else if locales.len() == 1 {
            self.primary = locales.iter().next().cloned();
        } else {
            return Err(locales.iter().flatten().cloned().collect());
        }
        Ok(())
    }

    /// Whether an item stored in `stored` is in the locale of a line with `sent`: `None`
    /// when that cannot be told yet.
    pub(super) fn same(&self, sent: Option<&str>, stored: Option<&str>) -> Option<bool> {
        match (sent, &self.primary) {
            (Some(sent), _) => Some(stored == Some(sent)),
            (None, Some(primary)) => Some(stored == primary.as_deref()),
            (None, None) => stored.is_none().then_some(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_without_locale_matches_the_primary_once_known() {
        let mut locales = Locales::default();
        assert_eq!(locales.same(Some("fr"), Some("fr")), Some(true));
        assert_eq!(locales.same(Some("fr"), None), Some(false));
        assert_eq!(locales.same(None, None), Some(true));
        assert_eq!(locales.same(None, Some("en")), None, "unknown yet");
        locales.created_without_locale(Some("en"));
        assert_eq!(locales.same(None, Some("en")), Some(true));
        assert_eq!(locales.same(None, Some("fr")), Some(false));
    }

    #[test]
    fn a_complete_listing_decides_unless_it_holds_several_locales() {
        let set = |items: &[Option<&str>]| -> BTreeSet<Option<String>> {
            items.iter().map(|l| l.map(str::to_owned)).collect()
        };
        let mut one = Locales::default();
        one.listed(&set(&[Some("en")])).unwrap();
        assert_eq!(one.primary(), Some(Some("en")));
        let mut none = Locales::default();
        none.listed(&set(&[None, Some("fr")])).unwrap();
        assert_eq!(none.primary(), Some(None));
        let mut several = Locales::default();
        assert_eq!(
            several.listed(&set(&[Some("en"), Some("fr")])),
            Err(vec!["en".to_owned(), "fr".to_owned()])
        );
        let mut given = Locales::new(Some("fr".into()));
        given.listed(&set(&[Some("en"), Some("fr")])).unwrap();
        assert_eq!(given.primary(), Some(Some("fr")));
    }
}
