//! Lines checked against the collection's schema before anything is sent, and their values
//! written as Webflow takes them: an Option field by its option's name or id (sent as the
//! id), a Reference or MultiReference by the referenced item's slug or id (in the
//! collection the field names), a file by its URL or `{"url", "alt"}`. A line with problems
//! is reported invalid, naming each field (an unknown field with the closest field slug
//! suggested), and never sent.
//!
//! References cost the fewer requests of two ways, decided as they come: the referenced
//! collection's first page is read (a collection of up to 100 items is then known whole,
//! in one request); after that each value not found is looked up once, until the lookups
//! made reach the pages left to read — then the rest of the collection is read instead. At
//! most about twice the cheaper way, whatever the source holds.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::BulkImport;
use super::{FieldProblem, ItemResult};
use crate::Error;
use crate::list::{ListQuery, MAX_PAGE_SIZE, PageRead, Pager};
use crate::request::CallEvent;
use crate::schema::{self, FieldSchema};
use crate::types::{Collection, CollectionField, NewItem};

/// What preparing a line came to.
pub(super) enum Prepared {
    /// Ready to send, values written as Webflow takes them.
    Ready(NewItem),
    /// Not to be sent.
    Invalid(NewItem, Vec<FieldProblem>),
}

/// The schema and the references resolved so far.
pub(super) struct Preparer {
    fields: Vec<CollectionField>,
    /// What is known of each referenced collection, by id.
    references: HashMap<String, Referenced>,
    /// Requests and 429s the reference lookups took.
    pub(super) list_requests: u64,
    pub(super) throttled: u64,
}

impl Preparer {
    pub(super) fn new(collection: Collection) -> Preparer {
        Preparer {
            fields: collection.fields,
            references: HashMap::new(),
            list_requests: 0,
            throttled: 0,
        }
    }

    /// Checks one line and writes its values as Webflow takes them.
    pub(super) async fn prepare(
        &mut self,
        import: &BulkImport<'_>,
        events: &(dyn Fn(CallEvent) + Send + Sync),
        mut item: NewItem,
    ) -> Result<Prepared, Arc<Error>> {
        let mut problems = Vec::new();
        let mut extra = std::mem::take(&mut item.field_data.extra);
        for (slug, value) in extra.iter_mut() {
            let Some(field) = self.field(slug).cloned() else {
                problems.push(FieldProblem {
                    field: slug.clone(),
                    message: format!(
                        "{}{}",
                        schema::NOT_IN_SCHEMA,
                        self.closest(slug)
                            .map(|close| format!(" (did you mean `{close}`?)"))
                            .unwrap_or_default()
                    ),
                });
                continue;
            };
            if let Err(message) = self.write(import, events, &field, value).await? {
                problems.push(FieldProblem {
                    field: slug.clone(),
                    message,
                });
            }
        }
        let mut field_data = extra.clone();
        field_data.insert("name".into(), Value::String(item.field_data.name.clone()));
        field_data.insert("slug".into(), Value::String(item.field_data.slug.clone()));
        let known = |_: &str, _: &str| true;
        for problem in schema::check(&self.fields, &field_data, false, &known) {
            if !problems.iter().any(|p| p.field == problem.field) {
                problems.push(FieldProblem {
                    field: problem.field,
                    message: problem.description,
                });
            }
        }
        item.field_data.extra = extra;
        Ok(if problems.is_empty() {
            Prepared::Ready(item)
        } else {
            Prepared::Invalid(item, problems)
        })
    }

    fn field(&self, slug: &str) -> Option<&CollectionField> {
        self.fields.iter().find(|field| field.slug() == slug)
    }

    /// The field slug closest to `slug` (by edit distance), when it is close.
    fn closest(&self, slug: &str) -> Option<&str> {
        self.fields
            .iter()
            .map(|field| (edit_distance(slug, field.slug()), field.slug()))
            .filter(|(distance, candidate)| *distance <= 1 + candidate.len().max(slug.len()) / 3)
            .min_by_key(|(distance, _)| *distance)
            .map(|(_, candidate)| candidate)
    }

    /// Writes `value` as Webflow takes it for `field`; `Ok(Err(message))` for a value that
    /// cannot be (an unknown option, a reference that resolves to nothing).
    async fn write(
        &mut self,
        import: &BulkImport<'_>,
        events: &(dyn Fn(CallEvent) + Send + Sync),
        field: &CollectionField,
        value: &mut Value,
    ) -> Result<Result<(), String>, Arc<Error>> {
        match (field.kind(), &*value) {
            ("Option", Value::String(given)) => Ok(option_id(field, given).map(|id| {
                *value = Value::String(id);
            })),
            ("Reference", Value::String(given)) => {
                let given = given.clone();
                Ok(self
                    .reference(import, events, field, &given)
                    .await?
                    .map(|id| *value = Value::String(id)))
            }
            ("MultiReference", Value::Array(given)) => {
                let given = given.clone();
                let mut ids = Vec::with_capacity(given.len());
                for one in &given {
                    let Some(text) = one.as_str() else {
                        return Ok(Err(format!(
                            "Value ({})'s type should be array of item slugs or ids",
                            field.slug()
                        )));
                    };
                    match self.reference(import, events, field, text).await? {
                        Ok(id) => ids.push(Value::String(id)),
                        Err(message) => return Ok(Err(message)),
                    }
                }
                *value = Value::Array(ids);
                Ok(Ok(()))
            }
            _ => Ok(Ok(())),
        }
    }

    /// The id of the item `given` names in the collection `field` references: an item with
    /// that slug there, else `given` itself when it is an item's id (when the collection
    /// was read whole) or shaped like one (when it was not).
    async fn reference(
        &mut self,
        import: &BulkImport<'_>,
        events: &(dyn Fn(CallEvent) + Send + Sync),
        field: &CollectionField,
        given: &str,
    ) -> Result<Result<String, String>, Arc<Error>> {
        let Some(collection) = field
            .validations()
            .and_then(|v| v.get("collectionId"))
            .and_then(Value::as_str)
        else {
            return Ok(Ok(given.to_owned()));
        };
        let mut referenced = match self.references.remove(collection) {
            Some(referenced) => referenced,
            None => Referenced::new(collection),
        };
        let found = self.resolve(import, events, &mut referenced, given).await;
        let whole = referenced.whole;
        self.references.insert(collection.to_owned(), referenced);
        Ok(match found? {
            Some(id) => Ok(id),
            None if !whole && looks_like_id(given) => Ok(given.to_owned()),
            None => Err(format!(
                "no item with the slug{} '{given}' in the referenced collection {collection}",
                if whole { " or id" } else { "" }
            )),
        })
    }

    /// The id `given` names in `referenced` (`None`: no item with that slug, or, when the
    /// collection was read whole, with that slug or id), reading pages or looking up as
    /// the module documentation says.
    async fn resolve(
        &mut self,
        import: &BulkImport<'_>,
        events: &(dyn Fn(CallEvent) + Send + Sync),
        referenced: &mut Referenced,
        given: &str,
    ) -> Result<Option<String>, Arc<Error>> {
        if referenced.read == 0 && !referenced.whole {
            self.read_page(import, events, referenced).await?;
        }
        loop {
            if let Some(id) = referenced.by_slug.get(given) {
                return Ok(Some(id.clone()));
            }
            if referenced.whole {
                return Ok(referenced.ids.contains(given).then(|| given.to_owned()));
            }
            if let Some(found) = referenced.looked_up.get(given) {
                return Ok(found.clone());
            }
            if referenced.lookups + 1 < referenced.pages_left() {
                referenced.lookups += 1;
                let found = self
                    .look_up(import, events, &referenced.collection, given)
                    .await?;
                referenced.looked_up.insert(given.to_owned(), found.clone());
                return Ok(found);
            }
            // Another lookup would bring the lookups to the pages left: read those instead.
            while !referenced.whole {
                self.read_page(import, events, referenced).await?;
            }
        }
    }

    /// Reads the next page of a referenced collection into what is known of it.
    async fn read_page(
        &mut self,
        import: &BulkImport<'_>,
        events: &(dyn Fn(CallEvent) + Send + Sync),
        referenced: &mut Referenced,
    ) -> Result<(), Arc<Error>> {
        let (read, counts) = referenced
            .pager
            .next_page_counted(import.client, import.call_options(events))
            .await;
        self.list_requests += u64::from(counts.requests);
        self.throttled += u64::from(counts.throttled);
        match read {
            PageRead::Items(items) => {
                for item in items {
                    referenced.ids.insert(item.id.clone());
                    referenced.by_slug.insert(item.slug().to_owned(), item.id);
                }
                referenced.read += 1;
                referenced.whole = referenced.pager.is_done();
                Ok(())
            }
            PageRead::End => {
                referenced.whole = true;
                Ok(())
            }
            PageRead::Failed(error) => Err(Arc::new(error)),
        }
    }

    /// The id of the item with `slug` in `collection`, if there is one (one request).
    async fn look_up(
        &mut self,
        import: &BulkImport<'_>,
        events: &(dyn Fn(CallEvent) + Send + Sync),
        collection: &str,
        slug: &str,
    ) -> Result<Option<String>, Arc<Error>> {
        let query = ListQuery {
            slug: Some(slug.to_owned()),
            ..ListQuery::default()
        };
        let mut pager = Pager::new(collection.to_owned(), query, 0);
        let (read, counts) = pager
            .next_page_counted(import.client, import.call_options(events))
            .await;
        self.list_requests += u64::from(counts.requests);
        self.throttled += u64::from(counts.throttled);
        match read {
            PageRead::Items(items) => Ok(items
                .into_iter()
                .find(|item| item.slug() == slug)
                .map(|item| item.id)),
            PageRead::End => Ok(None),
            PageRead::Failed(error) => Err(Arc::new(error)),
        }
    }
}

/// What an import knows of one collection its references point to.
struct Referenced {
    collection: String,
    /// Its listing, read page by page as needed.
    pager: Pager,
    /// Pages that brought items.
    read: u64,
    /// Slug → id and the ids of every item read so far.
    by_slug: HashMap<String, String>,
    ids: HashSet<String>,
    /// The listing was read to its end: `by_slug` and `ids` are the whole collection.
    whole: bool,
    /// Values looked up one at a time (`None`: no item with that slug), and how many.
    looked_up: HashMap<String, Option<String>>,
    lookups: u64,
}

impl Referenced {
    fn new(collection: &str) -> Referenced {
        let query = ListQuery {
            page_size: Some(MAX_PAGE_SIZE),
            ..ListQuery::default()
        };
        Referenced {
            collection: collection.to_owned(),
            pager: Pager::new(collection.to_owned(), query, 0),
            read: 0,
            by_slug: HashMap::new(),
            ids: HashSet::new(),
            whole: false,
            looked_up: HashMap::new(),
            lookups: 0,
        }
    }

    /// The pages left to read the collection whole, by the `total` it reported (pages of
    /// 100 overlap by one item).
    fn pages_left(&self) -> u64 {
        let total = self.pager.reported_total().unwrap_or(u64::MAX);
        let read = self.read.saturating_mul(u64::from(MAX_PAGE_SIZE) - 1);
        total
            .saturating_sub(read)
            .div_ceil(u64::from(MAX_PAGE_SIZE) - 1)
            .max(1)
    }
}

/// The id of the option `given` names (by id, or by name: exactly, else ignoring case).
fn option_id(field: &CollectionField, given: &str) -> Result<String, String> {
    let options: Vec<(&str, &str)> = field
        .validations()
        .and_then(|v| v.get("options"))
        .and_then(Value::as_array)
        .map(|options| {
            options
                .iter()
                .filter_map(|o| Some((o.get("id")?.as_str()?, o.get("name")?.as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    if options.iter().any(|(id, _)| *id == given) {
        return Ok(given.to_owned());
    }
    let by_name = options.iter().find(|(_, name)| *name == given).or_else(|| {
        options
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(given))
    });
    match by_name {
        Some((id, _)) => Ok((*id).to_owned()),
        None => {
            let names: Vec<&str> = options.iter().map(|(_, name)| *name).collect();
            Err(format!(
                "no option named or with the id '{given}' (options: {})",
                names.join(", ")
            ))
        }
    }
}

/// 24 hexadecimal digits: the shape of a Webflow item id.
fn looks_like_id(text: &str) -> bool {
    text.len() == 24 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// The fields of `sent` whose stored value differs (see `compare.rs`), `name` included.
pub(super) fn changed_fields(stored: &crate::types::CollectionItem, sent: &NewItem) -> Vec<String> {
    let mut changed = Vec::new();
    if stored.field_data.name != sent.field_data.name {
        changed.push("name".to_owned());
    }
    changed.extend(
        sent.field_data
            .extra
            .iter()
            .filter(|(slug, value)| {
                !super::compare::value_holds(stored.field_data.extra.get(slug.as_str()), value)
            })
            .map(|(slug, _)| slug.clone()),
    );
    changed
}

/// The update that brings `stored` to `sent`: the changed fields only.
pub(super) fn update_for(
    stored: &crate::types::CollectionItem,
    sent: &NewItem,
    changed: &[String],
) -> crate::types::UpdateItem {
    let mut update = crate::types::UpdateItem::new(&stored.id);
    if let Some(locale) = sent.locale_id() {
        update = update.locale(locale);
    }
    let mut fields = Map::new();
    for slug in changed {
        let value = if slug == "name" {
            Value::String(sent.field_data.name.clone())
        } else {
            sent.field_data
                .extra
                .get(slug)
                .cloned()
                .unwrap_or(Value::Null)
        };
        fields.insert(slug.clone(), value);
    }
    for (slug, value) in fields {
        update = update.field(slug, value);
    }
    update
}

/// The outcome for a line that is not to be sent.
pub(super) fn invalid(problems: Vec<FieldProblem>) -> ItemResult {
    ItemResult::Invalid { problems }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_and_ids() {
        assert_eq!(edit_distance("pirce", "price"), 2);
        assert_eq!(edit_distance("price", "price"), 0);
        assert_eq!(edit_distance("colour", "color"), 1);
        assert!(looks_like_id("62b720ef280c7a7a3be8cabe"));
        assert!(!looks_like_id("blue-mug"));
    }
}
