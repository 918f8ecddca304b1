// The storage the routes and API methods need. It mirrors the Rust `tts_store::Store` trait
// (crates/store/src/store.rs), in camelCase, so that the native durable store (SQLite/PostgreSQL) can be
// bound to it one method to one method. Every implementation keeps the shop secrets (cipher, access and
// refresh token) SEALED at rest with the `Sealer`, with the associated data
// `shop:<appKey>:<shopId>:<column>` (column = cipher | access_token | refresh_token), exactly as the
// native store does (`tts_store::shop_secret_aad`), and opens them only when a shop is read.
//
// Times are Unix seconds (`…At`), lease/retry deadlines Unix milliseconds (`…Ms`).

export type UnixSeconds = number

export interface ShopKey {
  appKey: string
  shopId: string
}

export type ShopStatus = 'connected' | 'deauthorized'

/** A shop's credentials as the routes see them (secrets opened). Never send this to a client: see `ShopSummary`. */
export interface ShopCredentials {
  appKey: string
  shopId: string
  region: string
  shopName: string | null
  sellerType: string | null
  shopCode: string | null
  cipher: string | null
  accessToken: string
  accessTokenExpiresAt: UnixSeconds
  refreshToken: string
  refreshTokenExpiresAt: UnixSeconds
  grantedScopes: string[]
  status: ShopStatus
  /** Set by the store (ignored on upsert). */
  createdAt: UnixSeconds
  /** Set by the store (ignored on upsert). */
  updatedAt: UnixSeconds
}

export type ShopInput = Omit<ShopCredentials, 'createdAt' | 'updatedAt'>

export type MappingSyncStatus = 'pending' | 'synced' | 'error'

export interface ProductMapping {
  shopId: string
  plentyItemId: number
  plentyVariationId: number
  tiktokProductId: string | null
  tiktokSkuId: string | null
  sellerSku: string | null
  syncStatus: MappingSyncStatus
  syncError: string | null
  lastSyncedAt: UnixSeconds | null
  /** TikTok's audit state, e.g. `AUDITING`, `FAILED`, `LIVE`. */
  auditStatus: string | null
  auditReasons: string[]
  createdAt: UnixSeconds
  updatedAt: UnixSeconds
}

export interface ProductMappingQuery {
  shopId: string
  status?: MappingSyncStatus
  /** The last `plentyVariationId` of the previous page. */
  afterVariationId?: number
  limit: number
}

export interface OrderMapping {
  shopId: string
  tiktokOrderId: string
  plentyOrderId: number | null
  tiktokStatus: string | null
  tiktokUpdateTime: UnixSeconds | null
  syncStatus: MappingSyncStatus
  syncError: string | null
  lastSyncedAt: UnixSeconds | null
  createdAt: UnixSeconds
  updatedAt: UnixSeconds
}

export interface OrderMappingQuery {
  shopId: string
  status?: MappingSyncStatus
  /** The last `tiktokOrderId` of the previous page. */
  afterTiktokOrderId?: string
  limit: number
}

export interface NewInboxMessage {
  /** TikTok's `tts_notification_id`: one row per id. */
  notificationId: string
  shopId: string
  /** TikTok's webhook `type` (1 = order status change, …). */
  eventType: number
  /** The raw body exactly as received. */
  payload: Buffer
}

export type InboxOutcome = 'done' | 'given_up'

export interface InboxMessage extends NewInboxMessage {
  receivedAt: UnixSeconds
  processedAt: UnixSeconds | null
  outcome: InboxOutcome | null
  attempts: number
  lastError: string | null
  leaseOwner: string | null
  availableAtMs: number
}

export type InboxState = 'pending' | 'done' | 'given_up' | 'failing'

export interface InboxQuery {
  shopId?: string
  state: InboxState
  afterNotificationId?: string
  limit: number
}

/** `running` also covers runs waiting for an engine: their `phase` is `queued`. */
export type RunStatus = 'running' | 'succeeded' | 'failed'

export interface SyncRun {
  id: number
  shopId: string
  kind: string
  status: RunStatus
  phase: string
  done: number
  total: number | null
  errors: number
  startedAt: UnixSeconds
  finishedAt: UnixSeconds | null
  summary: unknown
}

export interface SyncProgress {
  phase: string
  done: number
  total: number | null
  errors: number
}

/**
 * The store. Errors are `Error`s with a `code`: `TTS_STORE` (database), `TTS_NOT_FOUND`,
 * `TTS_STATE_INVALID` / `TTS_STATE_EXPIRED` / `TTS_STATE_REUSED` (OAuth state), `TTS_SEAL_OPEN_FAILED`.
 */
export interface TikTokStore {
  /** `memory`, `sqlite` or `postgres`. */
  readonly backend: string
  /** True when the data survives a restart. */
  readonly durable: boolean

  // shops
  upsertShop(shop: ShopInput): Promise<void>
  getShop(key: ShopKey): Promise<ShopCredentials | null>
  /** All shops of an app (all apps when omitted), ordered by app key and shop id. */
  listShops(appKey?: string): Promise<ShopCredentials[]>
  deleteShop(key: ShopKey): Promise<boolean>
  markShopDeauthorized(key: ShopKey): Promise<boolean>

  // OAuth state (single use across every instance sharing the store)
  saveOAuthState(state: string, expiresAt: UnixSeconds): Promise<void>
  /** Throws `TTS_STATE_REUSED`, `TTS_STATE_EXPIRED` or `TTS_STATE_INVALID` (unknown). */
  consumeOAuthState(state: string, now: UnixSeconds): Promise<void>

  // webhook inbox
  /** Stores a webhook unless its notification id is already there; true if new. */
  insertInbox(message: NewInboxMessage): Promise<boolean>
  getInbox(notificationId: string): Promise<InboxMessage | null>
  claimInbox(owner: string, limit: number, leaseMs: number): Promise<InboxMessage[]>
  completeInbox(notificationId: string, owner: string): Promise<boolean>
  failInbox(notificationId: string, owner: string, error: string, retryAfterMs: number | null): Promise<boolean>
  countInboxPending(): Promise<number>
  listInbox(query: InboxQuery): Promise<InboxMessage[]>

  // mappings (written by the sync engines; read by the routes)
  upsertProductMapping(mapping: Omit<ProductMapping, 'createdAt' | 'updatedAt'>): Promise<void>
  listProductMappings(query: ProductMappingQuery): Promise<ProductMapping[]>
  insertOrderMappingIfAbsent(mapping: Omit<OrderMapping, 'createdAt' | 'updatedAt'>): Promise<boolean>
  updateOrderMapping(mapping: Omit<OrderMapping, 'createdAt' | 'updatedAt'>): Promise<void>
  listOrderMappings(query: OrderMappingQuery): Promise<OrderMapping[]>

  // sync runs
  startSyncRun(shopId: string, kind: string, phase: string): Promise<SyncRun>
  updateSyncRun(id: number, progress: SyncProgress): Promise<void>
  finishSyncRun(id: number, status: Exclude<RunStatus, 'running'>, summary: unknown): Promise<void>
  getSyncRun(id: number): Promise<SyncRun | null>
  /** Newest first; optionally one kind. */
  listSyncRuns(shopId: string, kind: string | null, limit: number): Promise<SyncRun[]>

  close(): Promise<void>

  /** The addon's `NativeStore` behind this store, when it is the durable one (the Rust sync engines use it directly). */
  readonly native?: unknown
}
