// API methods reachable through Alokai's generic route (`POST /tiktok/<method>`) and the SDK
// (`sdk.tiktok.<method>(params)`). Each takes one object argument (Alokai's advice). Errors carry the
// `statusCode` Alokai's error handler reads, so the SDK sees e.g. 404 with `TTS_NOT_FOUND`'s message.

import { withStatus } from './errors.js'
import { checkAdmin } from './runtime.js'
import type { Connection, InboxEntry, MappingQueryInput, ShopSummary, SyncKind, SyncRunView, SyncStatus, TikTokRuntime } from './runtime.js'
import type { OrderMapping, ProductMapping } from './store.js'

/** What an API method receives as `context` (the parts used here). */
export interface TikTokContext {
  client: TikTokRuntime
  config: Record<string | symbol, unknown>
  req?: { headers: Record<string, string | string[] | undefined> }
  [key: string]: unknown
}

export interface ProductMappingsResult {
  mappings: ProductMapping[]
  /** How many of `mappings` are in `error`. */
  errors: number
}

export interface OrderMappingsResult {
  mappings: OrderMapping[]
  errors: number
}

export interface TriggerSyncResult {
  runs: SyncRunView[]
  note: string
}

/**
 * The methods as the SDK sees them (without `context`): `buildModule(middlewareModule<Endpoints>, { apiUrl: '<middleware>/tiktok' })`.
 * A type alias, not an interface: the SDK's constraint needs an implicit index signature.
 */
export type Endpoints = {
  /** Connected shops (no tokens, no ciphers), the app's public settings and the storage backend. */
  getConnection(): Promise<Connection>
  /** A fresh authorize URL (with a single-use state) to send the merchant to. */
  getAuthorizationUrl(): Promise<{ url: string; expiresAt: number }>
  /** Forgets a shop's credentials here. 404 `TTS_NOT_FOUND` for a shop that is not connected. */
  disconnect(params: { shopId: string }): Promise<{ shopId: string; disconnected: true }>
  /** Sync runs per shop, webhook counters, inbox backlog. */
  getSyncStatus(): Promise<SyncStatus>
  /** Queues a run per (shop, kind); all connected shops and all kinds by default. */
  triggerSync(params?: { shopId?: string; kind?: SyncKind; full?: boolean }): Promise<TriggerSyncResult>
  listProductMappings(params?: MappingQueryInput): Promise<ProductMappingsResult>
  listOrderMappings(params?: MappingQueryInput): Promise<OrderMappingsResult>
  /** Webhooks in the inbox (default: failing ones), without bodies. */
  listInbox(params?: { state?: 'pending' | 'done' | 'given_up' | 'failing'; shopId?: string; after?: string; limit?: number }): Promise<{ messages: InboxEntry[] }>
}

type WithContext<E> = { [K in keyof E]: E[K] extends (...args: infer A) => infer R ? (context: TikTokContext, ...args: A) => R : never }

/** Checks the admin token, runs a method and gives its error the HTTP status Alokai's error handler will use. */
async function call<T>(context: TikTokContext, fn: () => Promise<T>): Promise<T> {
  try {
    checkAdmin(context.client, context.req?.headers)
    return await fn()
  } catch (e) {
    throw withStatus(e)
  }
}

function params<T extends object>(p: unknown): Partial<T> {
  return p && typeof p === 'object' && !Array.isArray(p) ? (p as Partial<T>) : {}
}

export const api: WithContext<Endpoints> = {
  getConnection: (context) => call(context, () => context.client.connection()),
  getAuthorizationUrl: (context) => call(context, () => context.client.authorizationUrl()),
  disconnect: (context, p) => call(context, () => context.client.disconnect(params<{ shopId: string }>(p).shopId)),
  getSyncStatus: (context) => call(context, () => context.client.syncStatus()),
  triggerSync: (context, p) => call(context, () => context.client.triggerSync(params<{ shopId?: string; kind?: SyncKind; full?: boolean }>(p))),
  listProductMappings: (context, p) => call(context, () => context.client.productMappings(params<MappingQueryInput>(p))),
  listOrderMappings: (context, p) => call(context, () => context.client.orderMappings(params<MappingQueryInput>(p))),
  listInbox: (context, p) => call(context, () => context.client.inbox(params<{ state?: string; shopId?: string; after?: string; limit?: number }>(p))),
}

export type { Connection, ShopSummary, SyncRunView, SyncStatus }
