// What the IP Autoforward Control Program v0.20 prints when the kernel says
// no (perror after socket() and setsockopt()); its usage and option
// complaints are in help.ts and parse.ts.

const STRERROR = { EINVAL: 'Invalid argument', EPERM: 'Operation not permitted', EPROTONOSUPPORT: 'Protocol not supported' } as const

/** The raw socket could not be opened: no permission, or a kernel without the support. */
export const socketFailed = (errno: 'EPERM' | 'EPROTONOSUPPORT'): string => `socket(RAW): ${STRERROR[errno]}\n`

/** The only refusal of 2.0 ip_autofw: nothing to delete. */
export const setsockoptFailed = (errno: 'EINVAL'): string => `ipautofw: setsockopt failed: ${STRERROR[errno]}\n`
