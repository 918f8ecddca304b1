// Starts the sandbox binary as a child process and talks to its control API. Used by the tests (debug
// build, made by `npm test`), the benchmarks and the demo (release build).
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..')

export function sandboxBinary(profile = 'debug', name = 'tts-sandbox') {
  return join(repoRoot, 'target', 'x86_64-unknown-linux-gnu', profile, name)
}

/** The TikTok Shop stand-in (`tts-sandbox`); control API under `/_sandbox`. */
export function startSandbox(args = [], { profile = 'debug' } = {}) {
  return startStandIn('tts-sandbox', 'tts-sandbox', '/_sandbox', args, profile)
}

/** The PlentyONE REST stand-in (`plenty-sandbox`); control API under `/_plenty`. */
export function startPlentySandbox(args = [], { profile = 'debug' } = {}) {
  return startStandIn('plenty-sandbox', 'tts-plenty-sandbox', '/_plenty', args, profile)
}

async function startStandIn(name, pkg, controlPrefix, args, profile) {
  const binary = sandboxBinary(profile, name)
  const build = profile === 'release' ? `cargo build --release -p ${pkg}` : `cargo build -p ${pkg}`
  if (!existsSync(binary)) throw new Error(`${binary} is missing: run \`${build}\` first`)
  const child = spawn(binary, ['--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TTS_SANDBOX_LOG: 'warn' } })
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const firstLine = await new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout })
    lines.once('line', resolve)
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}): ${stderr}`)))
  })
  const info = JSON.parse(firstLine)
  async function control(method, path, body) {
    const res = await fetch(`${info.base_url}${controlPrefix}${path}`, {
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
