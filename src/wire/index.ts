/** src/wire: bytes to typed records and back. Nothing above this layer touches byte offsets. */
export * from './address.js';
export * from './checksum.js';
export * from './constants.js';
export * from './dissect.js';
export * from './error.js';
export * from './esp.js';
export * from './icmp.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './ipv6-ext.js';
export * from './mh.js';
export * from './mh-options.js';
export * from './padding.js';
export * from './pcap.js';
export * from './signalling.js';
export * from './tunnel.js';
export * from './udp.js';
