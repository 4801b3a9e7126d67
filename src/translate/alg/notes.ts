// What `legacyfw translate` tells the user about loaded helper modules:
// where the kernel's helpers differ from 2.0/2.2 (docs/divergences.md,
// "helper modules"), by record.
import { type LoadedApp, decodeApp } from './model.ts'

const SEE = 'see docs/divergences.md'

const KEPT: Readonly<Record<string, string>> = {
  noport: 'the kernel ftp helper refuses no PORT port but those below 1024 (noport= is kept, not applied)',
  insecure: 'the kernel irc helper always checks the DCC address (insecure= is kept, not applied)',
}

const appNotes = (a: LoadedApp): string[] => [
  ...a.kept.map((word) => {
    const name = word.split('=')[0] ?? word
    return `${a.module}: ${KEPT[name] ?? `${name}= is a host-wide setting of the kernel helper (kept, not applied)`} (${SEE})`
  }),
  ...(a.app === 'raudio'
    ? [
        `${a.module}: RealAudio PNA and RTSP need the resident runtime (legacyfw runtime, legacyfw-runtime.service where this file is loaded); RTSP's client_port is rewritten to gateway ports as wide (${SEE})`,
      ]
    : []),
]

/** Divergence notes by record. */
export const algNotes = (records: readonly string[]): Map<string, string[]> => {
  const notes = new Map<string, string[]>()
  for (const record of records) {
    const a = decodeApp(record)
    const found = a ? appNotes(a) : []
    if (found.length) notes.set(record, found)
  }
  return notes
}
