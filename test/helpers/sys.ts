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

export interface CaptureOptions {
  readonly stdinIsTty?: boolean
  readonly files?: Record<string, string>
  readonly stdin?: string
  /** Lines typed at the controlling terminal; none means there is no terminal. */
  readonly ttyLines?: readonly string[]
}

export const captureSys = (program: string, options: CaptureOptions = {}): CapturedSys => {
  const chunks: CapturedSys['chunks'] = []
  const names = fixtureNames()
  const ttyLines = [...(options.ttyLines ?? [])]
  return {
    program,
    chunks,
    out: (text) => chunks.push({ stream: 'out', text }),
    err: (text) => chunks.push({ stream: 'err', text }),
    stdinIsTty: () => options.stdinIsTty ?? false,
    readStdin: () => options.stdin ?? '',
    readTtyLine: () => ttyLines.shift(),
    readFile: (path) => options.files?.[path],
    names: () => names,
  }
}
