package egress_test

import (
	"net/netip"
	"testing"

	"github.com/hookd/hookd/egress"
)

func TestBlocked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		ip      string
		blocked bool
	}{
		// IPv4 loopback, private, link-local, CGNAT.
		{"127.0.0.1", true},
		{"127.255.255.254", true},
		{"10.0.0.1", true},
		{"10.255.255.255", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"172.32.0.1", false},
		{"172.15.255.255", false},
		{"192.168.1.1", true},
		{"169.254.0.1", true},
		{"100.64.0.1", true},
		{"100.127.255.255", true},
		{"100.128.0.1", false},
		{"100.63.255.255", false},
		// Unspecified, "this network", multicast, broadcast, reserved.
		{"0.0.0.0", true},
		{"0.1.2.3", true},
		{"224.0.0.1", true},
		{"239.255.255.250", true},
		{"255.255.255.255", true},
		{"240.0.0.1", true},
		// Cloud metadata.
		{"169.254.169.254", true},
		{"100.100.100.200", true},
		{"192.0.0.192", true},
		{"fd00:ec2::254", true},
		// Special purpose IPv4.
		{"192.0.0.1", true},
		{"192.0.2.1", true},
		{"198.18.0.1", true},
		{"198.19.255.255", true},
		{"198.20.0.1", false},
		{"198.51.100.7", true},
		{"203.0.113.9", true},
		// Public IPv4.
		{"93.184.216.34", false},
		{"8.8.8.8", false},
		{"1.1.1.1", false},
		// IPv6 loopback, unspecified, ULA, link-local, multicast.
		{"::1", true},
		{"::", true},
		{"fc00::1", true},
		{"fdff:ffff::1", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"febf::1", true},
		{"fec0::1", true},
		{"ff02::1", true},
		{"2001:db8::1", true},
		{"2001::1", true},        // Teredo
		{"::127.0.0.1", true},    // IPv4-compatible
		{"::ffff:0:a00:1", true}, // IPv4-translated
		{"100::1", true},
		// IPv4-mapped IPv6 is judged as the IPv4 address.
		{"::ffff:127.0.0.1", true},
		{"::ffff:10.1.2.3", true},
		{"::ffff:169.254.169.254", true},
		{"::ffff:100.100.100.200", true},
		{"::ffff:93.184.216.34", false},
		// NAT64 and 6to4 are judged by the IPv4 address they embed.
		{"64:ff9b::7f00:1", true},       // 127.0.0.1
		{"64:ff9b::a9fe:a9fe", true},    // 169.254.169.254
		{"64:ff9b::5db8:d822", false},   // 93.184.216.34
		{"64:ff9b:1::5db8:d822", true},  // local-use NAT64
		{"2002:7f00:1::1", true},        // 6to4 of 127.0.0.1
		{"2002:c0a8:101::1", true},      // 6to4 of 192.168.1.1
		{"2002:5db8:d822::1", false},    // 6to4 of 93.184.216.34
		{"2606:4700:4700::1111", false}, // public
		{"2a00:1450:4001:80b::200e", false},
	}
	for _, tt := range tests {
		ip := netip.MustParseAddr(tt.ip)
		if got := egress.Blocked(ip); got != tt.blocked {
			t.Errorf("Blocked(%s) = %v, want %v", tt.ip, got, tt.blocked)
		}
	}
	if !egress.Blocked(netip.Addr{}) {
		t.Error("Blocked(zero Addr) = false, want true")
	}
}
