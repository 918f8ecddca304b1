'use strict'
// Async iteration over TikTok Shop searches, on top of the native client's `fetchPage`:
//   for await (const order of paginate(client, shopId, 'orders.search', { body: { order_status: 'AWAITING_SHIPMENT' } }))
// Pages are fetched lazily, one at a time, as the loop asks for more.

async function* paginate(client, shopId, operation, options = {}, pageSize = 50) {
  let pageToken
  do {
    const page = await client.fetchPage(shopId, operation, options, pageSize, pageToken)
    yield* page.items
    pageToken = page.nextPageToken
  } while (pageToken)
}

/** A shop's view of a client: `shop.call(op, options)`, `shop.paginate(op, options)`, `shop.getOrders(ids)`. */
function shopView(client, shopId) {
  return {
    shopId,
    call: (operation, options) => client.call(shopId, operation, options),
    fetchPage: (operation, options, pageSize, pageToken) => client.fetchPage(shopId, operation, options, pageSize, pageToken),
    paginate: (operation, options, pageSize) => paginate(client, shopId, operation, options, pageSize),
    getOrders: (ids) => client.getOrders(shopId, ids),
  }
}

module.exports = { paginate, shopView }
