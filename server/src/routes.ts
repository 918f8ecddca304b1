// Routes added to Alokai's Express app through `extendApp` (they run after express.json, cookie-parser
// and cors, before Alokai's generic `/:integration/:fn` route). Express 4 does not catch rejected
// promises, so every async handler catches its own errors, logs them through Alokai's logger (codes and
// ids only, never secrets or request bodies) and answers `{ code, message }` with the mapped status.

import type { Express, NextFunction, Request, Response } from 'express'

import { describe, errorBody, errorCode, httpStatusFor, sendError, TikTokShopError } from './errors.js'
import { RAW_BODY, RAW_BODY_MISSING_MESSAGE, WEBHOOK_PATH, type RequestWithRawBody } from './raw-body.js'
import { checkAdmin, type Logger, type MappingQueryInput, type TikTokRuntime } from './runtime.js'

export const ROUTES = {
  auth: '/api/tiktok/auth',
  callback: '/api/tiktok/callback',
  webhooks: WEBHOOK_PATH,
  connection: '/api/tiktok/connection',
  products: '/api/tiktok/products',
  productErrors: '/api/tiktok/products/errors',
  orders: '/api/tiktok/orders',
  orderErrors: '/api/tiktok/orders/errors',
  inbox: '/api/tiktok/inbox',
  syncStatus: '/api/tiktok/sync/status',
  syncTrigger: '/api/tiktok/sync/trigger',
} as const

/** Webhook bodies are a few kB: anything over this is refused with 413, never verified or stored. */
const MAX_WEBHOOK_BYTES = 1024 * 1024

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><meta charset="utf-8"><title>${escapeHtml(title)}</title><body style="font-family:sans-serif;max-width:40rem;margin:3rem auto"><h1>${escapeHtml(title)}</h1>${body}</body></html>`
}

function wantsHtml(req: Request): boolean {
  return req.accepts(['json', 'html']) === 'html'
}

function readBody(req: Request, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (c: Buffer) => {
      size += c.length
      if (size > limit) {
        reject(Object.assign(new Error('webhook body too large'), { code: 'TTS_INVALID_ARGUMENT' }))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function first(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0]
  return undefined
}

function mappingQuery(req: Request, forceErrors: boolean): MappingQueryInput {
  const q: MappingQueryInput = {}
  const shopId = first(req.query.shopId)
  const status = first(req.query.status)
  const after = first(req.query.after)
  const limit = first(req.query.limit)
  if (shopId) q.shopId = shopId
  if (forceErrors) q.status = 'error'
  else if (status) q.status = status as MappingQueryInput['status']
  if (after) q.after = after
  if (limit) q.limit = Number(limit)
  return q
}

export function registerRoutes(app: Express, runtime: TikTokRuntime, logger: Logger): void {
  /** Wraps an async handler: errors are logged (code + message) and answered as `{ code, message }`. */
  const handle =
    (name: string, fn: (req: Request, res: Response) => Promise<void>, options: { admin?: boolean } = {}) =>
    (req: Request, res: Response): void => {
      const run = async () => {
        if (options.admin) checkAdmin(runtime, req.headers)
        await fn(req, res)
      }
      run().catch((e: unknown) => {
        const status = httpStatusFor(errorCode(e))
        const info = { tiktok: { route: name, status, ...describe(e) } }
        if (status >= 500) logger.error(`TikTok Shop ${name} failed`, info)
        else logger.warning(`TikTok Shop ${name} refused`, info)
        sendError(res, e)
      })
    }

  // ---- OAuth ----

  app.get(
    ROUTES.auth,
    handle('auth', async (_req, res) => {
      const { url } = await runtime.authorizationUrl()
      res.set('Cache-Control', 'no-store').redirect(302, url)
    }, { admin: true }),
  )

  app.get(
    ROUTES.callback,
    handle('callback', async (req, res) => {
      res.set('Cache-Control', 'no-store')
      try {
        const result = await runtime.completeAuthorization(req.query as Record<string, unknown>)
        if (wantsHtml(req)) {
          const list = result.shops.map((s) => `<li>${escapeHtml(s.name ?? s.shopId)} (${escapeHtml(s.region)}, shop id ${escapeHtml(s.shopId)})</li>`).join('')
          res.status(200).type('html').send(page('TikTok Shop connected', `<p>Connected for ${escapeHtml(result.sellerName || 'the seller')}:</p><ul>${list}</ul><p>You can close this window.</p>`))
        } else {
          res.status(200).json({ connected: true, sellerName: result.sellerName, shops: result.shops })
        }
      } catch (e) {
        if (!wantsHtml(req)) throw e
        const status = httpStatusFor(errorCode(e))
        logger.warning('TikTok Shop callback refused', { tiktok: { route: 'callback', status, ...describe(e) } })
        const { code, message } = errorBody(e)
        res
          .status(status)
          .type('html')
          .send(page('TikTok Shop not connected', `<p>${escapeHtml(message)}</p><p><code>${escapeHtml(code)}</code></p><p><a href="${ROUTES.auth}">Connect again</a></p>`))
      }
    }),
  )

  // ---- webhooks ----

  app.post(
    ROUTES.webhooks,
    handle('webhooks', async (req, res) => {
      const r = req as Request & RequestWithRawBody & { _body?: boolean }
      if (!runtime.config.enableWebhooks) {
        res.status(404).json({ code: 'TTS_WEBHOOKS_DISABLED', message: 'Webhooks are switched off (TIKTOK_SHOP_ENABLE_WEBHOOKS=false).' })
        return
      }
      let raw = r[RAW_BODY]
      if (!raw) {
        if (r._body) {
          // express.json already consumed the stream and our verify hook is not installed.
          logger.error(RAW_BODY_MISSING_MESSAGE, { tiktok: { route: 'webhooks', code: 'TTS_RAW_BODY_MISSING' } })
          res.status(500).json({ code: 'TTS_RAW_BODY_MISSING', message: RAW_BODY_MISSING_MESSAGE })
          return
        }
        // Not JSON-typed (or empty): the stream is still ours to read.
        raw = await readBody(req, MAX_WEBHOOK_BYTES)
      }
      if (raw.length > MAX_WEBHOOK_BYTES) {
        // Whatever the app's body limit, a notification is a few kB: refuse before verifying or storing.
        runtime.integration.countRejectedWebhook()
        logger.warning('TikTok Shop webhook body over the size limit refused', { tiktok: { route: 'webhooks', bytes: raw.length, limit: MAX_WEBHOOK_BYTES } })
        res.status(413).end()
        return
      }
      try {
        const { inserted, notification } = await runtime.receiveWebhook(raw, req.get('authorization'))
        res.status(200).end()
        logger.debug('TikTok Shop webhook stored', {
          tiktok: { notificationId: notification.notificationId, shopId: notification.shopId, eventType: notification.eventType, duplicate: !inserted },
        })
      } catch (e) {
        const code = errorCode(e)
        if (code === 'TTS_SIGNATURE_INVALID') {
          logger.warning('TikTok Shop webhook with an invalid signature refused', { tiktok: { route: 'webhooks', code, bytes: raw.length } })
          res.status(401).end()
          return
        }
        if (code === 'TTS_WEBHOOK_PAYLOAD_INVALID' || code === 'TTS_WEBHOOK_RAW_BODY_REQUIRED') {
          logger.warning('TikTok Shop webhook verified but not a notification', { tiktok: { route: 'webhooks', ...describe(e) } })
          res.status(400).end()
          return
        }
        throw e // store failures: 500, TikTok delivers again later, nothing is lost
      }
    }),
  )

  // A signed body that is not JSON makes express.json fail before our route: answer like the route would.
  app.use(ROUTES.webhooks, (err: unknown, req: Request, res: Response, next: NextFunction) => {
    const raw = (req as RequestWithRawBody)[RAW_BODY]
    const type = (err as { type?: string } | null)?.type
    if (type === 'entity.too.large') {
      runtime.integration.countRejectedWebhook()
      res.status(413).end()
      return
    }
    if (type !== 'entity.parse.failed' || !raw) return next(err)
    // The control plane verifies it (and counts it): a forged body is 401, a signed non-JSON one 400.
    runtime.receiveWebhook(raw, req.get('authorization')).then(
      () => res.status(200).end(), // stored after all (lenient JSON): acknowledge it
      (e: unknown) => {
        const signatureValid = errorCode(e) !== 'TTS_SIGNATURE_INVALID'
        logger.warning('TikTok Shop webhook body is not JSON', { tiktok: { route: 'webhooks', signatureValid } })
        res.status(signatureValid ? 400 : 401).end()
      },
    )
  })

  // ---- admin views ----

  app.get(
    ROUTES.connection,
    handle('connection', async (_req, res) => {
      res.json(await runtime.connection())
    }, { admin: true }),
  )
  app.get(
    ROUTES.products,
    handle('products', async (req, res) => {
      res.json(await runtime.productMappings(mappingQuery(req, false)))
    }, { admin: true }),
  )
  app.get(
    ROUTES.productErrors,
    handle('products/errors', async (req, res) => {
      res.json(await runtime.productMappings(mappingQuery(req, true)))
    }, { admin: true }),
  )
  app.get(
    ROUTES.orders,
    handle('orders', async (req, res) => {
      res.json(await runtime.orderMappings(mappingQuery(req, false)))
    }, { admin: true }),
  )
  app.get(
    ROUTES.orderErrors,
    handle('orders/errors', async (req, res) => {
      res.json(await runtime.orderMappings(mappingQuery(req, true)))
    }, { admin: true }),
  )
  app.get(
    ROUTES.inbox,
    handle('inbox', async (req, res) => {
      const state = first(req.query.state)
      const shopId = first(req.query.shopId)
      const after = first(req.query.after)
      const limit = first(req.query.limit)
      res.json(await runtime.inbox({ ...(state ? { state } : {}), ...(shopId ? { shopId } : {}), ...(after ? { after } : {}), ...(limit ? { limit: Number(limit) } : {}) }))
    }, { admin: true }),
  )
  app.get(
    ROUTES.syncStatus,
    handle('sync/status', async (_req, res) => {
      res.json(await runtime.syncStatus())
    }, { admin: true }),
  )
  app.post(
    ROUTES.syncTrigger,
    handle('sync/trigger', async (req, res) => {
      const body = (req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {}) as Record<string, unknown>
      const shopId = first(body.shopId) ?? first(req.query.shopId)
      const kind = first(body.kind) ?? first(req.query.kind)
      const fullRaw = body.full ?? first(req.query.full)
      if (fullRaw !== undefined && ![true, false, 'true', 'false'].includes(fullRaw as never)) {
        throw new TikTokShopError('TTS_INVALID_ARGUMENT', 'full must be true or false (a full inventory pass sends every mapped SKU)', { field: 'full' })
      }
      const full = fullRaw === true || fullRaw === 'true'
      res.status(202).json(await runtime.triggerSync({ ...(shopId ? { shopId } : {}), ...(kind ? { kind } : {}), ...(full ? { full } : {}) }))
    }, { admin: true }),
  )
}
