// Keeping the webhook's exact bytes. Alokai's `createServer` parses every JSON body with
// `express.json(options.bodyParser)` before any route of ours runs, so the only way to see the bytes
// TikTok signed is body-parser's `verify(req, res, buf)` hook, installed where the server is created:
//
//   createServer(config, { bodyParser: { limit: '50mb', verify: tiktokRawBody } })
//
// It keeps the buffer only for the webhook path, so other JSON calls do not hold their body twice.

import type { IncomingMessage, ServerResponse } from 'node:http'

export const WEBHOOK_PATH = '/api/tiktok/webhooks'

/** Where the verify hook leaves the bytes. */
export const RAW_BODY = 'tiktokRawBody'

export type RequestWithRawBody = IncomingMessage & { [RAW_BODY]?: Buffer; originalUrl?: string }

function pathOf(req: RequestWithRawBody): string {
  const url = req.originalUrl ?? req.url ?? ''
  const q = url.indexOf('?')
  return (q === -1 ? url : url.slice(0, q)).replace(/\/+$/, '')
}

/** True when the request is for the webhook receiver. */
export function isWebhookRequest(req: RequestWithRawBody): boolean {
  return pathOf(req) === WEBHOOK_PATH
}

/**
 * body-parser `verify` hook: keeps the raw body of webhook requests on `req.tiktokRawBody`.
 * Pass it as `createServer(config, { bodyParser: { verify: tiktokRawBody } })`.
 */
export function tiktokRawBody(req: IncomingMessage, _res: ServerResponse, buf: Buffer, _encoding?: string): void {
  const r = req as RequestWithRawBody
  if (isWebhookRequest(r)) r[RAW_BODY] = buf
}

/**
 * Combines `tiktokRawBody` with a `verify` hook the server already has (both run, in order).
 */
export function withTiktokRawBody(
  other?: (req: IncomingMessage, res: ServerResponse, buf: Buffer, encoding: string) => void,
): (req: IncomingMessage, res: ServerResponse, buf: Buffer, encoding: string) => void {
  return (req, res, buf, encoding) => {
    tiktokRawBody(req, res, buf, encoding)
    if (other) other(req, res, buf, encoding)
  }
}

/** What the webhook route answers when the hook is missing: tells the operator exactly what to add. */
export const RAW_BODY_MISSING_MESSAGE =
  'The TikTok webhook body was parsed before the integration could keep its exact bytes, so its signature cannot be checked. ' +
  "Add the integration's body-parser hook where the middleware server is created: " +
  "`import { tiktokRawBody } from 'tiktok-shop-plentyone/server'` and " +
  "`createServer(config, { bodyParser: { limit: '50mb', verify: tiktokRawBody } })` (apps/server/src/index.ts in a PlentyONE shop)."
