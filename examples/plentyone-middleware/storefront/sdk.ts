// The storefront/admin side: an SDK module for the tiktok integration, typed by the integration's
// `Endpoints`. (PlentyONE's shop-core plugin builds only `plentysystems`; add this module in your own
// Nuxt plugin.) Compiled by `npm run build:ts`, so the types below are checked on every test run.

import { buildModule, initSDK, middlewareModule } from '@vue-storefront/sdk'
import type { Endpoints, ShopSummary, SyncRunView } from 'tiktok-shop-plentyone/server'

export function createTiktokSdk(middlewareUrl: string) {
  return initSDK({
    tiktok: buildModule(middlewareModule<Endpoints>, { apiUrl: `${middlewareUrl}/tiktok` }),
  })
}

/** What an admin page would show: connected shops and the newest run per shop. */
export async function adminOverview(middlewareUrl: string): Promise<Array<{ shop: ShopSummary; lastRun: SyncRunView | undefined }>> {
  const sdk = createTiktokSdk(middlewareUrl)
  const [connection, status] = await Promise.all([sdk.tiktok.getConnection(), sdk.tiktok.getSyncStatus()])
  return connection.shops.map((shop) => ({ shop, lastRun: status.shops.find((s) => s.shopId === shop.shopId)?.runs[0] }))
}

/** Typing checks (never called): wrong usage must stay a compile error. */
export async function typeChecks(middlewareUrl: string): Promise<void> {
  const sdk = createTiktokSdk(middlewareUrl)
  const { url }: { url: string } = await sdk.tiktok.getAuthorizationUrl()
  void url
  const { runs } = await sdk.tiktok.triggerSync({ kind: 'orders' })
  const state: 'queued' | 'running' | 'succeeded' | 'failed' = runs[0]!.state
  void state
  const errors: number = (await sdk.tiktok.listOrderMappings({ status: 'error' })).errors
  void errors
  // @ts-expect-error shopId is required
  await sdk.tiktok.disconnect({})
  // @ts-expect-error not a sync kind
  await sdk.tiktok.triggerSync({ kind: 'everything' })
  // @ts-expect-error no such method
  await sdk.tiktok.getTokens()
  // @ts-expect-error shops carry no token
  void (await sdk.tiktok.getConnection()).shops[0]!.accessToken
}
