// Every ct label bit legacyfw sets, handed out in one place: the ipchains,
// ipfwadm, ipautofw and ipmasqadm tables may all be loaded at once, so no
// two meanings may share a bit.

/**
 * Connections the ipautofw/ipmasqadm tables forward to an internal host
 * (2.0/2.2 de-masqueraded them): the legacy forward chains let them through.
 */
export const FORWARDED_LABEL = 8
/** "Masquerade this connection", set in forward and acted on in nat_post. */
export const IPCHAINS_MASQ_LABEL = 10
export const IPFWADM_MASQ_LABEL = 11
/** Every masquerade label: autofw DIRECT entries keep the port of either tool's connections. */
export const MASQ_LABELS = [IPCHAINS_MASQ_LABEL, IPFWADM_MASQ_LABEL] as const
/** "Redirect to port N", set in input and acted on in nat_pre: [first, end) of each tool's bits. */
export const IPCHAINS_REDIRECT_LABELS = [32, 80] as const
export const IPFWADM_REDIRECT_LABELS = [80, 128] as const
