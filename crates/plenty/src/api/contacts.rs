//! Buyers: `POST /rest/accounts/contacts` and `POST /rest/accounts/contacts/{contactId}/addresses`.

use tts_core::Result;

use super::positive;
use crate::client::{Client, Request};
use crate::model::{Address, Contact};

impl Client {
    /// Creates a contact; the answer carries its `id`.
    pub async fn create_contact(&self, contact: &Contact) -> Result<Contact> {
        self.call(&Request::new("POST /rest/accounts/contacts").json(contact)?)
            .await
    }

    /// Adds an address to a contact; the answer carries the address `id` for `addressRelations`.
    pub async fn create_contact_address(&self, contact_id: i64, address: &Address) -> Result<Address> {
        let request = Request::new("POST /rest/accounts/contacts/{contactId}/addresses")
            .param("contactId", positive("contactId", contact_id)?)
            .json(address)?;
        self.call(&request).await
    }
}
