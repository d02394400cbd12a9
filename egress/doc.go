// Package egress is the one way out of hookd: every outbound request —
// webhook deliveries, source forwarding, operational notifications — is sent
// by an *http.Client built here, and every destination URL a user stores is
// checked here first.
//
// hookd POSTs to URLs its operator's customers type in, which makes it a
// textbook server-side request forgery target: a URL aimed at 127.0.0.1, a
// database on 10.0.0.5 or the cloud metadata service at 169.254.169.254
// would let a customer read or poke the operator's private network. The
// defence has two layers:
//
//   - CheckURL, at create and PATCH time, refuses malformed URLs, plain http,
//     credentials in the URL, IP literals and localhost names that Blocked
//     refuses, and hostnames whose every address is blocked. It is a courtesy
//     — a clear 400 instead of a failed delivery later — not the guard.
//   - NewClient's transport is the guard. It checks each address after DNS
//     resolution, in the dialer's Control hook, so a hostname that resolved
//     to a public address at create time and to 127.0.0.1 now (DNS
//     rebinding) is still refused, and the refusal wraps ErrBlockedAddress.
//     It follows no redirects: a 3xx is the receiver's answer and counts as
//     a failed delivery, so a public URL cannot bounce a request inward.
//
// With an egress proxy (HOOKD_EGRESS_PROXY, so deliveries leave from fixed
// IPs customers can allow-list) the transport dials only the proxy, whose
// address the operator chose and which is therefore allowed even when it is
// private. The destination is then checked before each request instead: its
// host is resolved and the request refused if any address is blocked or if
// it cannot be resolved. The proxy resolves the name again, so a rebinding
// between the two lookups is out of hookd's reach: the proxy should enforce
// its own deny list for private and metadata ranges too.
//
// Config.AllowPrivate (the --allow-private-networks server flag) lifts every
// address check and lets CheckURL accept http:// URLs, for development and
// tests against servers on loopback.
//
// The transport speaks HTTP/1.1 with keep-alive pools sized for many small
// POSTs to many hosts, each request written and its answer read on the
// caller's goroutine (see transport; through a proxy, net/http's transport
// is used), and ReadCapped reads the bounded slice of a response that an
// attempt records while leaving the connection fit for reuse. A response's
// status line and headers are capped too (Config.MaxResponseHeaderBytes,
// 64 KiB), so what a receiver can make hookd read is bounded from the
// first byte of its answer to the last.
package egress
