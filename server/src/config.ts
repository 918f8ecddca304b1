// Configuration: the integration's `configuration` object in middleware.config.ts, with the
// `TIKTOK_SHOP_*` / `PLENTY_REST_*` environment variables as defaults. `resolveConfig` is pure: it
// reads only its two arguments, collects every problem and throws one error listing them all.

import { Sealer } from '../../index.js'
import { TikTokShopError } from './errors.js'
import type { TikTokStore } from './store.js'

export type Region = 'US' | 'ROW'

/** What may be set in `configuration` (every key optional: the environment variable is the default). */
export interface TikTokIntegrationConfig {
  /** `TIKTOK_SHOP_APP_KEY` */
  appKey?: string
  /** `TIKTOK_SHOP_APP_SECRET` */
  appSecret?: string
  /** `TIKTOK_SHOP_SERVICE_ID` (the app's service id, used in the authorize URL; not the app key) */
  serviceId?: string
  /** `TIKTOK_SHOP_REGION`: `US` or `ROW` (default `US`) */
  region?: string
  /** `TIKTOK_SHOP_REDIRECT_URI`: the callback registered in Partner Center, `https://…/api/tiktok/callback` */
  redirectUri?: string
  /** `TIKTOK_SHOP_SYNC_INTERVAL`: milliseconds between scheduled reconciliations (default 300000) */
  syncInterval?: number | string
  /** `TIKTOK_SHOP_STOCK_INTERVAL`: milliseconds between inventory passes sending changed stock and prices (default 60000) */
  stockInterval?: number | string
  /** `TIKTOK_SHOP_ENABLE_WEBHOOKS` (default true) */
  enableWebhooks?: boolean | string
  /** `TIKTOK_SHOP_WEBHOOK_SECRET`: optional second secret webhooks may be signed with */
  webhookSecret?: string
  /** `TIKTOK_SHOP_DATABASE_URL` (default `sqlite://./data/tiktok-shop.db`; `memory:` for the in-process store) */
  databaseUrl?: string
  /** `TIKTOK_SHOP_ENCRYPTION_KEY`: key ring for tokens at rest */
  encryptionKey?: string
  /** `TIKTOK_SHOP_API_BASE` */
  apiBase?: string
  /** `TIKTOK_SHOP_AUTH_BASE` */
  authBase?: string
  /** `TIKTOK_SHOP_AUTHORIZE_BASE` */
  authorizeBase?: string
  /** `PLENTY_REST_URL`, `PLENTY_REST_USERNAME`, `PLENTY_REST_PASSWORD` */
  plenty?: { restUrl?: string; username?: string; password?: string; plentyId?: number | string }
  /**
   * `TIKTOK_SHOP_ADMIN_TOKEN`: the admin routes (connect, connection, mappings, sync) and every SDK method
   * require it (`Authorization: Bearer <token>` or `x-tiktok-admin-token`). At least 24 characters. Without
   * it they are closed (403 `TTS_ADMIN_TOKEN_NOT_SET`) unless `insecureOpenAdmin` opens them.
   */
  adminToken?: string
  /**
   * `TIKTOK_SHOP_INSECURE_OPEN_ADMIN`: `true` opens the admin routes and SDK methods to anyone who reaches the
   * middleware, for local development only. Logged loudly at start; refused with NODE_ENV=production or
   * together with an admin token.
   */
  insecureOpenAdmin?: boolean | string
  /** Lifetime of an OAuth state in seconds (default 600). */
  stateTtlSeconds?: number
  /** A store to use instead of opening one from `databaseUrl` (tests, custom backends). */
  store?: TikTokStore
  /**
   * `TIKTOK_SHOP_SYNC_SETTINGS` (JSON): what the sync engines do per shop, snake_case as the Rust configs.
   * `defaults` apply to every shop, `shops[shopId]` overlays them section by section. Sections: `orders`
   * (PlentyONE order mapping; `plenty_id` defaults to PLENTY_ID), `products` (category and warehouse
   * mapping, buffer, languages, sales price), `max_creates_per_day`, `tracking` (carrier map), `aftersales`
   * (cancellation and return rules). `timings` sets the passes' windows (camelCase, see `SyncTimings`).
   */
  sync?: SyncSettingsInput | string
  /** Options passed to the addon's `TikTokShopClient` (rate, retries, timeouts). */
  client?: { ratePerSecond?: number; burst?: number; maxAttempts?: number; retryBaseDelayMs?: number; requestTimeoutMs?: number }
  [key: string]: unknown
}

export interface ResolvedConfig {
  appKey: string
  appSecret: string
  serviceId: string
  region: Region
  redirectUri: string
  syncIntervalMs: number
  /** How often changed stock and prices are sent (a cheap pass: only what changed since the last one). */
  stockIntervalMs: number
  enableWebhooks: boolean
  webhookSecret?: string
  databaseUrl: string
  /** Absent only for `memory:` (then an ephemeral key is generated at start). */
  encryptionKey?: string
  apiBase?: string
  authBase?: string
  authorizeBase?: string
  /** `plentyId` (the PlentyONE client orders are created in) is needed for the order import. */
  plenty?: { restUrl: string; username: string; password: string; plentyId?: number }
  adminToken?: string
  /** How the admin routes are guarded: by the token, closed (no token configured) or deliberately open. */
  adminAccess: AdminAccess
  stateTtlSeconds: number
  client: NonNullable<TikTokIntegrationConfig['client']>
  sync: ResolvedSyncSettings
}

/** `token`: the admin token is required; `closed`: no token is configured, so every admin call is refused; `open`: the insecure opt-out. */
export type AdminAccess = 'token' | 'closed' | 'open'

/** One shop's engine settings (each section optional; see `configuration.sync`). */
export interface ShopEngineSettings {
  orders?: Record<string, unknown>
  products?: Record<string, unknown>
  max_creates_per_day?: number
  tracking?: Record<string, unknown>
  aftersales?: Record<string, unknown>
}

export interface SyncSettingsInput {
  defaults?: ShopEngineSettings
  shops?: Record<string, ShopEngineSettings>
  timings?: { firstRunLookbackSeconds?: number; orderWindowSeconds?: number; overlapSeconds?: number; heartbeatMs?: number; leaseTtlSeconds?: number }
}

export interface ResolvedSyncSettings {
  defaults: ShopEngineSettings
  shops: Record<string, ShopEngineSettings>
  timings?: NonNullable<SyncSettingsInput['timings']>
}

/** The sections of a shop's sync settings (`configuration.sync.defaults` / `.shops[shopId]`). */
export const SHOP_SETTINGS_KEYS = ['orders', 'products', 'max_creates_per_day', 'tracking', 'aftersales'] as const
const SECTION_KEYS: readonly string[] = SHOP_SETTINGS_KEYS
const TIMING_KEYS = ['firstRunLookbackSeconds', 'orderWindowSeconds', 'overlapSeconds', 'heartbeatMs', 'leaseTtlSeconds']
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Checks the shape of the sync settings; the engines check each section's fields when a shop is set. */
export function resolveSyncSettings(raw: unknown, where: string, problems: string[]): ResolvedSyncSettings {
  const out: ResolvedSyncSettings = { defaults: {}, shops: {} }
  let value = raw
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch (e) {
      problems.push(`${where} is not valid JSON: ${(e as Error).message}`)
      return out
    }
  }
  if (value === undefined || value === null) return out
  if (!isObject(value)) {
    problems.push(`${where} must be an object { defaults?, shops?, timings? }`)
    return out
  }
  const section = (v: unknown, path: string): ShopEngineSettings => {
    if (!isObject(v)) {
      problems.push(`${path} must be an object with any of ${SECTION_KEYS.join(', ')}`)
      return {}
    }
    for (const [k, x] of Object.entries(v)) {
      if (!SECTION_KEYS.includes(k)) problems.push(`${path}.${k} is not a sync setting (use ${SECTION_KEYS.join(', ')})`)
      else if (k === 'max_creates_per_day') {
        if (!Number.isInteger(x) || (x as number) < 1) problems.push(`${path}.max_creates_per_day must be a positive whole number`)
      } else if (!isObject(x)) problems.push(`${path}.${k} must be an object`)
    }
    return v as ShopEngineSettings
  }
  for (const k of Object.keys(value)) {
    if (!['defaults', 'shops', 'timings'].includes(k)) problems.push(`${where}.${k} is not known (use defaults, shops, timings)`)
  }
  if (value.defaults !== undefined) out.defaults = section(value.defaults, `${where}.defaults`)
  if (value.shops !== undefined) {
    if (!isObject(value.shops)) problems.push(`${where}.shops must map shop ids to settings`)
    else for (const [id, v] of Object.entries(value.shops)) out.shops[id] = section(v, `${where}.shops.${id}`)
  }
  if (value.timings !== undefined) {
    if (!isObject(value.timings)) problems.push(`${where}.timings must be an object`)
    else {
      for (const [k, x] of Object.entries(value.timings)) {
        if (!TIMING_KEYS.includes(k)) problems.push(`${where}.timings.${k} is not known (use ${TIMING_KEYS.join(', ')})`)
        else if (!Number.isInteger(x) || (x as number) < 0) problems.push(`${where}.timings.${k} must be a whole number ≥ 0`)
      }
      out.timings = value.timings as ResolvedSyncSettings['timings']
    }
  }
  return out
}

export const DEFAULT_DATABASE_URL = 'sqlite://./data/tiktok-shop.db'
export const DEFAULT_SYNC_INTERVAL_MS = 300_000
export const DEFAULT_STOCK_INTERVAL_MS = 60_000

type Env = Record<string, string | undefined>

/** Resolves and validates; throws `TikTokShopError` `TTS_CONFIG_INVALID` listing every problem. */
export function resolveConfig(configuration: TikTokIntegrationConfig = {}, env: Env = {}): ResolvedConfig {
  const problems: string[] = []
  const cfg = configuration ?? {}

  // A value from `configuration` (if not undefined/empty) or else the environment variable.
  function pick(key: string, envName: string): { value: unknown; from: string } {
    const v = (cfg as Record<string, unknown>)[key]
    if (v !== undefined && v !== null && v !== '') return { value: v, from: `configuration.${key}` }
    const e = env[envName]
    return { value: e === undefined || e.trim() === '' ? undefined : e.trim(), from: envName }
  }
  const label = (key: string, envName: string) => `${envName} (configuration.${key})`

  function str(key: string, envName: string, required: boolean): string | undefined {
    const { value } = pick(key, envName)
    if (value === undefined) {
      if (required) problems.push(`${label(key, envName)} is required`)
      return undefined
    }
    if (typeof value !== 'string') {
      problems.push(`${label(key, envName)} must be a string, got ${typeof value}`)
      return undefined
    }
    return value
  }

  function url(key: string, envName: string, value: string | undefined): string | undefined {
    if (value === undefined) return undefined
    let parsed: URL
    try {
      parsed = new URL(value)
    } catch {
      problems.push(`${label(key, envName)} must be an absolute http(s) URL, got ${JSON.stringify(value)}`)
      return undefined
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      problems.push(`${label(key, envName)} must be an http(s) URL, got protocol ${parsed.protocol}`)
      return undefined
    }
    return value.replace(/\/+$/, '')
  }

  const appKey = str('appKey', 'TIKTOK_SHOP_APP_KEY', true)
  const appSecret = str('appSecret', 'TIKTOK_SHOP_APP_SECRET', true)
  const serviceId = str('serviceId', 'TIKTOK_SHOP_SERVICE_ID', true)

  const regionRaw = str('region', 'TIKTOK_SHOP_REGION', false) ?? 'US'
  let region: Region = 'US'
  if (/^us$/i.test(regionRaw)) region = 'US'
  else if (/^row$/i.test(regionRaw)) region = 'ROW'
  else problems.push(`${label('region', 'TIKTOK_SHOP_REGION')} must be US or ROW, got ${JSON.stringify(regionRaw)}`)

  const redirectUri = url('redirectUri', 'TIKTOK_SHOP_REDIRECT_URI', str('redirectUri', 'TIKTOK_SHOP_REDIRECT_URI', true))

  const interval = (key: string, envName: string, fallback: number, example: string) => {
    const { value } = pick(key, envName)
    if (value === undefined) return fallback
    const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : NaN
    if (!Number.isSafeInteger(n) || n < 1000) {
      problems.push(`${label(key, envName)} must be a whole number of milliseconds ≥ 1000 (${example}), got ${JSON.stringify(value)}`)
      return fallback
    }
    return n
  }
  const syncIntervalMs = interval('syncInterval', 'TIKTOK_SHOP_SYNC_INTERVAL', DEFAULT_SYNC_INTERVAL_MS, 'e.g. 300000 for 5 minutes')
  const stockIntervalMs = interval('stockInterval', 'TIKTOK_SHOP_STOCK_INTERVAL', DEFAULT_STOCK_INTERVAL_MS, 'e.g. 60000 for a minute')

  /** A true/false setting (a boolean in configuration, true/false/1/0/yes/no/on/off in the environment). */
  function flag(key: string, envName: string, fallback: boolean): boolean {
    const { value } = pick(key, envName)
    if (value === undefined) return fallback
    if (typeof value === 'boolean') return value
    if (typeof value === 'string' && /^(true|1|yes|on)$/i.test(value)) return true
    if (typeof value === 'string' && /^(false|0|no|off)$/i.test(value)) return false
    problems.push(`${label(key, envName)} must be true or false, got ${JSON.stringify(value)}`)
    return fallback
  }
  const enableWebhooks = flag('enableWebhooks', 'TIKTOK_SHOP_ENABLE_WEBHOOKS', true)

  const webhookSecret = str('webhookSecret', 'TIKTOK_SHOP_WEBHOOK_SECRET', false)

  const databaseUrl = str('databaseUrl', 'TIKTOK_SHOP_DATABASE_URL', false) ?? DEFAULT_DATABASE_URL
  const isMemory = /^memory:/i.test(databaseUrl)
  if (!isMemory && !/^(sqlite:|postgres:\/\/|postgresql:\/\/)/i.test(databaseUrl)) {
    problems.push(
      `${label('databaseUrl', 'TIKTOK_SHOP_DATABASE_URL')} must start with sqlite:, postgres:// or memory: (got a value starting with ${JSON.stringify(databaseUrl.split(':')[0])})`,
    )
  }

  const encryptionKey = str('encryptionKey', 'TIKTOK_SHOP_ENCRYPTION_KEY', !isMemory)
  if (encryptionKey !== undefined) {
    try {
      new Sealer(encryptionKey)
    } catch {
      // The addon's message is safe, but say it in our words and never echo the value.
      problems.push(
        `${label('encryptionKey', 'TIKTOK_SHOP_ENCRYPTION_KEY')} is not a valid key ring: expected [id:]key[,[id:]key…], each key 32 random bytes in base64 (generate one with \`node -p "require('tiktok-shop-plentyone').generateEncryptionKey()"\`)`,
      )
    }
  } else if (!isMemory) {
    // reported above as required
  }

  const apiBase = url('apiBase', 'TIKTOK_SHOP_API_BASE', str('apiBase', 'TIKTOK_SHOP_API_BASE', false))
  const authBase = url('authBase', 'TIKTOK_SHOP_AUTH_BASE', str('authBase', 'TIKTOK_SHOP_AUTH_BASE', false))
  const authorizeBase = url('authorizeBase', 'TIKTOK_SHOP_AUTHORIZE_BASE', str('authorizeBase', 'TIKTOK_SHOP_AUTHORIZE_BASE', false))

  // PlentyONE REST: checked only when any of it is set (the sync engines that need it come later).
  let plenty: ResolvedConfig['plenty']
  {
    const p = (typeof cfg.plenty === 'object' && cfg.plenty !== null ? cfg.plenty : {}) as Record<string, unknown>
    const get = (key: string, envName: string) => {
      const v = p[key]
      if (v !== undefined && v !== null && v !== '') return v
      const e = env[envName]
      return e === undefined || e.trim() === '' ? undefined : e.trim()
    }
    const fields = [
      ['restUrl', 'PLENTY_REST_URL'],
      ['username', 'PLENTY_REST_USERNAME'],
      ['password', 'PLENTY_REST_PASSWORD'],
    ] as const
    const values = fields.map(([k, e]) => get(k, e))
    if (values.some((v) => v !== undefined)) {
      const out: Record<string, string> = {}
      fields.forEach(([k, e], i) => {
        const v = values[i]
        if (v === undefined) problems.push(`${e} (configuration.plenty.${k}) is required when PlentyONE REST access is configured`)
        else if (typeof v !== 'string') problems.push(`${e} (configuration.plenty.${k}) must be a string`)
        else out[k] = v
      })
      if (typeof out.restUrl === 'string') {
        try {
          const u = new URL(out.restUrl)
          if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('protocol')
          out.restUrl = out.restUrl.replace(/\/+$/, '')
        } catch {
          problems.push(`PLENTY_REST_URL (configuration.plenty.restUrl) must be an absolute http(s) URL such as https://example.plentymarkets-cloud01.com`)
        }
      }
      const rawPlentyId = get('plentyId', 'PLENTY_ID')
      let plentyId: number | undefined
      if (rawPlentyId !== undefined) {
        plentyId = Number(rawPlentyId)
        if (!Number.isInteger(plentyId) || plentyId <= 0) {
          problems.push('PLENTY_ID (configuration.plenty.plentyId) must be the positive id of the PlentyONE client orders are created in')
          plentyId = undefined
        }
      }
      if (out.restUrl && out.username && out.password) {
        plenty = { restUrl: out.restUrl, username: out.username, password: out.password, ...(plentyId !== undefined ? { plentyId } : {}) }
      }
    }
  }

  const adminToken = str('adminToken', 'TIKTOK_SHOP_ADMIN_TOKEN', false)
  if (adminToken !== undefined && adminToken.length < 24) {
    problems.push(`${label('adminToken', 'TIKTOK_SHOP_ADMIN_TOKEN')} must be at least 24 characters (e.g. \`openssl rand -base64 32\`)`)
  }
  // Open admin routes would let anyone who reaches the middleware read orders, start runs, connect their own
  // TikTok shop to this PlentyONE system or disconnect the merchant's: they are closed unless a token is set,
  // and opening them is a deliberate, development-only choice.
  const insecureOpenAdmin = flag('insecureOpenAdmin', 'TIKTOK_SHOP_INSECURE_OPEN_ADMIN', false)
  if (insecureOpenAdmin && adminToken !== undefined) {
    problems.push(`${label('insecureOpenAdmin', 'TIKTOK_SHOP_INSECURE_OPEN_ADMIN')} and ${label('adminToken', 'TIKTOK_SHOP_ADMIN_TOKEN')} are both set: keep the token and remove the opt-out`)
  }
  if (insecureOpenAdmin && env.NODE_ENV === 'production') {
    problems.push(`${label('insecureOpenAdmin', 'TIKTOK_SHOP_INSECURE_OPEN_ADMIN')} is refused when NODE_ENV=production: set TIKTOK_SHOP_ADMIN_TOKEN instead (generate one with \`openssl rand -base64 32\`)`)
  }
  if (adminToken === undefined && !insecureOpenAdmin && env.NODE_ENV === 'production') {
    problems.push(`${label('adminToken', 'TIKTOK_SHOP_ADMIN_TOKEN')} is required when NODE_ENV=production: it protects the admin routes and SDK methods (generate one with \`openssl rand -base64 32\`)`)
  }
  const adminAccess: AdminAccess = adminToken !== undefined ? 'token' : insecureOpenAdmin ? 'open' : 'closed'

  let stateTtlSeconds = 600
  if (cfg.stateTtlSeconds !== undefined) {
    const n = cfg.stateTtlSeconds
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 30 || n > 3600) {
      problems.push(`configuration.stateTtlSeconds must be a whole number of seconds between 30 and 3600`)
    } else stateTtlSeconds = n
  }

  const client = typeof cfg.client === 'object' && cfg.client !== null ? { ...cfg.client } : {}

  const sync =
    cfg.sync !== undefined
      ? resolveSyncSettings(cfg.sync, 'configuration.sync', problems)
      : resolveSyncSettings(env.TIKTOK_SHOP_SYNC_SETTINGS?.trim() || undefined, 'TIKTOK_SHOP_SYNC_SETTINGS', problems)

  if (problems.length > 0) {
    throw new TikTokShopError(
      'TTS_CONFIG_INVALID',
      `TikTok Shop integration: ${problems.length} configuration problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  - ${p}`).join('\n'),
      { problems, statusCode: 500 },
    )
  }

  return {
    appKey: appKey!,
    appSecret: appSecret!,
    serviceId: serviceId!,
    region,
    redirectUri: redirectUri!,
    syncIntervalMs,
    stockIntervalMs,
    enableWebhooks,
    ...(webhookSecret !== undefined ? { webhookSecret } : {}),
    databaseUrl,
    ...(encryptionKey !== undefined ? { encryptionKey } : {}),
    ...(apiBase !== undefined ? { apiBase } : {}),
    ...(authBase !== undefined ? { authBase } : {}),
    ...(authorizeBase !== undefined ? { authorizeBase } : {}),
    ...(plenty !== undefined ? { plenty } : {}),
    ...(adminToken !== undefined ? { adminToken } : {}),
    adminAccess,
    stateTtlSeconds,
    client,
    sync,
  }
}

/** The configuration without secrets, for logs and `getConnection()`. */
export function publicConfig(c: ResolvedConfig) {
  return {
    appKey: c.appKey,
    serviceId: c.serviceId,
    region: c.region,
    redirectUri: c.redirectUri,
    syncIntervalMs: c.syncIntervalMs,
    stockIntervalMs: c.stockIntervalMs,
    enableWebhooks: c.enableWebhooks,
    database: c.databaseUrl.split(':')[0],
    plentyConfigured: c.plenty !== undefined,
    adminTokenRequired: c.adminAccess !== 'open',
    adminAccess: c.adminAccess,
  }
}
