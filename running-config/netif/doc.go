// Package netif connects the interface part of the running configuration to Linux links.
//
// Linux links named ethN are the router's ports GigabitEthernet0/N (and back). Links opens a
// netlink handle (NETLINK_ROUTE only) in the current or a given network namespace and offers:
//
//   - List: the mapped links with IOS name, admin/oper state and IPv4 addresses, in IOS order,
//     for `show ip interface brief` and `show interfaces`;
//   - AddPorts: one Interface per mapped link, for the configuration at boot;
//   - Validate/Commit: a runningconfig.Subscriber that applies `ip address [secondary]` and
//     `shutdown` / `no shutdown` of every changed GigabitEthernet interface to its link.
//     Logical interfaces (Loopback, Tunnel) and unmapped names are left alone;
//   - SyncRoutes (also run by Commit): the static routes `ip route` that resolve to a mapped
//     link, in the main table, marked with RouteProtocol; the administrative distance is the
//     route metric. Only routes carrying that mark are ever replaced or removed.
//
// Only IPv4 addresses are managed; IPv6 addresses (link-local included) are never touched.
//
// A Links value is safe for concurrent use: the underlying netlink handle serialises requests.
package netif
