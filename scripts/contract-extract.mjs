#!/usr/bin/env node
// Refreshes crates/tiktok/contract/<area>.json from a checkout of TikTok's official Node SDK
// (OpenAPI-generated: api/<group>V<version>Api.ts, model/<group>/V<version>/*.ts).
//
//   node scripts/contract-extract.mjs <sdk-dir> <sdk-repo> <sdk-commit>
//
// It reads facts only (path, method, query parameter names and whether the SDK requires them, body
// and response field names with their JSON types) for every operation of the table
// (`crates/tiktok/src/operations.rs`, read as text) and writes them as data; no SDK code is copied.
// Decisions of ours (tolerant reads, fields the SDK lacks, required response ids) live in
// crates/tiktok/contract/overrides.json and are merged in, each with its reason.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const [sdk, sdkRepo, sdkCommit] = process.argv.slice(2)
if (!sdk || !sdkRepo || !sdkCommit) {
  console.error('usage: contract-extract.mjs <sdk-dir> <sdk-repo> <sdk-commit>')
  process.exit(2)
}
const root = new URL('..', import.meta.url).pathname
const contractDir = join(root, 'crates/tiktok/contract')

// ---- our operation table ----
const table = [
  ...readFileSync(join(root, 'crates/tiktok/src/operations.rs'), 'utf8').matchAll(
    /op\("([a-z_]+\.[a-z_]+)", (Get|Post|Put|Delete), "([^"]+)"/g,
  ),
].map(([, id, method, path]) => ({ id, method: method.toUpperCase(), path }))

// ---- SDK models: class name -> [{baseName, type}] ----
const models = new Map()
const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
for (const file of walk(join(sdk, 'model'))) {
  const text = readFileSync(file, 'utf8')
  const cls = text.match(/export class (\w+)/)
  if (!cls) continue
  const map = text.match(/attributeTypeMap[^=]*=\s*\[([\s\S]*?)\];/)
  const attrs = map
    ? [...map[1].matchAll(/"baseName": "([^"]+)",\s*"type": "([^"]+)"/g)].map(([, baseName, type]) => ({ baseName, type }))
    : []
  models.set(cls[1], { file: file.slice(sdk.length + 1), attrs })
}

function schema(type, depth = 0) {
  const list = type.match(/^Array<(.+)>$/)
  if (list) return { type: 'list', items: schema(list[1], depth) }
  if (type === 'string') return { type: 'string' }
  if (type === 'number') return { type: 'number' }
  if (type === 'boolean') return { type: 'bool' }
  if (type === 'object' || type === 'any') return { type: 'object' }
  const model = models.get(type)
  if (!model) throw new Error(`unknown SDK type ${type}`)
  if (depth > 12) throw new Error(`model nesting too deep at ${type}`)
  return { type: 'object', fields: fields(model, depth + 1) }
}
const fields = (model, depth) => Object.fromEntries(model.attrs.map((a) => [a.baseName, schema(a.type, depth)]))

// ---- SDK api methods ----
const methods = []
for (const file of readdirSync(join(sdk, 'api')).filter((f) => /V\d{6}Api\.ts$/.test(f))) {
  const text = readFileSync(join(sdk, 'api', file), 'utf8')
  for (const chunk of text.split(/(?=\n {4}public async )/).slice(1)) {
    const sig = chunk.match(/public async (\w+) \(([^)]*)\) : Promise<\{[^\n]*?body: (\w+);/)
    const path = chunk.match(/localVarPath = this\.basePath \+ '([^']+)'/)
    const method = chunk.match(/method: '(\w+)'/)
    if (!sig || !path || !method) continue
    const optionalArgs = new Set([...sig[2].matchAll(/(\w+)\?:/g)].map((m) => m[1]))
    const query = {}
    for (const [, name, arg, type] of chunk.matchAll(
      /localVarQueryParameters\['(\w+)'\] = ObjectSerializer\.serialize\((\w+), "([^"]+)"\)/g,
    )) {
      if (name === 'shop_cipher' || name === 'idempotency_key') continue // the table decides these
      query[name] = { ...schema(type), ...(optionalArgs.has(arg) ? {} : { required: true }) }
    }
    const form = {}
    for (const [, name, rest] of chunk.matchAll(/localVarFormParams\['(\w+)'\] = ([^;]+);/g)) {
      const typed = rest.match(/serialize\(\w+, "([^"]+)"\)/)
      form[name] = typed ? schema(typed[1]) : { type: 'file' }
    }
    const bodyModel = chunk.match(/body: ObjectSerializer\.serialize\(\w+, "(\w+)"\)/)
    const response = models.get(sig[3])
    const dataType = response?.attrs.find((a) => a.baseName === 'data')?.type
    methods.push({
      file: `api/${file}`,
      name: sig[1],
      method: method[1],
      path: path[1],
      takesIdempotencyKey: /localVarQueryParameters\['idempotency_key'\]/.test(chunk),
      takesShopCipher: /localVarQueryParameters\['shop_cipher'\]/.test(chunk),
      query,
      form: Object.keys(form).length ? form : undefined,
      bodyModel: bodyModel?.[1],
      responseModel: sig[3],
      dataType,
    })
  }
}

// ---- one entry per operation ----
const overrides = JSON.parse(readFileSync(join(contractDir, 'overrides.json'), 'utf8'))
const versionless = (p) => p.replace(/^\/([a-z_]+)\/\d{6}\//, '/$1/{v}/')
const areas = {}
for (const op of table) {
  const m = methods.find((x) => x.method === op.method && x.path === op.path)
  if (!m) throw new Error(`${op.id}: ${op.method} ${op.path} is not in the SDK`)
  const sources = [`${m.file} ${m.name}`]
  const entry = { method: m.method, path: m.path, version: m.path.split('/')[2] }
  const newer = methods
    .filter((x) => x.method === m.method && versionless(x.path) === versionless(m.path) && x.path !== m.path)
    .map((x) => x.path.split('/')[2])
    .filter((v) => v > entry.version)
    .sort()
  if (newer.length) entry.newer_versions = newer
  entry.takes_shop_cipher = m.takesShopCipher
  entry.takes_idempotency_key = m.takesIdempotencyKey
  entry.query = m.query
  if (m.form) entry.multipart = m.form
  if (m.bodyModel) {
    entry.body = schema(m.bodyModel)
    sources.push(models.get(m.bodyModel).file)
  } else entry.body = null
  entry.response = m.dataType ? schema(m.dataType) : { type: 'object' }
  if (models.has(m.dataType)) sources.push(models.get(m.dataType).file)
  entry.source = { repo: sdkRepo, commit: sdkCommit, files: sources }
  const extra = overrides.operations[op.id]
  if (extra) applyOverrides(op.id, entry, extra)
  const area = m.path.split('/')[1]
  ;(areas[area] ??= {})[op.id] = entry
}

// An override patches one JSON path (`body.fields.cancel_status`) with `set` (merged into the
// schema there) and says why; the reason is kept next to the entry.
function applyOverrides(id, entry, list) {
  entry.decisions = []
  for (const o of list) {
    entry.decisions.push({ path: o.path, why: o.why, source: o.source })
    if (!('set' in o)) continue // a decision that agrees with the facts: recorded only
    const keys = o.path.split('.')
    let node = entry
    for (const k of keys.slice(0, -1)) {
      node = node[k]
      if (!node) throw new Error(`${id}: override path ${o.path} does not exist`)
    }
    const last = keys.at(-1)
    node[last] = o.replace ? o.set : { ...(node[last] ?? {}), ...o.set }
  }
}

for (const [area, operations] of Object.entries(areas)) {
  const file = join(contractDir, `${area}.json`)
  writeFileSync(file, JSON.stringify({ area, operations }, null, 1) + '\n')
  console.log(`${file}: ${Object.keys(operations).length} operations`)
}
