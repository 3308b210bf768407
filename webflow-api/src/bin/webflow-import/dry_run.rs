//! `--dry-run`: checks every line and sends no create. With `--resume`, lists the
//! collection (once per locale met) to count the slugs that already exist.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;

use futures_util::StreamExt;
use webflow_api::list::{SortBy, SortOrder};
use webflow_api::{CancellationToken, Client, Error};

use crate::import::ImportOptions;
use crate::input::{self, Input};
use crate::ledger::{Ledger, Verdict};
use crate::ui::Ui;

/// How a dry run ended (its counts are in the ledger).
#[derive(Default)]
pub struct Checked {
    pub cancelled: bool,
    /// The listing failed (`--resume`): the check stopped there.
    pub stopped: Option<Error>,
}

/// The existing slugs of one locale (`None`: Webflow's default) and their ids.
type Existing = HashMap<String, String>;

/// Checks every line of `input`; `existing_in` is the client and collection to list with
/// `--resume`.
pub async fn run(
    mut input: Input,
    existing_in: Option<(&Client, &str)>,
    options: &ImportOptions,
    ledger: &Ledger,
    ui: &Ui,
    cancel: &CancellationToken,
) -> Checked {
    let mut checked = Checked::default();
    // The first line of each (locale, slug) met: memory grows with distinct slugs.
    let mut seen: HashMap<(Option<String>, String), u64> = HashMap::new();
    let mut existing: HashMap<Option<String>, Existing> = HashMap::new();
    let existing_in = existing_in.filter(|_| options.resume);
    loop {
        let next = tokio::select! {
            biased;
            () = cancel.cancelled() => {
                checked.cancelled = true;
                break;
            }
            next = input.next() => next,
        };
        ledger.read_to(input.lines_read(), input.exhausted());
        let raw = match next {
            Ok(Some(raw)) => raw,
            Ok(None) => break,
            Err(e) => {
                ledger.input_failed(&e);
                break;
            }
        };
        let line = raw.number;
        let item = match input::parse(&raw, &input.path) {
            Ok(item) => item,
            Err(malformed) => {
                ledger.malformed(line, &malformed);
                continue;
            }
        };
        let slug = item.field_data.slug.as_str();
        let locale = item.cms_locale_id.clone();
        let mut problems = Vec::new();
        if item.field_data.name.trim().is_empty() {
            problems.push("fieldData.name is empty".to_owned());
        }
        if slug.trim().is_empty() {
            problems.push("fieldData.slug is empty".to_owned());
        } else {
            if let Some(problem) = input::slug_problem(slug) {
                problems.push(problem);
            }
            match seen.entry((locale.clone(), slug.to_owned())) {
                MapEntry::Occupied(first) => problems.push(format!(
                    "duplicate slug {slug:?} (first on line {})",
                    first.get()
                )),
                MapEntry::Vacant(vacant) => {
                    vacant.insert(line);
                }
            }
        }
        if !problems.is_empty() {
            let error = problems.join("; ");
            ledger.checked(line, slug, Verdict::Invalid { error: &error });
            continue;
        }
        let mut existing_id = None;
        if let Some((client, collection)) = existing_in {
            if !existing.contains_key(&locale) {
                let mut requests = 0;
                let listed = tokio::select! {
                    biased;
                    () = cancel.cancelled() => {
                        checked.cancelled = true;
                        break;
                    }
                    listed = list(client, collection, locale.as_deref(), &mut requests) => listed,
                };
                ledger.listed(requests);
                match listed {
                    Ok(slugs) => {
                        ui.say(format_args!(
                            "--resume: the collection holds {} items{}",
                            slugs.len(),
                            locale
                                .as_deref()
                                .map(|l| format!(" in locale {l}"))
                                .unwrap_or_default()
                        ));
                        existing.insert(locale.clone(), slugs);
                    }
                    Err(e) => {
                        checked.stopped = Some(e);
                        break;
                    }
                }
            }
            existing_id = existing.get(&locale).and_then(|slugs| slugs.get(slug));
        }
        let verdict = match existing_id {
            Some(id) => Verdict::WouldSkip { id },
            None => Verdict::WouldCreate,
        };
        ledger.checked(line, slug, verdict);
    }
    checked
}

/// Every slug of the collection in `locale` (oldest first, as the importer's own index),
/// counting the pages read in `requests`.
async fn list(
    client: &Client,
    collection: &str,
    locale: Option<&str>,
    requests: &mut u64,
) -> Result<Existing, Error> {
    let mut listing = client
        .list_items(collection)
        .sort(SortBy::CreatedOn, SortOrder::Asc);
    if let Some(locale) = locale {
        listing = listing.locale(locale);
    }
    let mut pages = std::pin::pin!(listing.pages());
    let mut slugs = Existing::new();
    while let Some(page) = pages.next().await {
        *requests = requests.saturating_add(1);
        for item in page? {
            slugs.entry(item.field_data.slug).or_insert(item.id);
        }
    }
    Ok(slugs)
}
