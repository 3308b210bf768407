//! The JSON Schema (schemars) of every public request and response type: a change to the
//! spec that changes a type shows up here as a snapshot diff to review.

use schemars::{JsonSchema, schema_for};
use webflow_api::{
    BulkCollectionItems, BulkNewItems, CollectionItem, CollectionItemFieldData, CollectionItemList,
    CreateLiveItemsBody, CreatedLiveItems, NewItem, NewItemFieldData, Pagination, WebflowError,
};

fn snapshot<T: JsonSchema>(name: &str) {
    insta::assert_json_snapshot!(name, schema_for!(T));
}

#[test]
fn request_types() {
    snapshot::<CreateLiveItemsBody>("request_create_live_items_body");
    snapshot::<NewItem>("request_new_item");
    snapshot::<NewItemFieldData>("request_new_item_field_data");
    snapshot::<BulkNewItems>("request_bulk_new_items");
}

#[test]
fn response_types() {
    snapshot::<CreatedLiveItems>("response_created_live_items");
    snapshot::<CollectionItem>("response_collection_item");
    snapshot::<CollectionItemFieldData>("response_collection_item_field_data");
    snapshot::<BulkCollectionItems>("response_bulk_collection_items");
    snapshot::<WebflowError>("response_webflow_error");
    snapshot::<CollectionItemList>("response_collection_item_list");
    snapshot::<Pagination>("response_pagination");
}

/// The types of collection-details, update-items-live, delete-items-live and delete-items.
#[test]
fn collection_and_sync_types() {
    use webflow_api::types::{
        Collection, CollectionField, ItemById, ItemsById, UpdateItem, UpdateItemFieldData,
        UpdateItemsBody,
    };
    snapshot::<Collection>("response_collection");
    snapshot::<CollectionField>("response_collection_field");
    snapshot::<UpdateItemsBody>("request_update_items_body");
    snapshot::<UpdateItem>("request_update_item");
    snapshot::<UpdateItemFieldData>("request_update_item_field_data");
    snapshot::<ItemsById>("request_items_by_id");
    snapshot::<ItemById>("request_item_by_id");
}
