// Types of wire.mjs for the TypeScript that builds payloads with it (fuzz-payloads.ts).
export declare const ipToInt: (ip: string) => number
export declare const intToIp: (n: number) => string

export declare const CTCP: string
export declare const parseIrcLine: (line: string) => { prefix: string; command: string; params: string[] }
export declare const dccOffer: (type: string, name: string, addr: string, port: number, size?: number) => string
export declare const parseDcc: (text: string) => { type: string; name: string; addr: string; port: number; size: number | undefined } | undefined
export declare const dccFile: (size: number) => Buffer

export interface CuHeaderFields {
  destPort: number
  destAddr: string
  port: number
  addr: string
  seq: number
  msg?: number
}
export declare const CU_PORT: number
export declare const CU_HEADER: number
export declare const CU_OC_HEADER: number
export declare const CU_RECORD: number
export declare const CU_OPEN_CONTINUE: number
export declare const cuHeader: (h: CuHeaderFields & { dataType: number; packetLen: number }) => Buffer
export declare const cuOpenContinue: (h: CuHeaderFields, oc: { seqNo: number; userName: string; clients?: { addr: string }[] }) => Buffer
export declare const parseCu: (
  b: Buffer,
) => (Required<CuHeaderFields> & { dataType: number; packetLen: number; userName?: string; clients?: string[] }) | undefined

export declare const VDO_PORT: number
export declare const vdoInitial: (udpPort: number, clip?: string) => Buffer
export declare const vdoSecondary: (udpPort: number) => Buffer
export declare const parseVdo: (b: Buffer) => { tag: number; port: number } | undefined

export declare const QUAKE_PORT: number
export declare const CCREQ_CONNECT: number
export declare const CCREP_ACCEPT: number
export declare const CCREQ_SERVER_INFO: number
export declare const CCREP_SERVER_INFO: number
export declare const quakeServerInfoQuery: () => Buffer
export declare const quakeServerInfo: (info: { address: string; hostname: string; map: string; players: number; maxPlayers: number }) => Buffer
export declare const quakeConnect: () => Buffer
export declare const quakeAccept: (port: number) => Buffer
export declare const quakeUnreliable: (seq: number, payload: Buffer) => Buffer
export declare const quakeAck: (seq: number) => Buffer
export declare const parseQuake: (b: Buffer) =>
  | {
      control?: boolean
      command?: number
      version?: number
      port?: number
      address?: string
      hostname?: string
      map?: string
      unreliable?: boolean
      ack?: boolean
      seq?: number
    }
  | undefined

export declare const PNA_PORT: number
export declare const PNA_UDP_PORT_RECORD: number
export declare const PNA_ROBUST_PORT_RECORD: number
export declare const pnaHello: (version: number, records: { id: number; value: Buffer }[]) => Buffer
export declare const portValue: (port: number) => Buffer
export declare const parsePna: (
  b: Buffer,
) => { version: number; records: { id: number; length: number; port?: number }[]; complete: boolean; length: number } | undefined

export declare const RTSP_PORT: number
export declare const rtspMessage: (startLine: string, headers: Record<string, string>, body?: string) => string
export declare const parseRtspMessage: (
  buf: Buffer,
) => { startLine: string; headers: Record<string, string>; body: string; length: number } | undefined
export declare const clientPorts: (transport: string | undefined) => number[] | undefined
export declare const rtpPacket: (seq: number, ssrc: number, payload: Buffer) => Buffer
