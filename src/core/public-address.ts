/**
 * Which addresses a gateway-side URL fetch may reach (SSRF protection for URL image/document
 * sources): loopback, private, link-local, CGNAT, multicast, reserved and the IPv4 embedded in
 * mapped/NAT64 IPv6 addresses are refused; and a `lookup` that pins a connection to the address
 * that was checked.
 */
import type { LookupAddress } from "node:dns";
import { BlockList, isIP, type LookupFunction } from "node:net";

const blockList = new BlockList();
for (const [net, prefix] of [
  ["0.0.0.0", 8], // "this" network
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local (cloud metadata lives here)
  ["172.16.0.0", 12],
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.168.0.0", 16],
  ["198.18.0.0", 15], // benchmarking
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved + broadcast
] as const) {
  blockList.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [
  ["::", 96], // unspecified, ::1 loopback, IPv4-compatible
  ["64:ff9b:1::", 48], // local-use NAT64
  ["fc00::", 7], // unique-local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // deprecated site-local
  ["ff00::", 8], // multicast
] as const) {
  blockList.addSubnet(net, prefix, "ipv6");
}

/** True for addresses a URL fetch must not reach unless `allowPrivateNetworks` (exported for tests). */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blockList.check(address, "ipv4");
  if (family !== 6) return true; // not an IP at all: refuse rather than guess
  const embedded = embeddedIPv4(address);
  if (embedded !== undefined) return blockList.check(embedded, "ipv4");
  return blockList.check(address, "ipv6");
}

/** The IPv4 inside an IPv4-mapped (`::ffff:a.b.c.d` / `::ffff:7f00:1`) or NAT64 (64:ff9b::/96) address. */
function embeddedIPv4(address: string): string | undefined {
  const m = /^(?:::ffff:|64:ff9b::)(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(address);
  if (m === null) return undefined;
  if (m[1] !== undefined) return m[1];
  const hi = Number.parseInt(m[2] ?? "0", 16);
  const lo = Number.parseInt(m[3] ?? "0", 16);
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

/** A `lookup` that answers only the already-checked addresses: DNS cannot change between check and connect. */
export function pinnedLookup(pinned: [LookupAddress, ...LookupAddress[]]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) callback(null, pinned);
    else callback(null, pinned[0].address, pinned[0].family);
  };
}
