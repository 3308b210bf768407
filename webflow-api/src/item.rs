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
    /// A field of the item by its slug (`name` and `slug` included).
    pub fn field(&self, slug: &str) -> Option<Value> {
        match slug {
            "name" => Some(Value::String(self.field_data.name.clone())),
            "slug" => Some(Value::String(self.field_data.slug.clone())),
            _ => self.field_data.extra.get(slug).cloned(),
        }
    }
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
