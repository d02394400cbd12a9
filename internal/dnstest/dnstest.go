// Package dnstest is a DNS server on loopback for tests: it answers a
// resolver's questions from a function, so that tests decide what a name
// resolves to (a public address, loopback, a private network) without
// leaving the machine.
package dnstest

import (
	"context"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// AnswerFunc returns the addresses of a name (lower case, no trailing dot)
// for the query type, 1 (A) or 28 (AAAA), and whether the name exists.
type AnswerFunc func(name string, qtype uint16) ([]netip.Addr, bool)

// NewResolver starts a minimal DNS server on 127.0.0.1 that answers with
// answer, and returns a resolver that asks it and nothing else, so that
// tests control what a hostname resolves to without leaving loopback.
func NewResolver(tb testing.TB, answer AnswerFunc) *net.Resolver {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if resp, ok := Reply(buf[:n], answer); ok {
				_, _ = pc.WriteTo(resp, from)
			}
		}
	}()
	addr := pc.LocalAddr().String()
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "udp", addr)
		},
	}
}

// Reply builds the answer to one query of RFC 1035 wire format.
func Reply(q []byte, answer AnswerFunc) ([]byte, bool) {
	if len(q) < 12 || binary.BigEndian.Uint16(q[4:]) != 1 {
		return nil, false
	}
	var labels []string
	i := 12
	for {
		if i >= len(q) {
			return nil, false
		}
		l := int(q[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(q) {
			return nil, false
		}
		labels = append(labels, string(q[i:i+l]))
		i += l
	}
	if i+4 > len(q) {
		return nil, false
	}
	qtype := binary.BigEndian.Uint16(q[i:])
	question := q[12 : i+4]

	addrs, exists := answer(strings.ToLower(strings.Join(labels, ".")), qtype)
	var rrs []byte
	count := 0
	for _, a := range addrs {
		if (qtype == 1) != a.Is4() {
			continue
		}
		rr := []byte{0xc0, 12} // name: pointer to the question's
		rr = binary.BigEndian.AppendUint16(rr, qtype)
		rr = binary.BigEndian.AppendUint16(rr, 1) // class IN
		rr = binary.BigEndian.AppendUint32(rr, 0) // TTL
		rr = binary.BigEndian.AppendUint16(rr, uint16(a.BitLen()/8))
		rr = append(rr, a.AsSlice()...)
		rrs = append(rrs, rr...)
		count++
	}
	flags := uint16(0x8180) // response, recursion desired and available
	if !exists {
		flags |= 3 // NXDOMAIN
	}
	resp := binary.BigEndian.AppendUint16(nil, binary.BigEndian.Uint16(q))
	resp = binary.BigEndian.AppendUint16(resp, flags)
	resp = binary.BigEndian.AppendUint16(resp, 1)
	resp = binary.BigEndian.AppendUint16(resp, uint16(count))
	resp = binary.BigEndian.AppendUint32(resp, 0) // no authority, no additional
	resp = append(resp, question...)
	return append(resp, rrs...), true
}

// Names is an AnswerFunc from a fixed table; names not in it do not exist.
func Names(table map[string][]string) AnswerFunc {
	return func(name string, _ uint16) ([]netip.Addr, bool) {
		ss, ok := table[name]
		var addrs []netip.Addr
		for _, s := range ss {
			addrs = append(addrs, netip.MustParseAddr(s))
		}
		return addrs, ok
	}
}
