//! The collections the mock holds — their schemas, their items in creation order, the slug
//! index and the counters behind ids and suffixes — and the state file that keeps them
//! between runs (serde; written to a temporary file, then renamed over the old one).

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schema::Schema;

/// The state file's format; a file of another format is refused, not misread.
const FORMAT: u32 = 1;

/// (collection id, cmsLocaleId, slug): slugs are unique per collection and locale.
pub(super) type SlugKey = (String, Option<String>, String);

/// Everything that outlives a run when the mock has a state file.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Store {
    format: u32,
    /// Items created or inserted so far, across every collection: ids and creation order.
    pub(super) sequence: u64,
    /// Slugs suffixed so far (the suffixes are drawn from this counter).
    pub(super) suffixes: u64,
    /// The mock's wall clock (Unix milliseconds) when the file was written: a mock that
    /// loads it carries on from there, so later items are newer.
    pub(super) wall_ms: u64,
    pub(super) collections: BTreeMap<String, StoredCollection>,
    /// How many items hold each slug (more than one only through `insert_items`).
    #[serde(skip)]
    slugs: HashMap<SlugKey, u32>,
}

/// One collection: its schema, if a test defined one, and its items.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct StoredCollection {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) schema: Option<Schema>,
    #[serde(default)]
    pub(super) items: Vec<StoredItem>,
}

/// An item as lists see it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(super) struct StoredItem {
    /// Creation order across the whole mock (inserted items included).
    pub(super) sequence: u64,
    /// Mock time from which lists show it (items loaded from a file: at once).
    #[serde(skip)]
    pub(super) visible_from: Duration,
    /// The item as answered: `id`, `cmsLocaleId`, the timestamps, the flags, `fieldData`.
    pub(super) item: Value,
}

impl StoredItem {
    pub(super) fn id(&self) -> &str {
        self.item["id"].as_str().unwrap_or_default()
    }

    pub(super) fn locale(&self) -> Option<&str> {
        self.item["cmsLocaleId"].as_str()
    }

    pub(super) fn slug(&self) -> &str {
        self.item["fieldData"]["slug"].as_str().unwrap_or_default()
    }

    fn slug_key(&self, collection_id: &str) -> SlugKey {
        (
            collection_id.to_owned(),
            self.locale().map(str::to_owned),
            self.slug().to_owned(),
        )
    }
}

impl Default for Store {
    fn default() -> Self {
        Store {
            format: FORMAT,
            sequence: 0,
            suffixes: 0,
            wall_ms: 0,
            collections: BTreeMap::new(),
            slugs: HashMap::new(),
        }
    }
}

impl Store {
    /// The store saved at `path`, or `None` if there is no file there.
    pub(super) fn load(path: &Path) -> io::Result<Option<Store>> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let invalid = |message: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} is not a mock state file: {message}", path.display()),
            )
        };
        let mut store: Store =
            serde_json::from_slice(&bytes).map_err(|e| invalid(e.to_string()))?;
        if store.format != FORMAT {
            return Err(invalid(format!(
                "format {} (this mock reads format {FORMAT})",
                store.format
            )));
        }
        store.reindex();
        Ok(Some(store))
    }

    /// Writes the store to `path` whole: to a temporary file beside it, then renamed over it,
    /// so a reader (or a crash) never sees half a file.
    pub(super) fn save(&self, path: &Path) -> io::Result<()> {
        let bytes = serde_json::to_vec(self).map_err(io::Error::other)?;
        let mut temporary = path.as_os_str().to_owned();
        temporary.push(format!(".{}.tmp", std::process::id()));
        std::fs::write(&temporary, bytes)?;
        std::fs::rename(&temporary, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&temporary);
        })
    }

    fn reindex(&mut self) {
        self.slugs.clear();
        let keys: Vec<SlugKey> = self
            .collections
            .iter()
            .flat_map(|(id, collection)| collection.items.iter().map(|item| item.slug_key(id)))
            .collect();
        for key in keys {
            *self.slugs.entry(key).or_default() += 1;
        }
    }

    pub(super) fn slug_taken(&self, key: &SlugKey) -> bool {
        self.slugs.contains_key(key)
    }

    pub(super) fn schema(&self, collection_id: &str) -> Option<&Schema> {
        self.collections.get(collection_id)?.schema.as_ref()
    }

    pub(super) fn set_schema(&mut self, collection_id: &str, schema: Schema) {
        self.collections
            .entry(collection_id.to_owned())
            .or_default()
            .schema = Some(schema);
    }

    pub(super) fn items(&self, collection_id: &str) -> &[StoredItem] {
        self.collections
            .get(collection_id)
            .map_or(&[], |collection| &collection.items)
    }

    /// Adds an item (its slug is indexed as stored).
    pub(super) fn push(&mut self, collection_id: &str, item: StoredItem) {
        *self.slugs.entry(item.slug_key(collection_id)).or_default() += 1;
        self.collections
            .entry(collection_id.to_owned())
            .or_default()
            .items
            .push(item);
    }

    /// Replaces the item's value, keeping the slug index right.
    pub(super) fn replace(&mut self, collection_id: &str, position: usize, item: Value) {
        let Some(collection) = self.collections.get_mut(collection_id) else {
            return;
        };
        let stored = &mut collection.items[position];
        let old = stored.slug_key(collection_id);
        stored.item = item;
        let new = stored.slug_key(collection_id);
        if old != new {
            unindex(&mut self.slugs, old);
            *self.slugs.entry(new).or_default() += 1;
        }
    }

    /// Removes the item at `position`.
    pub(super) fn remove(&mut self, collection_id: &str, position: usize) -> Option<StoredItem> {
        let collection = self.collections.get_mut(collection_id)?;
        let removed = collection.items.remove(position);
        unindex(&mut self.slugs, removed.slug_key(collection_id));
        Some(removed)
    }

    /// The position of the item `id` in `locale` (or, without one, the first with that id).
    pub(super) fn find(
        &self,
        collection_id: &str,
        id: &str,
        locale: Option<&str>,
    ) -> Option<usize> {
        self.items(collection_id).iter().position(|stored| {
            stored.id() == id && locale.is_none_or(|locale| stored.locale() == Some(locale))
        })
    }

    /// Whether `collection_id` holds an item `id` (in any locale).
    pub(super) fn contains(&self, collection_id: &str, id: &str) -> bool {
        self.find(collection_id, id, None).is_some()
    }
}

fn unindex(slugs: &mut HashMap<SlugKey, u32>, key: SlugKey) {
    if let Some(count) = slugs.get_mut(&key) {
        *count -= 1;
        if *count == 0 {
            slugs.remove(&key);
        }
    }
}
