//! Convenient construction of new items and reading of created ones, on top of the
//! generated types.

use serde_json::Value;

use crate::types::{CollectionItem, CreatedLiveItems, NewItem, NewItemFieldData};

impl NewItem {
    /// A new, published (not draft, not archived) item with a name and a slug.
    ///
    /// ```
    /// use webflow_api::NewItem;
    /// let item = NewItem::new("Blue Mug", "blue-mug")
    ///     .field("price", 12.5)
    ///     .field("in-stock", true)
    ///     .field("tags", vec!["62b720ef280c7a7a3be8cab1", "62b720ef280c7a7a3be8cab2"]);
    /// assert_eq!(item.field_data.extra["price"], 12.5);
    /// ```
    pub fn new(name: impl Into<String>, slug: impl Into<String>) -> Self {
        NewItem {
            cms_locale_id: None,
            field_data: NewItemFieldData {
                name: name.into(),
                slug: slug.into(),
                extra: serde_json::Map::new(),
            },
            is_archived: false,
            is_draft: false,
        }
    }

    /// Sets a field of the collection, by its slug. Values are JSON: strings, numbers,
    /// booleans, `serde_json::json!({...})` for images (`{"fileId", "url"}`), vectors of
    /// reference ids, and so on. Setting `name` or `slug` sets the item's name or slug.
    pub fn field(mut self, slug: impl Into<String>, value: impl Into<Value>) -> Self {
        let slug = slug.into();
        let value = value.into();
        let as_text = |v: Value| match v {
            Value::String(s) => s,
            other => other.to_string(),
        };
        match slug.as_str() {
            "name" => self.field_data.name = as_text(value),
            "slug" => self.field_data.slug = as_text(value),
            _ => {
                self.field_data.extra.insert(slug, value);
            }
        }
        self
    }

    /// Creates the item as a draft (`isDraft`).
    pub fn draft(mut self, is_draft: bool) -> Self {
        self.is_draft = is_draft;
        self
    }

    /// Creates the item archived (`isArchived`).
    pub fn archived(mut self, is_archived: bool) -> Self {
        self.is_archived = is_archived;
        self
    }

    /// Creates the item in a locale (`cmsLocaleId`).
    pub fn locale(mut self, cms_locale_id: impl Into<String>) -> Self {
        self.cms_locale_id = Some(cms_locale_id.into());
        self
    }
}

impl CollectionItem {
    /// The item's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The item's slug.
    pub fn slug(&self) -> &str {
        &self.field_data.slug
    }

    /// The item's `cmsLocaleId`, if it has one.
    pub fn locale_id(&self) -> Option<&str> {
        self.cms_locale_id.as_deref()
    }

    /// When the item was created (`createdOn`, the server's clock), if readable.
    pub fn created_at(&self) -> Option<std::time::SystemTime> {
        crate::time::parse_timestamp(&self.created_on)
    }

    /// A field of the item by its slug (`name` and `slug` included).
    pub fn field(&self, slug: &str) -> Option<Value> {
        match slug {
            "name" => Some(Value::String(self.field_data.name.clone())),
            "slug" => Some(Value::String(self.field_data.slug.clone())),
            _ => self.field_data.extra.get(slug).cloned(),
        }
    }
}

impl NewItem {
    /// The item's slug.
    pub fn slug(&self) -> &str {
        &self.field_data.slug
    }

    /// The item's `cmsLocaleId`, if it has one.
    pub fn locale_id(&self) -> Option<&str> {
        self.cms_locale_id.as_deref()
    }
}

/// Pairs the items a create answered with the items sent, by slug and locale rather than
/// by position: `result[i]` is the created item for `sent[i]`, if the answer has it. An
/// answered slug that Webflow suffixed (`slug-1a2b3`, when `slug` was taken) is paired with
/// the sent item of the base slug, unless the suffixed form is itself a slug that was sent.
/// Answered items that pair with nothing are left out.
pub(crate) fn match_created<S: SentItem>(
    sent: &[S],
    created: Vec<CollectionItem>,
) -> Vec<Option<CollectionItem>> {
    // One item sent, one answered (every single create): no table to build.
    if let ([one], [answer]) = (sent, created.as_slice()) {
        let paired = (answer.slug() == one.slug()
            || suffixed_base(answer.slug()) == Some(one.slug()))
            && (one.locale_id().is_none() || answer.locale_id() == one.locale_id());
        return vec![paired.then(|| created.into_iter().next()).flatten()];
    }
    let positions = pair_positions(sent, &created);
    let mut result: Vec<Option<CollectionItem>> = sent.iter().map(|_| None).collect();
    for (item, position) in created.into_iter().zip(positions) {
        if let Some(position) = position {
            result[position] = Some(item);
        }
    }
    result
}

/// For each answered item, the position of the sent item it pairs with (see
/// [`match_created`]). Keys borrow from both lists: nothing is copied.
fn pair_positions<'a, S: SentItem>(
    sent: &'a [S],
    created: &'a [CollectionItem],
) -> Vec<Option<usize>> {
    use std::collections::HashMap;
    // The sent positions of each (locale, slug), lowest first: `first` holds the head of
    // each chain, `next` the position after each.
    let mut first: HashMap<(Option<&'a str>, &'a str), usize> = HashMap::with_capacity(sent.len());
    let mut next: Vec<Option<usize>> = vec![None; sent.len()];
    for (position, item) in sent.iter().enumerate().rev() {
        let key = (item.locale_id(), item.slug());
        next[position] = first.insert(key, position);
    }
    let mut take = |locale: Option<&'a str>, slug: &'a str| -> Option<usize> {
        // An item sent without a locale is answered in the site's primary one.
        for key in [(locale, slug), (None, slug)] {
            if let Some(head) = first.get(&key).copied() {
                match next[head] {
                    Some(after) => first.insert(key, after),
                    None => first.remove(&key),
                };
                return Some(head);
            }
        }
        None
    };
    let mut positions: Vec<Option<usize>> = created
        .iter()
        .map(|item| take(item.locale_id(), item.slug()))
        .collect();
    for (item, position) in created.iter().zip(positions.iter_mut()) {
        if position.is_some() {
            continue;
        }
        let Some(base) = suffixed_base(item.slug()) else {
            continue;
        };
        if sent.iter().any(|one| one.slug() == item.slug()) {
            continue;
        }
        *position = take(item.locale_id(), base);
    }
    positions
}

/// What pairing an answer needs of an item sent: its slug and locale.
pub(crate) trait SentItem {
    fn slug(&self) -> &str;
    fn locale_id(&self) -> Option<&str>;
}

impl SentItem for NewItem {
    fn slug(&self) -> &str {
        NewItem::slug(self)
    }

    fn locale_id(&self) -> Option<&str> {
        NewItem::locale_id(self)
    }
}

/// An item sent, as kept once its body has gone out: its locale and slug.
#[derive(Clone, Debug)]
pub(crate) struct SentKey {
    pub(crate) locale: Option<String>,
    pub(crate) slug: String,
}

impl SentItem for SentKey {
    fn slug(&self) -> &str {
        &self.slug
    }

    fn locale_id(&self) -> Option<&str> {
        self.locale.as_deref()
    }
}

/// `slug` without a Webflow duplicate suffix (`-` and 5 lowercase hex digits), if it has one.
pub(crate) fn suffixed_base(slug: &str) -> Option<&str> {
    let (base, suffix) = slug.rsplit_once('-')?;
    (suffix.len() == 5
        && suffix
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && !base.is_empty())
    .then_some(base)
}

impl CreatedLiveItems {
    /// The created items, whichever of the two shapes Webflow answered with.
    pub fn into_items(self) -> Vec<CollectionItem> {
        match self {
            CreatedLiveItems::CollectionItem(item) => vec![item],
            CreatedLiveItems::BulkCollectionItems(list) => list.items,
        }
    }
}
