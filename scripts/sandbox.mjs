// Starts the sandbox binary (built by `cargo build --workspace --bins`, which `npm test` runs first)
// as a child process and talks to its control API.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

import { repoRoot } from './helpers.mjs'

const binary = join(repoRoot, 'target', 'x86_64-unknown-linux-gnu', 'debug', 'tts-sandbox')

export async function startSandbox(args = []) {
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`cargo build -p tts-sandbox\` first`)
  const child = spawn(binary, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TTS_SANDBOX_LOG: 'warn' } })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const firstLine = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`sandbox exited (${code}): ${stderr}`)))
  })
  const info = JSON.parse(firstLine)
  async function control(method, path, body) {
    const res = await fetch(`${info.base_url}/_sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const value = await res.json()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(value)}`)
    return value
  }
  return {
    info,
    control,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve()
        child.once('exit', resolve)
        child.kill('SIGTERM')
      }),
  }
}

/** Sum of a counter over the endpoints whose name contains `needle`. */
export function countFor(counters, needle, field = 'total') {
  return Object.entries(counters.endpoints)
    .filter(([name]) => name.includes(needle))
    .reduce((sum, [, c]) => sum + c[field], 0)
}
