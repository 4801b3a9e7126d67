export declare const vsftpdConfig: (options: { address: string; port?: number; anonRoot: string; emptyDir: string; logFile?: string }) => string
