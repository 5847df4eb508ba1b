/**
 * Output captured from iproute2 6.1.0 in a scratch network namespace with a veth pair (v0/v1):
 * `ip -o monitor address link` while links went up and down and addresses came and went, and
 * `ip -j addr show` with a tentative IPv6 address and a point-to-point (peer) IPv4 address.
 * `ip -j monitor address link` printed the same text as plain `ip monitor` there: -j is ignored.
 */

/** Links up, three addresses added, two deleted, v0 down (its link-local goes), v1 gets its link-local. */
export const MONITOR_SESSION = String.raw`2: v1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \    link/ether 1a:12:88:7e:25:b9 brd ff:ff:ff:ff:ff:ff
3: v0@v1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN group default \    link/ether e6:de:03:83:01:16 brd ff:ff:ff:ff:ff:ff
3: v0@v1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \    link/ether e6:de:03:83:01:16 brd ff:ff:ff:ff:ff:ff
2: v1@v0: <NO-CARRIER,BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \    link/ether 1a:12:88:7e:25:b9 brd ff:ff:ff:ff:ff:ff
2: v1@v0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \    link/ether 1a:12:88:7e:25:b9 brd ff:ff:ff:ff:ff:ff
3: v0@v1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \    link/ether e6:de:03:83:01:16 brd ff:ff:ff:ff:ff:ff
3: v0    inet 198.51.100.7/24 scope global v0\       valid_lft forever preferred_lft forever
3: v0    inet6 2001:db8:2::7/64 scope global nodad \       valid_lft forever preferred_lft forever
3: v0    inet 10.1.2.3/24 scope global v0\       valid_lft forever preferred_lft forever
Deleted 3: v0    inet 198.51.100.7/24 scope global v0\       valid_lft forever preferred_lft forever
Deleted 3: v0    inet6 2001:db8:2::7/64 scope global nodad \       valid_lft forever preferred_lft forever
3: v0@v1: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \    link/ether e6:de:03:83:01:16 brd ff:ff:ff:ff:ff:ff
Deleted 3: v0    inet6 fe80::e4de:3ff:fe83:116/64 scope link tentative \       valid_lft forever preferred_lft forever
2: v1@v0: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \    link/ether 1a:12:88:7e:25:b9 brd ff:ff:ff:ff:ff:ff
2: v1    inet6 fe80::1812:88ff:fe7e:25b9/64 scope link \       valid_lft forever preferred_lft forever`;

/** A labelled alias address, v1 down, then `ip link del v0` (both ends and all addresses go). */
export const MONITOR_DELETE = String.raw`2: v1    inet 203.0.113.9/24 scope global v1:alias\       valid_lft forever preferred_lft forever
2: v1@v0: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \    link/ether 1a:12:88:7e:25:b9 brd ff:ff:ff:ff:ff:ff
Deleted 2: v1    inet6 fe80::1812:88ff:fe7e:25b9/64 scope link \       valid_lft forever preferred_lft forever
3: v0@v1: <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> mtu 1500 qdisc noqueue state LOWERLAYERDOWN group default \    link/ether e6:de:03:83:01:16 brd ff:ff:ff:ff:ff:ff
3: v0@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default \    link/ether e6:de:03:83:01:16 brd ff:ff:ff:ff:ff:ff
Deleted 3: v0    inet6 2001:db8:3::9/64 scope global tentative \       valid_lft forever preferred_lft forever
Deleted 3: v0    inet6 fe80::e4de:3ff:fe83:116/64 scope link tentative \       valid_lft forever preferred_lft forever
Deleted 3: v0    inet 10.1.2.3/24 scope global v0\       valid_lft forever preferred_lft forever
Deleted 3: v0@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \    link/ether e6:de:03:83:01:16 brd ff:ff:ff:ff:ff:ff
Deleted 2: v1    inet 10.0.0.1 peer 10.0.0.2/32 scope global v1\       valid_lft forever preferred_lft forever
Deleted 2: v1    inet 203.0.113.9/24 scope global v1:alias\       valid_lft forever preferred_lft forever
Deleted 2: v1@NONE: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default \    link/ether 1a:12:88:7e:25:b9 brd ff:ff:ff:ff:ff:ff`;

/** `ip -j addr show` (the state MONITOR_DELETE starts from). */
export const ADDR_JSON = `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":2,"link":"v0","ifname":"v1","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"1a:12:88:7e:25:b9","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet","local":"10.0.0.1","address":"10.0.0.2","prefixlen":32,"scope":"global","label":"v1","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::1812:88ff:fe7e:25b9","prefixlen":64,"scope":"link","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":3,"link":"v1","ifname":"v0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"e6:de:03:83:01:16","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet","local":"10.1.2.3","prefixlen":24,"scope":"global","label":"v0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"2001:db8:3::9","prefixlen":64,"scope":"global","tentative":true,"valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"fe80::e4de:3ff:fe83:116","prefixlen":64,"scope":"link","tentative":true,"valid_life_time":4294967295,"preferred_life_time":4294967295}]}]`;
