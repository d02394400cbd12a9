package egress

import (
	"errors"
	"net/netip"
)

// ErrBlockedAddress is wrapped by every error that refuses a destination
// because its address is one Blocked reports, whether the refusal comes from
// the dialer or, with a proxy, from the check before the request. Callers
// test for it with errors.Is to record a clear reason on the attempt.
var ErrBlockedAddress = errors.New("address is private, loopback, link-local or otherwise not allowed")

// blockedHostError refuses host, as the request's URL gave it, because an
// address it resolved to is blocked. It never names that address: an
// attempt's error is shown to the customer, and what an internal name
// resolves to would map the operator's network for them.
type blockedHostError struct{ host string }

func (e *blockedHostError) Error() string {
	if _, err := netip.ParseAddr(e.host); err == nil {
		return "egress: refused " + e.host + ": the address is private, loopback, link-local or otherwise not allowed"
	}
	return "egress: refused " + e.host + ": it resolves to a private, loopback, link-local or otherwise not allowed address"
}

func (e *blockedHostError) Is(target error) bool { return target == ErrBlockedAddress }

// blockedV4 lists the IPv4 ranges no delivery may reach: nothing a customer
// can legitimately host a webhook on lives in them, and several reach the
// operator's own network or cloud control plane.
var blockedV4 = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network", including 0.0.0.0, which dials the local host
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // CGNAT shared space; 100.100.100.200 is Alibaba Cloud metadata
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local; 169.254.169.254 is AWS, GCP and Azure metadata
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments; 192.0.0.192 is Oracle Cloud metadata
	netip.MustParsePrefix("192.0.2.0/24"),    // TEST-NET-1 documentation
	netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // TEST-NET-2 documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // TEST-NET-3 documentation
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and 255.255.255.255 broadcast
}

// blockedV6 lists the IPv6 ranges refused outright. IPv4-mapped addresses
// (::ffff:a.b.c.d) never get here: Blocked unmaps them and judges the IPv4
// address, and the NAT64 and 6to4 prefixes, which embed an IPv4 address,
// are judged by the address they embed (see embedded4).
var blockedV6 = []netip.Prefix{
	netip.MustParsePrefix("::/96"),           // unspecified ::, loopback ::1, deprecated IPv4-compatible
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT)
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64: translates into private networks
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/23"),       // IETF protocol assignments: Teredo, benchmarking, ORCHID
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("3fff::/20"),       // documentation (RFC 9637)
	netip.MustParsePrefix("fc00::/7"),        // unique local; fd00:ec2::254 is AWS metadata
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local, still routed locally by some stacks
	netip.MustParsePrefix("ff00::/8"),        // multicast
}

var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96") // well-known NAT64, RFC 6052
	sixToFour   = netip.MustParsePrefix("2002::/16")    // 6to4, RFC 3056
)

// Blocked reports whether ip may not be dialled by a delivery: loopback,
// private (RFC 1918 and fc00::/7), link-local, CGNAT (100.64/10),
// unspecified, multicast, broadcast, the cloud metadata addresses
// (169.254.169.254, fd00:ec2::254, 100.100.100.200, 192.0.0.192), 0/8,
// 192.0.0/24, benchmarking (198.18/15), reserved 240/4, the documentation
// ranges of both families, and the other special-purpose IPv6 ranges listed
// in blockedV6. IPv4-mapped IPv6 addresses are judged as the IPv4 address
// they carry, and so are NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
// addresses. An invalid (zero) Addr is blocked; a zone is ignored.
//
// It is a deny list: any address not listed, such as a global unicast
// address, is allowed.
func Blocked(ip netip.Addr) bool {
	if !ip.IsValid() {
		return true
	}
	ip = ip.WithZone("").Unmap()
	if ip.Is4() {
		return inAny(blockedV4, ip)
	}
	if v4, ok := embedded4(ip); ok {
		return Blocked(v4)
	}
	return inAny(blockedV6, ip)
}

// embedded4 returns the IPv4 address carried by a NAT64 or 6to4 address,
// which the network translates to and so reaches.
func embedded4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case nat64Prefix.Contains(ip):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(ip):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

func inAny(prefixes []netip.Prefix, ip netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}
