//! A collection's details and fields: `Client::collection` (`collection-details`).

use crate::generated::builder::CollectionDetails;
use crate::operation::validate_collection_id;
use crate::operation::{Operation, call_future};
use crate::transport::Transport;
use crate::types::Collection;
use crate::{Client, Error};

impl Client {
    /// The collection's details: its names and its fields (slug, type, whether required,
    /// validations such as an Option field's options or a Reference's collection). One
    /// request, retried after a transient failure.
    ///
    /// ```no_run
    /// # async fn run(client: webflow_api::Client) -> Result<(), webflow_api::Error> {
    /// let collection = client.collection("580e63fc8c9a982ac9b8b745").await?;
    /// for field in &collection.fields {
    ///     println!("{}: {}", field.slug.as_deref().unwrap_or("?"), field.type_);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn collection(&self, collection_id: impl Into<String>) -> GetCollection<'_> {
        GetCollection {
            client: self,
            collection_id: collection_id.into(),
        }
    }
}

/// A pending [`Client::collection`]: `.await` it.
#[must_use = "a lookup does nothing until awaited"]
#[derive(Debug)]
pub struct GetCollection<'a> {
    client: &'a Client,
    collection_id: String,
}

call_future!(GetCollection => Collection);

impl Operation for GetCollection<'_> {
    type Response = Collection;
    type Builder<'c> = CollectionDetails<'c>;
    type Output = Collection;

    fn check(&self) -> Result<(), Error> {
        validate_collection_id(&self.collection_id)
    }

    fn builder<'c>(&self, transport: &'c Transport) -> CollectionDetails<'c> {
        transport
            .collection_details()
            .collection_id(self.collection_id.as_str())
    }

    fn output(&self, collection: Collection) -> Result<Collection, Error> {
        Ok(collection)
    }
}
