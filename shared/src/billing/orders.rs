//! Paid orders and processed webhook deliveries: the records that make every credit change
//! from Polar happen exactly once.
//!
//! Data class "transaction record" (with the ledger): kept for tax, pseudonymous (wallet id,
//! Polar order and product ids, amounts and currency; never the email, the customer's name
//! or any card detail). Items: `ORDER#<order id>` (credits bought, amounts, cumulative
//! refund, email flags) and `WEBHOOK#<webhook-id>` (a processed delivery; TTL 30 days, past
//! Polar's retry window). Both carry `wallet_id` for the `by-wallet` index.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};

use crate::store::{Item, StoreError, get_n, get_s, is_condition_failed, n, s};

/// A processed delivery is remembered past Polar's retry schedule.
pub const WEBHOOK_RECORD_SECONDS: i64 = 30 * 24 * 3600;

/// An order as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRecord {
    pub order_id: String,
    pub wallet_id: String,
    /// `credited`, or why it was not: `unknown_wallet`, `unknown_product`.
    pub status: String,
    pub pack: Option<String>,
    pub credits: i64,
    pub net_amount: i64,
    pub total_amount: i64,
    pub currency: String,
    pub refunded_amount: i64,
    pub refunded_tax_amount: i64,
    pub credits_refunded: i64,
}

#[derive(Clone, Debug)]
pub struct Orders {
    client: Client,
    table: String,
}

pub fn order_key(order_id: &str) -> String {
    format!("ORDER#{order_id}")
}

pub fn webhook_key(webhook_id: &str) -> String {
    format!("WEBHOOK#{webhook_id}")
}

impl Orders {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn build_error(&self, error: impl std::fmt::Display) -> StoreError {
        StoreError::new("TransactWriteItems", &self.table, error.to_string())
    }

    /// The put of a new order, only if the order id was never seen.
    pub fn put_order(
        &self,
        order: &OrderRecord,
        now: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut item: Item = [
            ("pk", s(order_key(&order.order_id))),
            ("order_id", s(&order.order_id)),
            ("wallet_id", s(&order.wallet_id)),
            ("status", s(&order.status)),
            ("credits", n(order.credits)),
            ("net_amount", n(order.net_amount)),
            ("total_amount", n(order.total_amount)),
            ("currency", s(&order.currency)),
            ("refunded_amount", n(0)),
            ("refunded_tax_amount", n(0)),
            ("credits_refunded", n(0)),
            ("created_at", n(now)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        if let Some(pack) = &order.pack {
            item.insert("pack".to_owned(), s(pack));
        }
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| self.build_error(e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The put recording a processed delivery, only if its id was never seen.
    pub fn put_webhook(
        &self,
        webhook_id: &str,
        event_type: &str,
        order_id: &str,
        wallet_id: &str,
        now: i64,
        extra: &[(&str, AttributeValue)],
    ) -> Result<TransactWriteItem, StoreError> {
        let mut item: Item = [
            ("pk", s(webhook_key(webhook_id))),
            ("event_type", s(event_type)),
            ("order_id", s(order_id)),
            ("wallet_id", s(wallet_id)),
            ("created_at", n(now)),
            ("ttl", n(now + WEBHOOK_RECORD_SECONDS)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        for (name, value) in extra {
            item.insert((*name).to_owned(), value.clone());
        }
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| self.build_error(e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    /// The update moving an order's cumulative refund from `seen` to the new values, only if
    /// nobody moved it meanwhile.
    pub fn advance_refund(
        &self,
        order_id: &str,
        seen_refunded_amount: i64,
        refunded_amount: i64,
        refunded_tax_amount: i64,
        credits_refunded: i64,
        shortfall: i64,
    ) -> Result<TransactWriteItem, StoreError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("pk", s(order_key(order_id)))
            .update_expression(
                "SET refunded_amount = :new, refunded_tax_amount = :tax, credits_refunded = :credits ADD credits_shortfall :shortfall",
            )
            .condition_expression("refunded_amount = :seen")
            .expression_attribute_values(":new", n(refunded_amount))
            .expression_attribute_values(":tax", n(refunded_tax_amount))
            .expression_attribute_values(":credits", n(credits_refunded))
            .expression_attribute_values(":shortfall", n(shortfall))
            .expression_attribute_values(":seen", n(seen_refunded_amount))
            .build()
            .map_err(|e| self.build_error(e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }

    /// Records an order we could not credit, once, so support can see it.
    pub async fn record_unmatched(&self, order: &OrderRecord, now: i64) -> Result<(), StoreError> {
        let TransactWriteItem { put, .. } = self.put_order(order, now)?;
        let Some(put) = put else {
            return Ok(());
        };
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(put.item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if is_condition_failed(&error) => Ok(()),
            Err(error) => Err(StoreError::from_sdk("PutItem", &self.table, &error)),
        }
    }

    pub async fn get(&self, order_id: &str) -> Result<Option<OrderRecord>, StoreError> {
        Ok(self
            .get_item(&order_key(order_id))
            .await?
            .map(|item| OrderRecord {
                order_id: get_s(&item, "order_id").unwrap_or_default().to_owned(),
                wallet_id: get_s(&item, "wallet_id").unwrap_or_default().to_owned(),
                status: get_s(&item, "status").unwrap_or_default().to_owned(),
                pack: get_s(&item, "pack").map(str::to_owned),
                credits: get_n(&item, "credits").unwrap_or_default(),
                net_amount: get_n(&item, "net_amount").unwrap_or_default(),
                total_amount: get_n(&item, "total_amount").unwrap_or_default(),
                currency: get_s(&item, "currency").unwrap_or_default().to_owned(),
                refunded_amount: get_n(&item, "refunded_amount").unwrap_or_default(),
                refunded_tax_amount: get_n(&item, "refunded_tax_amount").unwrap_or_default(),
                credits_refunded: get_n(&item, "credits_refunded").unwrap_or_default(),
            }))
    }

    /// A processed delivery, if this webhook id was seen and its record has not expired
    /// (DynamoDB deletes expired items late).
    pub async fn webhook(&self, webhook_id: &str, now: i64) -> Result<Option<Item>, StoreError> {
        Ok(self
            .get_item(&webhook_key(webhook_id))
            .await?
            .filter(|item| get_n(item, "ttl").is_none_or(|ttl| ttl > now)))
    }

    /// Marks that an email for `pk` is going out; true only for the first caller.
    pub async fn claim_email(&self, pk: &str, flag: &str) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .update_expression("SET #flag = :sent")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(#flag)")
            .expression_attribute_names("#flag", flag)
            .expression_attribute_values(":sent", AttributeValue::S("sent".into()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if is_condition_failed(&error) => Ok(false),
            Err(error) => Err(StoreError::from_sdk("UpdateItem", &self.table, &error)),
        }
    }

    /// Gives a claim back after the email failed, so a redelivery sends it.
    pub async fn release_email(&self, pk: &str, flag: &str) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .update_expression("REMOVE #flag")
            .expression_attribute_names("#flag", flag)
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("UpdateItem", &self.table, &error))?;
        Ok(())
    }

    async fn get_item(&self, pk: &str) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| StoreError::from_sdk("GetItem", &self.table, &error))?;
        Ok(output.item)
    }
}
