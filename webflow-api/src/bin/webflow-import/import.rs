//! The import and its options: input lines streamed into
//! `bulk_create_live(..).run_stream_with(..)`, each outcome handed to the ledger as it
//! arrives.

use futures_util::stream;
use webflow_api::{BulkSummary, CancellationToken, Client, Error, Settle};

use crate::input::{self, Input};
use crate::ledger::Ledger;
use crate::ui::Ui;

/// How the import runs: `webflow-import`'s options, parsed by clap and used as they are.
#[derive(clap::Args, Debug)]
pub struct ImportOptions {
    /// Skip items whose slug already exists in the collection (lists it first), so an
    /// interrupted import can be run again from the start
    #[arg(long)]
    pub resume: bool,

    /// Do not look up items whose create answer was lost: report them as unknown
    #[arg(long)]
    pub no_settle: bool,

    /// Split a request refused for invalid items in halves until only the bad items fail
    #[arg(long)]
    pub bisect: bool,
}

/// Imports every line of `input` into `collection`, each outcome written to the ledger as
/// it arrives; returns the library's totals (the rest is in the ledger).
pub async fn run(
    client: &Client,
    collection: &str,
    input: Input,
    options: &ImportOptions,
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
    client
        .bulk_create_live(collection)
        .skip_existing(options.resume)
        .settle(if options.no_settle {
            Settle::off()
        } else {
            Settle::default()
        })
        .bisect_invalid(options.bisect)
        .cancel_token(cancel.clone())
        .on_progress(|event| {
            ledger.event(event);
            ui.event(event);
        })
        .run_stream_with(items, |outcome| ledger.outcome(&outcome))
        .await
}
