// Picks the store from the database URL. The native durable store (crates/store, SQLite/PostgreSQL)
// plugs in here as a driver; until its JS binding exists, `sqlite:` falls back to the in-memory store
// with a loud warning and `postgres://` refuses to start (several instances cannot share memory).

import * as addon from '../../index.js'
import type { Sealer } from '../../index.js'
import { TikTokShopError } from './errors.js'
import { MemoryStore } from './memory-store.js'
import type { TikTokStore } from './store.js'

export interface StoreDriverOptions {
  /** The key ring text (`TIKTOK_SHOP_ENCRYPTION_KEY`), for a native store that seals by itself. */
  encryptionKey: string
  /** The same key ring, opened: for stores that seal in JS. */
  sealer: Sealer
}

/** Opens a store for a URL of its scheme. */
export type StoreDriver = (url: string, options: StoreDriverOptions) => Promise<TikTokStore>

const drivers = new Map<string, StoreDriver>()

/** Registers the driver for a URL scheme (`sqlite`, `postgres`). The last registration wins. */
export function registerStoreDriver(scheme: string, driver: StoreDriver): void {
  drivers.set(scheme.toLowerCase(), driver)
}

export function schemeOf(url: string): string {
  const s = url.split(':')[0]!.toLowerCase()
  return s === 'postgresql' ? 'postgres' : s
}

/**
 * The native store's binding, if this build of the addon has one. The name it will have is not fixed
 * yet: accept `openStore(url, encryptionKey)` returning an object with the `TikTokStore` methods.
 */
function nativeDriver(): StoreDriver | undefined {
  const open = (addon as unknown as { openStore?: (url: string, key: string) => Promise<TikTokStore> }).openStore
  if (typeof open !== 'function') return undefined
  return (url, { encryptionKey }) => open(url, encryptionKey)
}

export interface OpenedStore {
  store: TikTokStore
  /** Set when the store is not what the URL asked for (fallback), for the start-up log. */
  warning?: string
}

export async function openStore(url: string, options: StoreDriverOptions): Promise<OpenedStore> {
  const scheme = schemeOf(url)
  if (scheme === 'memory') return { store: new MemoryStore(options.sealer) }
  const driver = drivers.get(scheme) ?? nativeDriver()
  if (driver) return { store: await driver(url, options) }
  if (scheme === 'sqlite') {
    return {
      store: new MemoryStore(options.sealer),
      warning:
        'TIKTOK_SHOP_DATABASE_URL asks for SQLite, but this build has no durable store binding yet: using the in-memory store. ' +
        'Connected shops and the webhook inbox are lost on restart (TikTok re-delivers unacknowledged webhooks, acknowledged ones are not re-sent). ' +
        'Set TIKTOK_SHOP_DATABASE_URL=memory: to silence this warning.',
    }
  }
  throw new TikTokShopError(
    'TTS_CONFIG_INVALID',
    `TIKTOK_SHOP_DATABASE_URL: the ${scheme} store needs the native durable store binding, which this build does not have; use sqlite: (one instance) or memory: for now`,
    { statusCode: 500 },
  )
}
