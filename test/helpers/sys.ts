// A Sys for pure mode: captured streams, the fixture /etc files, no DNS.
import { readFileSync } from 'node:fs'
import { etcNames } from '../../src/translate/common/names.ts'
import type { Sys } from '../../src/runtime/sys.ts'

const etc = (name: string): string => readFileSync(new URL(`../../fixtures/etc/${name}`, import.meta.url), 'utf8')

export const FIXTURE_ETC = ['services', 'protocols', 'networks', 'hosts'] as const

export interface CapturedSys extends Sys {
  readonly chunks: { stream: 'out' | 'err'; text: string }[]
}

export const fixtureNames = () =>
  etcNames({ services: () => etc('services'), protocols: () => etc('protocols'), networks: () => etc('networks'), hosts: () => etc('hosts') })

export const captureSys = (program: string, options: { stdinIsTty?: boolean; files?: Record<string, string> } = {}): CapturedSys => {
  const chunks: CapturedSys['chunks'] = []
  const names = fixtureNames()
  return {
    program,
    chunks,
    out: (text) => chunks.push({ stream: 'out', text }),
    err: (text) => chunks.push({ stream: 'err', text }),
    stdinIsTty: () => options.stdinIsTty ?? false,
    readFile: (path) => options.files?.[path],
    names: () => names,
  }
}
