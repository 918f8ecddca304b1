// Shared test helpers: the shared spec vectors beside the repository, and a loopback HTTP server.
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..')
const specDir = join(repoRoot, '..', 'shared', 'spec')

export function vectors(name) {
  return JSON.parse(readFileSync(join(specDir, name), 'utf8')).vectors
}

/** Starts a loopback server; `handler(req, body, res)`. Returns { url, requests, close }. */
export async function startServer(handler) {
  const requests = []
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks)
      requests.push({ method: req.method, url: new URL(req.url, 'http://x'), headers: req.headers, body })
      handler(req, body, res)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        // the addon's keep-alive pool would otherwise hold the server open for minutes
        server.closeAllConnections()
        server.close(resolve)
      }),
  }
}

export function json(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(value))
}
