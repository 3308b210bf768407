//! The import and its options: input lines streamed into `bulk_create_live(..)` — a plain
//! import, a sync (`--update`, `--prune`), or a dry run of either — each outcome handed to
//! the ledger as it arrives.

use futures_util::stream;
use webflow_api::{BulkSummary, CancellationToken, Error, Prune, Settle};

use crate::input::{self, Input};
use crate::ledger::Ledger;
use crate::target::Connected;
use crate::ui::Ui;

/// What a prune does with the items the source lacks.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PruneMode {
    /// Unpublish them: they stay in the collection, as drafts
    Unpublish,
    /// Delete them
    Delete,
}

/// How the import runs: `webflow-import`'s options, parsed by clap and used as they are.
#[derive(clap::Args, Debug)]
pub struct ImportOptions {
    /// Skip items whose slug already exists in the collection (lists it first), so an
    /// interrupted import can be run again from the start
    #[arg(long)]
    pub resume: bool,

    /// Sync: create the items the collection lacks, update the ones whose fields differ from
    /// the line (only the fields the line gives; null clears one), leave equal ones alone
    #[arg(long)]
    pub update: bool,

    /// With the sync: also take off the site the collection's items whose slug no line has
    /// (in the lines' locales) — only when every line was read and none was malformed,
    /// invalid, failed or unknown, and no more than --max-prune
    #[arg(long, value_name = "HOW")]
    pub prune: Option<PruneMode>,

    /// The most items --prune may take off the site [default: half of the collection]
    #[arg(long, value_name = "N", requires = "prune")]
    pub max_prune: Option<u64>,

    /// The cmsLocaleId of the site's primary locale, where lines without cmsLocaleId go
    /// (needed when the collection holds several locales; see Webflow's Get Site)
    #[arg(long, value_name = "ID")]
    pub primary_locale: Option<String>,

    /// Send at most N requests a minute, leaving the rest of the token's budget to the
    /// site's other integrations [default: the rate Webflow reports]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub rate: Option<u32>,

    /// Do not look up items whose create answer was lost: report them as unknown
    #[arg(long)]
    pub no_settle: bool,

    /// When Webflow refuses a create request without naming the items at fault, fail it
    /// whole instead of splitting it in halves until only the bad items fail (a refused
    /// update is always split: sending it again is harmless)
    #[arg(long)]
    pub no_bisect: bool,
}

/// Imports (or checks, in a dry run) every line of `input` into `collection`, each outcome
/// written to the ledger as it arrives; returns the library's totals (the rest is in the
/// ledger).
pub async fn run(
    connected: &Connected,
    input: Input,
    options: &ImportOptions,
    dry_run: bool,
    ledger: &Ledger,
    ui: &Ui,
    cancel: &CancellationToken,
) -> Result<BulkSummary, Error> {
    let items = stream::unfold(input, move |mut input| async move {
        loop {
            let next = input.next().await;
            ledger.read_to(input.lines_read(), input.exhausted());
            match next {
                Ok(Some(raw)) => match input::parse(&raw, &input.path) {
                    Ok(item) => {
                        // A dry run also checks the slug's format (a real run leaves that
                        // to Webflow, whose rule is not published).
                        if dry_run && let Some(problem) = input::slug_problem(item.slug()) {
                            ledger.invalid(raw.number, item.slug(), &problem);
                            continue;
                        }
                        ledger.handed(raw.number, &item.field_data.slug);
                        return Some((item, input));
                    }
                    Err(malformed) => ledger.malformed(raw.number, &malformed),
                },
                Ok(None) => return None,
                Err(e) => {
                    ledger.input_failed(&e);
                    return None;
                }
            }
        }
    });
    let mut import = connected
        .client
        .bulk_create_live(connected.collection.as_str())
        .check_schema(true)
        .dry_run(dry_run)
        .skip_existing(options.resume)
        .update(options.update)
        .settle(if options.no_settle {
            Settle::off()
        } else {
            Settle::default()
        })
        .bisect_invalid(!options.no_bisect)
        .cancel_token(cancel.clone())
        .on_progress(|event| {
            ledger.event(event, dry_run);
            ui.event(event);
        });
    if let Some(prune) = options.prune {
        import = import
            .prune(match prune {
                PruneMode::Unpublish => Prune::Unpublish,
                PruneMode::Delete => Prune::Delete,
            })
            .prune_only_if(|| ledger.may_prune());
        if let Some(max) = options.max_prune {
            import = import.max_prune(max);
        }
    }
    if let Some(locale) = &options.primary_locale {
        import = import.primary_locale(locale.clone());
    }
    import
        .run_stream_with(items, |outcome| ledger.outcome(&outcome))
        .await
}
