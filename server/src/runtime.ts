// Once-per-process state of the integration, created by `init`: the addon's client, OAuth states,
// the sealer, the store and the scheduler. Routes and API methods call into it; nothing here is
// created per request.

import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { inspect } from 'node:util'

import {
  authorizeUrl,
  createSyncEngines,
  exchangeAuthCode,
  generateEncryptionKey,
  getAuthorizedShops,
  OAuthStates,
  parseWebhook,
  Sealer,
  TikTokShopClient,
  type ClientEventInfo,
  type NativeStore,
  type SyncEngines,
  type SyncRunEvent,
  type WebhookNotification,
} from '../../index.js'
import { publicConfig, resolveConfig, SHOP_SETTINGS_KEYS, type ResolvedConfig, type TikTokIntegrationConfig } from './config.js'
import { describe, TikTokShopError } from './errors.js'
import { openStore } from './store-factory.js'
import type { InboxMessage, InboxState, MappingSyncStatus, OrderMapping, ProductMapping, ShopCredentials, SyncRun, TikTokStore } from './store.js'

/** The part of Alokai's logger (`@vue-storefront/logger` `LoggerInterface`) this layer uses. */
export interface Logger {
  error(data: unknown, metadata?: Record<string, unknown>): void
  warning(data: unknown, metadata?: Record<string, unknown>): void
  notice?(data: unknown, metadata?: Record<string, unknown>): void
  info(data: unknown, metadata?: Record<string, unknown>): void
  debug(data: unknown, metadata?: Record<string, unknown>): void
}

export const SYNC_KINDS = ['products', 'inventory', 'orders', 'fulfillment', 'returns'] as const
export type SyncKind = (typeof SYNC_KINDS)[number]

/** A connected shop as shown to a storefront or admin: no token, no cipher. */
export interface ShopSummary {
  shopId: string
  name: string | null
  region: string
  sellerType: string | null
  code: string | null
  status: ShopCredentials['status']
  grantedScopes: string[]
  accessTokenExpiresAt: number
  refreshTokenExpiresAt: number
  connectedAt: number
  updatedAt: number
}

export interface Connection {
  connected: boolean
  app: ReturnType<typeof publicConfig>
  storage: { backend: string; durable: boolean }
  shops: ShopSummary[]
}

export interface SyncRunView extends SyncRun {
  /** `queued` (waiting for its engine), `running`, `succeeded`, `failed`. */
  state: 'queued' | 'running' | 'succeeded' | 'failed'
}

export interface SyncStatus {
  intervalMs: number
  stockIntervalMs: number
  /** Sync kinds with an engine installed; runs of other kinds stay queued. */
  engines: string[]
  note: string
  inbox: { pending: number }
  webhooks: WebhookStats
  shops: Array<{ shopId: string; runs: SyncRunView[]; progress: SyncRunEvent[]; settingsProblem?: string }>
}

export interface WebhookStats {
  received: number
  accepted: number
  duplicates: number
  rejected: number
}

/** An inbox message without its body. */
export type InboxEntry = Omit<InboxMessage, 'payload'> & { bytes: number }

export interface MappingQueryInput {
  shopId?: string
  status?: MappingSyncStatus
  after?: string
  limit?: number
}

/** Runs one queued sync run; returns the summary stored with the finished run. */
export type SyncEngine = (ctx: {
  runtime: TikTokRuntime
  shopId: string
  run: SyncRun
  progress: (p: { phase: string; done: number; total: number | null; errors: number }) => Promise<void>
}) => Promise<unknown>

/** A webhook as the inbox consumer sees it (the bytes were verified on receipt). */
export interface InboxEvent {
  notificationId: string
  shopId: string
  /** TikTok's topic number (1 = order status change, …). */
  type: number
  timestamp: number
  data: unknown
}

export type InboxHandler = (event: InboxEvent, message: InboxMessage) => Promise<void>

export const INBOX_MAX_ATTEMPTS = 5
export const INBOX_LEASE_MS = 60_000

export const ENGINES_NOTE =
  'Sync engines are not installed in this build (issue 7): triggered runs are recorded as queued and start when an engine for their kind is registered.'

const nowSeconds = () => Math.floor(Date.now() / 1000)

/** A run waiting for its engine (`queued`, or `queued:full` for a full inventory pass). */
const isQueued = (run: SyncRun) => run.phase.startsWith('queued')

/** How often a full inventory pass replaces the changed-only one. */
export const FULL_INVENTORY_EVERY_SECONDS = 24 * 3600
/** How soon a run that found its lease taken by another instance is tried again. */
export const BUSY_RETRY_MS = 5_000

function summary(s: ShopCredentials): ShopSummary {
  return {
    shopId: s.shopId,
    name: s.shopName,
    region: s.region,
    sellerType: s.sellerType,
    code: s.shopCode,
    status: s.status,
    grantedScopes: s.grantedScopes,
    accessTokenExpiresAt: s.accessTokenExpiresAt,
    refreshTokenExpiresAt: s.refreshTokenExpiresAt,
    connectedAt: s.createdAt,
    updatedAt: s.updatedAt,
  }
}

export class TikTokRuntime {
  readonly id = randomUUID()
  readonly webhookStats: WebhookStats = { received: 0, accepted: 0, duplicates: 0, rejected: 0 }
  readonly engines = new Map<string, SyncEngine>()
  /** Kinds the native sync engines run (all of them once PlentyONE is configured). */
  private readonly nativeKinds = new Set<string>()
  private readonly timers: NodeJS.Timeout[] = []
  private ticking: Promise<void> | undefined
  private kickAgain = false
  private inboxHandler: InboxHandler | undefined
  private closed = false
  /** The native sync engines (Rust): set when PlentyONE REST access and a durable store are configured. */
  syncEngines: SyncEngines | undefined
  /** Shops whose sync settings were refused, with the reason (shown by `syncStatus`). */
  readonly settingsProblems = new Map<string, string>()
  /** The last progress event of each (shop, kind) pass, running or just finished. */
  readonly progress = new Map<string, SyncRunEvent>()

  private constructor(
    readonly config: ResolvedConfig,
    readonly logger: Logger,
    readonly sealer: Sealer,
    readonly states: OAuthStates,
    readonly store: TikTokStore,
    readonly client: TikTokShopClient,
  ) {}

  /** Validates the configuration, opens the store, creates the client and loads the connected shops. */
  static async create(configuration: TikTokIntegrationConfig, env: Record<string, string | undefined>, logger: Logger): Promise<TikTokRuntime> {
    const config = resolveConfig(configuration, env)
    let key = config.encryptionKey
    if (key === undefined) {
      // Only possible with `memory:`: nothing outlives the process, so a per-process key is enough.
      key = generateEncryptionKey()
    }
    const sealer = new Sealer(key)
    const states = new OAuthStates({ secrets: [config.appSecret], ttlSeconds: config.stateTtlSeconds })
    const injected = configuration.store
    const opened = injected ? { store: injected } : await openStore(config.databaseUrl, { encryptionKey: key, sealer })
    if ('warning' in opened && opened.warning) logger.warning(opened.warning)

    let runtime: TikTokRuntime | undefined
    const client = new TikTokShopClient(
      {
        appKey: config.appKey,
        appSecret: config.appSecret,
        ...(config.apiBase ? { apiBase: config.apiBase } : {}),
        ...(config.authBase ? { authBase: config.authBase } : {}),
        ...config.client,
      },
      (event) => runtime?.onClientEvent(event),
    )
    runtime = new TikTokRuntime(config, logger, sealer, states, opened.store, client)
    try {
      await runtime.loadShops()
    } catch (e) {
      await opened.store.close().catch(() => undefined)
      throw e
    }
    await runtime.startSyncEngines()
    runtime.startScheduler()
    if (config.adminToken === undefined) {
      logger.warning(
        'TIKTOK_SHOP_ADMIN_TOKEN is not set: the admin routes (/api/tiktok/auth, /connection, /products, /orders, /sync) and the tiktok SDK methods are open to anyone who can reach this middleware. Set it in production.',
      )
    }
    logger.info('TikTok Shop integration ready', { tiktok: { ...publicConfig(config), storage: opened.store.backend } })
    return runtime
  }

  /**
   * Every engine's settings for a shop (snake_case: the Rust configs): `configuration.sync.defaults`
   * overlaid per section by `configuration.sync.shops[shopId]`, with the shop's id and region and
   * `orders.plenty_id` from PLENTY_ID.
   */
  shopSyncSettings(shopId: string, region: string): Record<string, unknown> {
    const { defaults, shops } = this.config.sync
    const own = shops[shopId] ?? {}
    const out: Record<string, unknown> = { shop_id: shopId, region }
    for (const key of SHOP_SETTINGS_KEYS) {
      const a = defaults[key]
      const b = own[key]
      if (a === undefined && b === undefined) continue
      out[key] = typeof a === 'object' && a !== null && typeof b === 'object' && b !== null ? { ...a, ...b } : (b ?? a)
    }
    const orders = (out.orders ?? {}) as Record<string, unknown>
    out.orders = { plenty_id: this.config.plenty?.plentyId, ...orders }
    return out
  }

  /**
   * Applies `configuration.sync` to a connected shop again, e.g. after its warehouse or carrier mapping
   * changed. Throws `TTS_CONFIG_INVALID` naming the refused setting.
   */
  async applyShopSettings(shopId: string): Promise<void> {
    const shop = await this.requireShop(shopId)
    if (!this.syncEngines) throw new TikTokShopError('TTS_NOT_INITIALIZED', 'The sync engines are not running (PlentyONE REST, PLENTY_ID and a durable store are needed).')
    if (!this.configureShop(shop.shopId, shop.region)) {
      throw new TikTokShopError('TTS_CONFIG_INVALID', `Sync settings of shop ${shop.shopId} refused: ${this.settingsProblems.get(shop.shopId)}`, { field: `sync.shops.${shop.shopId}` })
    }
  }

  /** Gives the engines a shop's settings; refused settings are logged and shown by `syncStatus`. */
  private configureShop(shopId: string, region: string): boolean {
    const engines = this.syncEngines
    if (!engines) return false
    try {
      engines.setShop(this.shopSyncSettings(shopId, region))
      this.settingsProblems.delete(shopId)
      return true
    } catch (e) {
      const { code, message, field } = describe(e) as { code: string; message: string; field?: string }
      this.settingsProblems.set(shopId, `${code}${field ? ` (${field})` : ''}: ${message}`)
      this.logger.error('TikTok Shop sync settings refused for a shop: it is not synced until they are fixed', { tiktok: { shopId, code, field, message } })
      return false
    }
  }

  /**
   * Starts the sync engines when PlentyONE is configured (with `plentyId`) and the store is durable: the
   * Rust worker drains the webhook inbox (orders, product audits, cancellations, returns) and each sync
   * kind gets a native engine the scheduler runs. A PlentyONE that cannot be reached is logged, not
   * fatal: the middleware (and plentysystems) keep serving, and webhooks keep landing in the inbox.
   */
  private async startSyncEngines(): Promise<void> {
    const plenty = this.config.plenty
    const native = this.store.native as NativeStore | undefined
    if (!plenty) return
    if (plenty.plentyId === undefined || !native) {
      this.logger.warning(
        !native
          ? 'TikTok Shop sync needs the durable store (TIKTOK_SHOP_DATABASE_URL sqlite: or postgres:): not started'
          : 'TikTok Shop sync needs PLENTY_ID (configuration.plenty.plentyId), the PlentyONE client orders are created in: not started',
      )
      return
    }
    try {
      this.syncEngines = await createSyncEngines(
        native,
        this.client,
        {
          plenty: { baseUrl: plenty.restUrl, username: plenty.username, password: plenty.password },
          owner: `sync-${this.id}`,
          timings: this.config.sync.timings,
        },
        (event) => this.onProgress(event),
      )
    } catch (e) {
      this.logger.error('TikTok Shop sync could not start (PlentyONE REST login or referrer failed)', { tiktok: describe(e) })
      return
    }
    const engines = this.syncEngines
    for (const s of await this.store.listShops(this.config.appKey)) {
      if (s.status === 'connected') this.configureShop(s.shopId, s.region)
    }
    engines.start()
    for (const kind of SYNC_KINDS) this.nativeKinds.add(kind)
    this.kick()
    this.logger.info('TikTok Shop sync running', { tiktok: { shops: engines.shops, kinds: SYNC_KINDS } })
  }

  private onProgress(event: SyncRunEvent): void {
    this.progress.set(`${event.shopId}:${event.kind}`, event)
    if (event.state !== 'running') {
      const { summary, ...rest } = event
      this.logger[event.state === 'failed' ? 'warning' : 'info'](`TikTok Shop ${event.kind} pass ${event.state}`, { tiktok: { ...rest, report: (summary as { report?: unknown } | undefined)?.report } })
    }
  }

  private async loadShops(): Promise<void> {
    for (const shop of await this.store.listShops(this.config.appKey)) {
      if (shop.status !== 'connected') continue
      await this.client.addShop({
        shopId: shop.shopId,
        ...(shop.cipher ? { cipher: shop.cipher } : {}),
        accessToken: shop.accessToken,
        accessTokenExpireIn: shop.accessTokenExpiresAt,
        refreshToken: shop.refreshToken,
        refreshTokenExpireIn: shop.refreshTokenExpiresAt,
      })
    }
  }

  /** The client refreshed a token (persist it: the old one stops working) or lost an authorization. */
  private onClientEvent(event: ClientEventInfo): void {
    if (event.type === 'tokensRefreshed' && event.tokens) {
      const tokens = event.tokens
      void (async () => {
        const shop = await this.store.getShop({ appKey: this.config.appKey, shopId: event.shopId })
        if (!shop) return
        await this.store.upsertShop({
          ...shop,
          accessToken: tokens.accessToken,
          accessTokenExpiresAt: tokens.accessTokenExpireIn,
          refreshToken: tokens.refreshToken,
          refreshTokenExpiresAt: tokens.refreshTokenExpireIn,
        })
        this.logger.info('TikTok Shop tokens refreshed and stored', { tiktok: { shopId: event.shopId } })
      })().catch((e) => this.logger.error('Could not store refreshed TikTok Shop tokens', { tiktok: { shopId: event.shopId, ...describe(e) } }))
    } else if (event.type === 'reauthorizationRequired') {
      void this.store
        .markShopDeauthorized({ appKey: this.config.appKey, shopId: event.shopId })
        .then(() => this.logger.warning('TikTok Shop authorization revoked: the seller must connect the shop again', { tiktok: { shopId: event.shopId } }))
        .catch((e) => this.logger.error('Could not mark the shop deauthorized', { tiktok: { shopId: event.shopId, ...describe(e) } }))
    } else if (event.type === 'retry') {
      this.logger.debug('TikTok Shop call retried', { tiktok: { shopId: event.shopId, operation: event.operation, attempt: event.attempt, code: event.code } })
    }
  }

  // ---- OAuth ----

  /** A fresh state and the seller-facing authorize URL. */
  async authorizationUrl(): Promise<{ url: string; expiresAt: number }> {
    const { state, expiresAt } = this.states.issue()
    await this.store.saveOAuthState(state, expiresAt)
    const url = authorizeUrl({
      serviceId: this.config.serviceId,
      state,
      region: this.config.region,
      ...(this.config.authorizeBase ? { authorizeBase: this.config.authorizeBase } : {}),
    })
    return { url, expiresAt }
  }

  /**
   * The callback: state checked (signature, expiry, single use in this process and in the store), code
   * exchanged, authorized shops fetched, shops and sealed tokens stored, shops added to the client.
   * Nothing is stored unless every step before succeeded.
   */
  async completeAuthorization(query: Record<string, unknown>): Promise<{ sellerName: string; shops: ShopSummary[] }> {
    const one = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined)
    const error = one(query.error)
    const state = one(query.state)
    const code = one(query.code)
    if (error !== undefined) {
      if (error === 'auth_denied') {
        throw new TikTokShopError('TTS_AUTHORIZATION_DENIED', 'The seller declined the authorization on TikTok; nothing was connected. Start the connection again to retry.')
      }
      throw new TikTokShopError('TTS_INVALID_ARGUMENT', `TikTok returned an error instead of an authorization code (error=${error.slice(0, 64)}); nothing was connected.`, { field: 'error' })
    }
    if (!state) throw new TikTokShopError('TTS_STATE_INVALID', 'The callback has no state parameter; start the connection from /api/tiktok/auth.', { field: 'state' })
    this.states.verify(state)
    await this.store.consumeOAuthState(state, nowSeconds())
    if (!code || code === 'null') throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'The callback has no authorization code.', { field: 'code' })

    const tokens = await exchangeAuthCode({
      appKey: this.config.appKey,
      appSecret: this.config.appSecret,
      authCode: code,
      ...(this.config.authBase ? { authBase: this.config.authBase } : {}),
    })
    const shops = await getAuthorizedShops({
      appKey: this.config.appKey,
      appSecret: this.config.appSecret,
      accessToken: tokens.accessToken,
      ...(this.config.apiBase ? { apiBase: this.config.apiBase } : {}),
    })
    if (shops.length === 0) throw new TikTokShopError('TTS_NOT_FOUND', 'The seller authorized the app but has no shop it may act for.')
    const out: ShopSummary[] = []
    for (const s of shops) {
      await this.store.upsertShop({
        appKey: this.config.appKey,
        shopId: s.id,
        region: s.region,
        shopName: s.name,
        sellerType: s.sellerType,
        shopCode: s.code,
        cipher: s.cipher || null,
        accessToken: tokens.accessToken,
        accessTokenExpiresAt: tokens.accessTokenExpireIn,
        refreshToken: tokens.refreshToken,
        refreshTokenExpiresAt: tokens.refreshTokenExpireIn,
        grantedScopes: tokens.grantedScopes,
        status: 'connected',
      })
      await this.client.addShop({
        shopId: s.id,
        ...(s.cipher ? { cipher: s.cipher } : {}),
        accessToken: tokens.accessToken,
        accessTokenExpireIn: tokens.accessTokenExpireIn,
        refreshToken: tokens.refreshToken,
        refreshTokenExpireIn: tokens.refreshTokenExpireIn,
      })
      this.configureShop(s.id, s.region)
      const stored = await this.store.getShop({ appKey: this.config.appKey, shopId: s.id })
      if (stored) out.push(summary(stored))
    }
    this.logger.info('TikTok Shop connected', { tiktok: { shops: out.map((s) => ({ shopId: s.shopId, region: s.region })) } })
    return { sellerName: tokens.sellerName, shops: out }
  }

  // ---- connection ----

  async connection(): Promise<Connection> {
    const shops = (await this.store.listShops(this.config.appKey)).map(summary)
    return {
      connected: shops.some((s) => s.status === 'connected'),
      app: publicConfig(this.config),
      storage: { backend: this.store.backend, durable: this.store.durable },
      shops,
    }
  }

  private async requireShop(shopId: unknown): Promise<ShopCredentials> {
    if (typeof shopId !== 'string' || shopId.trim() === '') {
      throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'shopId is required', { field: 'shopId' })
    }
    const shop = await this.store.getShop({ appKey: this.config.appKey, shopId })
    if (!shop) throw new TikTokShopError('TTS_NOT_FOUND', `No TikTok shop ${shopId} is connected.`, { field: 'shopId' })
    return shop
  }

  /** Forgets a shop's credentials here (mappings stay). TikTok has no revoke call: the seller removes the app in Seller Center. */
  async disconnect(shopId: unknown): Promise<{ shopId: string; disconnected: true }> {
    const shop = await this.requireShop(shopId)
    await this.store.deleteShop({ appKey: this.config.appKey, shopId: shop.shopId })
    this.client.removeShop(shop.shopId)
    this.logger.info('TikTok Shop disconnected', { tiktok: { shopId: shop.shopId } })
    return { shopId: shop.shopId, disconnected: true }
  }

  // ---- webhooks ----

  /**
   * Verifies the raw bytes and writes the notification to the inbox. Throws `TTS_SIGNATURE_INVALID`,
   * `TTS_WEBHOOK_PAYLOAD_INVALID`, `TTS_WEBHOOK_RAW_BODY_REQUIRED` or a store error.
   */
  async receiveWebhook(rawBody: Buffer, authorization: string | undefined): Promise<{ inserted: boolean; notification: WebhookNotification }> {
    this.webhookStats.received++
    let notification: WebhookNotification
    try {
      notification = parseWebhook({
        appKey: this.config.appKey,
        appSecrets: this.config.webhookSecret ? [this.config.appSecret, this.config.webhookSecret] : [this.config.appSecret],
        ...(authorization !== undefined ? { authorization } : {}),
        rawBody,
      })
    } catch (e) {
      this.webhookStats.rejected++
      throw e
    }
    const inserted = await this.store.insertInbox({
      notificationId: notification.notificationId,
      shopId: notification.shopId,
      eventType: notification.type,
      payload: rawBody,
    })
    if (inserted) this.webhookStats.accepted++
    else this.webhookStats.duplicates++
    if (inserted) this.kick()
    return { inserted, notification }
  }

  // ---- mappings ----

  private async shopsFor(shopId: unknown): Promise<string[]> {
    if (shopId !== undefined && shopId !== null && shopId !== '') return [(await this.requireShop(shopId)).shopId]
    return (await this.store.listShops(this.config.appKey)).map((s) => s.shopId)
  }

  private static query(input: MappingQueryInput | undefined): { status?: MappingSyncStatus; limit: number; after?: string } {
    const q = input ?? {}
    if (q.status !== undefined && !['pending', 'synced', 'error'].includes(q.status)) {
      throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'status must be pending, synced or error', { field: 'status' })
    }
    const limit = q.limit === undefined ? 100 : Number(q.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'limit must be between 1 and 1000', { field: 'limit' })
    return { ...(q.status ? { status: q.status } : {}), limit, ...(q.after ? { after: String(q.after) } : {}) }
  }

  async productMappings(input?: MappingQueryInput): Promise<{ mappings: ProductMapping[]; errors: number }> {
    const q = TikTokRuntime.query(input)
    const after = q.after === undefined ? undefined : Number(q.after)
    if (after !== undefined && !Number.isInteger(after)) throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'after must be a PlentyONE variation id', { field: 'after' })
    const mappings: ProductMapping[] = []
    for (const shopId of await this.shopsFor(input?.shopId)) {
      mappings.push(...(await this.store.listProductMappings({ shopId, limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(after !== undefined ? { afterVariationId: after } : {}) })))
    }
    return { mappings, errors: mappings.filter((m) => m.syncStatus === 'error').length }
  }

  async orderMappings(input?: MappingQueryInput): Promise<{ mappings: OrderMapping[]; errors: number }> {
    const q = TikTokRuntime.query(input)
    const mappings: OrderMapping[] = []
    for (const shopId of await this.shopsFor(input?.shopId)) {
      mappings.push(...(await this.store.listOrderMappings({ shopId, limit: q.limit, ...(q.status ? { status: q.status } : {}), ...(q.after ? { afterTiktokOrderId: q.after } : {}) })))
    }
    return { mappings, errors: mappings.filter((m) => m.syncStatus === 'error').length }
  }

  // ---- sync ----

  static view(run: SyncRun): SyncRunView {
    const state = run.status === 'running' ? (isQueued(run) ? 'queued' : 'running') : run.status
    return { ...run, state }
  }

  /** Sync kinds with an engine: the native ones and any registered from JS. */
  engineKinds(): string[] {
    return [...new Set([...this.nativeKinds, ...this.engines.keys()])]
  }

  /**
   * Queues a run per (shop, kind) unless one is already waiting; the scheduler starts it within seconds.
   * `full` (inventory only) sends every mapped SKU instead of only changed ones.
   */
  async triggerSync(input?: { shopId?: string; kind?: string; full?: boolean }): Promise<{ runs: SyncRunView[]; note: string }> {
    const kinds: string[] = input?.kind === undefined || input.kind === null ? [...SYNC_KINDS] : [input.kind]
    for (const k of kinds) {
      if (!(SYNC_KINDS as readonly string[]).includes(k)) throw new TikTokShopError('TTS_INVALID_ARGUMENT', `kind must be one of ${SYNC_KINDS.join(', ')}`, { field: 'kind' })
    }
    const shops = input?.shopId ? [await this.requireShop(input.shopId)] : (await this.store.listShops(this.config.appKey)).filter((s) => s.status === 'connected')
    if (shops.length === 0) throw new TikTokShopError('TTS_NOT_FOUND', 'No TikTok shop is connected: connect one at /api/tiktok/auth first.')
    const runs: SyncRunView[] = []
    for (const shop of shops) {
      for (const kind of kinds) {
        const phase = input?.full && kind === 'inventory' ? 'queued:full' : 'queued'
        const waiting = (await this.store.listSyncRuns(shop.shopId, kind, 5)).find((r) => isQueued(r) && r.status === 'running')
        if (waiting && (waiting.phase === phase || phase === 'queued')) {
          runs.push(TikTokRuntime.view(waiting)) // one waiting run per (shop, kind) is enough
          continue
        }
        runs.push(TikTokRuntime.view(await this.store.startSyncRun(shop.shopId, kind, phase)))
      }
    }
    this.kick()
    return { runs, note: this.engineKinds().length === 0 ? ENGINES_NOTE : 'Runs are queued and start within a few seconds.' }
  }

  /** Webhooks in the inbox by state, without their bodies (they hold buyer data): for an errors view. */
  async inbox(input?: { state?: string; shopId?: string; after?: string; limit?: number }): Promise<{ messages: InboxEntry[] }> {
    const state = input?.state ?? 'failing'
    if (!['pending', 'done', 'given_up', 'failing'].includes(state)) {
      throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'state must be pending, done, given_up or failing', { field: 'state' })
    }
    const limit = input?.limit === undefined ? 100 : Number(input.limit)
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'limit must be between 1 and 1000', { field: 'limit' })
    const rows = await this.store.listInbox({
      state: state as InboxState,
      limit,
      ...(input?.shopId ? { shopId: input.shopId } : {}),
      ...(input?.after ? { afterNotificationId: input.after } : {}),
    })
    return {
      messages: rows.map(({ payload, ...m }) => ({ ...m, bytes: payload.length })),
    }
  }

  async syncStatus(): Promise<SyncStatus> {
    const shops: SyncStatus['shops'] = []
    for (const shop of await this.store.listShops(this.config.appKey)) {
      const problem = this.settingsProblems.get(shop.shopId)
      shops.push({
        shopId: shop.shopId,
        runs: (await this.store.listSyncRuns(shop.shopId, null, 20)).map(TikTokRuntime.view),
        progress: [...this.progress.values()].filter((p) => p.shopId === shop.shopId),
        ...(problem ? { settingsProblem: problem } : {}),
      })
    }
    const kinds = this.engineKinds()
    return {
      intervalMs: this.config.syncIntervalMs,
      stockIntervalMs: this.config.stockIntervalMs,
      engines: kinds,
      note: kinds.length === 0 ? ENGINES_NOTE : '',
      inbox: { pending: await this.store.countInboxPending() },
      webhooks: { ...this.webhookStats },
      shops,
    }
  }

  // ---- scheduler and inbox worker (placeholders until the sync engines exist) ----

  /** Installs the engine for a sync kind; queued runs of that kind start on the next tick. */
  registerEngine(kind: SyncKind, engine: SyncEngine): void {
    this.engines.set(kind, engine)
    this.kick()
  }

  /**
   * Installs the consumer of the webhook inbox. Messages are claimed with a lease, handed over one by one
   * and completed when the handler resolves; a rejection is retried with backoff (up to
   * `INBOX_MAX_ATTEMPTS` attempts, then given up with the error kept). At least once: handlers must be
   * idempotent (TikTok also delivers the same notification more than once).
   */
  registerInboxHandler(handler: InboxHandler): void {
    this.inboxHandler = handler
    this.kick()
  }

  /**
   * Every `syncIntervalMs`: queue a reconciliation run per (connected shop, kind with an engine), then run.
   * Every `stockIntervalMs` (shorter): an inventory run, so a stock change in PlentyONE reaches TikTok
   * within about a minute, not a full sync interval.
   */
  private startScheduler(): void {
    const every = (ms: number, kinds?: string[]) => {
      const timer = setInterval(() => {
        this.queueReconciliation(kinds)
          .catch((e) => this.logger.error('TikTok Shop could not queue the scheduled sync', { tiktok: describe(e) }))
          .finally(() => this.kick())
      }, ms)
      timer.unref()
      this.timers.push(timer)
    }
    every(this.config.syncIntervalMs)
    if (this.config.stockIntervalMs < this.config.syncIntervalMs) every(this.config.stockIntervalMs, ['inventory'])
  }

  /**
   * Queues one run per (connected shop, kind with an engine) unless one is already waiting. A run still
   * in progress does not stop the next from being queued: it starts when the lease is free (and a run
   * left "running" by a crashed process is closed by the native runner when it takes the lease). Once a
   * day the inventory run is a full one, repairing any drift on TikTok.
   */
  async queueReconciliation(only?: string[]): Promise<SyncRunView[]> {
    const queued: SyncRunView[] = []
    const kinds = this.engineKinds().filter((k) => !only || only.includes(k))
    if (this.closed || kinds.length === 0) return queued
    for (const shop of await this.store.listShops(this.config.appKey)) {
      if (shop.status !== 'connected') continue
      for (const kind of kinds) {
        const recent = await this.store.listSyncRuns(shop.shopId, kind, 50)
        if (recent.some((r) => r.status === 'running' && isQueued(r))) continue
        let phase = 'queued'
        if (kind === 'inventory' && this.nativeKinds.has(kind)) {
          const lastFull = recent.find((r) => r.summary && (r.summary as { full?: boolean }).full === true)
          if (!lastFull || lastFull.startedAt < nowSeconds() - FULL_INVENTORY_EVERY_SECONDS) phase = 'queued:full'
        }
        queued.push(TikTokRuntime.view(await this.store.startSyncRun(shop.shopId, kind, phase)))
      }
    }
    return queued
  }

  /** Runs queued runs that have an engine and drains the inbox. Never throws; one tick at a time. */
  kick(): void {
    if (this.closed || (this.engineKinds().length === 0 && !this.inboxHandler)) return
    if (this.ticking) {
      this.kickAgain = true
      return
    }
    this.ticking = this.tick()
      .catch((e) => this.logger.error('TikTok Shop scheduler tick failed', { tiktok: describe(e) }))
      .finally(() => {
        this.ticking = undefined
        if (this.kickAgain) {
          this.kickAgain = false
          this.kick()
        }
      })
  }

  /** Resolves when the current tick (if any) and any tick it asked for are over. For tests and shutdown. */
  async idle(): Promise<void> {
    while (this.ticking) await this.ticking
  }

  private async tick(): Promise<void> {
    if (this.inboxHandler) await this.drainInbox(this.inboxHandler)
    if (this.engineKinds().length === 0) return
    for (const shop of await this.store.listShops(this.config.appKey)) {
      if (shop.status !== 'connected') continue
      // Oldest first: a waiting run is not overtaken by a newer one.
      for (const run of (await this.store.listSyncRuns(shop.shopId, null, 50)).reverse()) {
        if (run.status !== 'running' || !isQueued(run) || this.closed) continue
        if (this.nativeKinds.has(run.kind)) {
          await this.runNative(shop, run)
          continue
        }
        const engine = this.engines.get(run.kind)
        if (!engine || run.phase !== 'queued') continue
        await this.store.updateSyncRun(run.id, { phase: 'starting', done: 0, total: null, errors: 0 })
        try {
          const result = await engine({ runtime: this, shopId: shop.shopId, run, progress: (p) => this.store.updateSyncRun(run.id, p) })
          await this.store.finishSyncRun(run.id, 'succeeded', result ?? null)
        } catch (e) {
          this.logger.error('TikTok Shop sync run failed', { tiktok: { shopId: shop.shopId, kind: run.kind, runId: run.id, ...describe(e) } })
          await this.store.finishSyncRun(run.id, 'failed', { error: describe(e) })
        }
      }
    }
  }

  /**
   * A queued run of a native kind: the Rust runner takes the (shop, kind) lease, starts the run once,
   * stores its progress and summary. When another instance holds the lease the run stays queued and is
   * tried again shortly.
   */
  private async runNative(shop: ShopCredentials, run: SyncRun): Promise<void> {
    const engines = this.syncEngines
    if (!engines) return
    if (!engines.shops.includes(shop.shopId) && !this.configureShop(shop.shopId, shop.region)) {
      await this.store.finishSyncRun(run.id, 'failed', { error: { code: 'TTS_CONFIG_INVALID', message: this.settingsProblems.get(shop.shopId) } })
      return
    }
    try {
      const result = await engines.run(shop.shopId, run.kind as SyncKind, { runId: run.id })
      if (result.outcome === 'busy') {
        this.logger.debug('TikTok Shop sync run waits: another worker runs this shop and kind', { tiktok: { shopId: shop.shopId, kind: run.kind, holder: result.holder } })
        setTimeout(() => this.kick(), BUSY_RETRY_MS).unref()
      }
    } catch (e) {
      // The runner records engine failures itself; this is the store or the lease failing.
      this.logger.error('TikTok Shop sync run could not start', { tiktok: { shopId: shop.shopId, kind: run.kind, runId: run.id, ...describe(e) } })
    }
  }

  private async drainInbox(handler: InboxHandler): Promise<void> {
    const owner = `tiktok-${this.id}`
    for (;;) {
      if (this.closed) return
      const batch = await this.store.claimInbox(owner, 50, INBOX_LEASE_MS)
      if (batch.length === 0) return
      for (const message of batch) {
        let event: InboxEvent
        try {
          const body = JSON.parse(message.payload.toString('utf8')) as { type: number; tts_notification_id: string; shop_id: string; timestamp: number; data: unknown }
          event = { notificationId: body.tts_notification_id, shopId: body.shop_id, type: body.type, timestamp: body.timestamp, data: body.data }
        } catch {
          await this.store.failInbox(message.notificationId, owner, 'payload is not JSON', null)
          continue
        }
        try {
          await handler(event, message)
          await this.store.completeInbox(message.notificationId, owner)
        } catch (e) {
          const { code, message: text } = describe(e)
          const giveUp = message.attempts >= INBOX_MAX_ATTEMPTS
          const retryAfterMs = giveUp ? null : Math.min(2 ** message.attempts * 1000, 10 * 60_000)
          await this.store.failInbox(message.notificationId, owner, `${code}: ${text}`, retryAfterMs)
          this.logger[giveUp ? 'error' : 'warning'](giveUp ? 'TikTok Shop webhook given up after repeated failures' : 'TikTok Shop webhook processing failed; will retry', {
            tiktok: { notificationId: message.notificationId, shopId: message.shopId, attempts: message.attempts, code, message: text, retryAfterMs },
          })
          if (retryAfterMs !== null) setTimeout(() => this.kick(), retryAfterMs + 10).unref()
        }
      }
    }
  }

  /** Never print the configuration (it holds the app secret) when a context or config is logged. */
  [inspect.custom](): string {
    return `TikTokRuntime { appKey: ${this.config.appKey}, storage: ${this.store.backend} }`
  }

  toJSON(): Record<string, string> {
    return { appKey: this.config.appKey, storage: this.store.backend }
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const timer of this.timers) clearInterval(timer)
    await this.syncEngines?.stop()
    await this.idle()
    await this.store.close()
  }
}

// ---- handing the runtime from `init` to `extendApp` and `onCreate` ----

/** Where `init` leaves the runtime: a symbol-keyed property, copied by Alokai's object spreads. */
export const RUNTIME = Symbol.for('tiktok-shop-plentyone.runtime')

let lastInitialized: TikTokRuntime | undefined

export function rememberRuntime(runtime: TikTokRuntime): void {
  lastInitialized = runtime
}

/** The runtime for a configuration object seen by `extendApp`/`onCreate`. */
export function runtimeOf(configuration: unknown): TikTokRuntime {
  const r = configuration && typeof configuration === 'object' ? (configuration as Record<symbol, unknown>)[RUNTIME] : undefined
  if (r instanceof TikTokRuntime) return r
  if (lastInitialized) return lastInitialized
  throw new TikTokShopError('TTS_NOT_INITIALIZED', 'The TikTok Shop integration was used before its init() ran: register it in middleware.config.ts (location: "tiktok-shop-plentyone/server").')
}

// ---- admin token ----


const digest = (s: string) => createHash('sha256').update(s).digest()

/** The token a request carries: `Authorization: Bearer <token>` or `x-tiktok-admin-token`. */
export function presentedAdminToken(headers: Record<string, string | string[] | undefined>): string | undefined {
  const h = headers['x-tiktok-admin-token']
  if (typeof h === 'string' && h !== '') return h
  const auth = headers.authorization
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim())
    if (m) return m[1]
  }
  return undefined
}

/** Throws `TTS_UNAUTHORIZED` unless no admin token is configured or the request carries it (constant time). */
export function checkAdmin(runtime: TikTokRuntime, headers: Record<string, string | string[] | undefined> | undefined): void {
  const expected = runtime.config.adminToken
  if (expected === undefined) return
  const given = headers ? presentedAdminToken(headers) : undefined
  if (given === undefined || !timingSafeEqual(digest(given), digest(expected))) {
    throw new TikTokShopError('TTS_UNAUTHORIZED', 'This TikTok Shop admin call needs the admin token (TIKTOK_SHOP_ADMIN_TOKEN) as `Authorization: Bearer <token>` or an `x-tiktok-admin-token` header.')
  }
}
