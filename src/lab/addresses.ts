/**
 * The lab's address plan (lab/README.md draws it). Daemons, e2e tests, the demo and benchmarks
 * read addresses from here instead of repeating them. Only documentation ranges (RFC 3849
 * 2001:db8::/32, RFC 5737 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) and RFC 1918 10.0.0.0/24
 * are used, and only inside the lab's network namespaces.
 */

/** Where the mobile node's one access link can be. */
export const LAB_LOCATIONS = ['home', 'ipv6', 'ipv4', 'nat'] as const;
export type LabLocation = (typeof LAB_LOCATIONS)[number];

/** The lab's hosts; each is the network namespace `<prefix>-<node>`. */
export const LAB_NODES = ['rt', 'nat', 'ha', 'cn', 'dns', 'mn'] as const;
export type LabNode = (typeof LAB_NODES)[number];

export const LAB_ADDRESSES = {
  networks: {
    /** Home link: the HA and, at home, the MN. The router is ::fe / .126 because the HA owns ::1 / .1. */
    home: {
      ipv6: '2001:db8:1::/64',
      ipv4: '198.51.100.0/25',
      routerIpv6: '2001:db8:1::fe',
      routerIpv4: '198.51.100.126',
    },
    /**
     * Kept free for the HA's IPv4 home address pool (RFC 5555 §4.4.2): the router routes it to the
     * HA, so packets for an MN's assigned IPv4 home address reach the HA wherever the MN is.
     */
    haIpv4Pool: { ipv4: '198.51.100.128/25', via: '198.51.100.1' },
    /**
     * A second home prefix with no link of its own: the router routes it to the HA, whose TUN is
     * the whole home network (a virtual home network, RFC 6275; `dataplane` without `homeLink`).
     */
    haVirtualHome: { ipv6: '2001:db8:1:80::/64', via: '2001:db8:1::1' },
    /** IPv6-only visited network: no IPv4 at all. */
    ipv6: { ipv6: '2001:db8:20::/64', routerIpv6: '2001:db8:20::1' },
    /** Public IPv4 visited network: no IPv6 (IPv6 is disabled on the MN's link there). */
    ipv4: { ipv4: '203.0.113.0/25', routerIpv4: '203.0.113.1' },
    /** The link between the router and the NAT's outside interface (IPv4 only). */
    natOutside: { ipv4: '203.0.113.128/25', routerIpv4: '203.0.113.129' },
    /** Private network behind the NAT (IPv4 only); the router has no route to it. */
    natInside: { ipv4: '10.0.0.0/24', natIpv4: '10.0.0.1' },
    /** Correspondent node and DNS server (dual-stack). */
    cn: {
      ipv6: '2001:db8:99::/64',
      ipv4: '192.0.2.0/24',
      routerIpv6: '2001:db8:99::1',
      routerIpv4: '192.0.2.1',
    },
  },
  /** Home agent: its home-link IPv6 address and its public IPv4 address. */
  ha: { ipv6: '2001:db8:1::1', ipv4: '198.51.100.1' },
  /** The mobile node's addresses at each location (home addresses at home, care-of elsewhere). */
  mn: {
    home: { ipv6: '2001:db8:1::100', ipv4: '198.51.100.100' },
    ipv6: { ipv6: '2001:db8:20::10' },
    ipv4: { ipv4: '203.0.113.10' },
    nat: { ipv4: '10.0.0.10' },
    /** Locally administered MAC kept across moves (the same device), so neighbour caches stay valid. */
    mac: '02:00:00:00:00:10',
  },
  /** The NAT's public (outside) address: what the HA sees as the source of an MN behind the NAT. */
  nat: { outsideIpv4: '203.0.113.130', insideIpv4: '10.0.0.1' },
  cn: { ipv6: '2001:db8:99::5', ipv4: '192.0.2.5' },
  dns: {
    ipv6: '2001:db8:99::53',
    ipv4: '192.0.2.53',
    zone: 'example.net',
    /** AAAA → ha.ipv6, A → ha.ipv4. */
    haName: 'ha.example.net',
    /** SRV 10 10 0 ha.example.net (RFC 5026 §5.1). */
    haSrv: '_mip6._ipv6.example.net',
    /** AAAA → cn.ipv6, A → cn.ipv4. */
    cnName: 'cn.example.net',
  },
} as const;
