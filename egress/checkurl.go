package egress

import (
	"context"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// MaxURLLength is the longest destination URL CheckURL accepts, in
// characters.
const MaxURLLength = 2048

// CheckTimeout bounds the DNS lookup CheckURL makes for a hostname, on top
// of whatever deadline the caller's context carries: a slow resolver must
// not hold up an API request, and the dial-time guard stands behind it.
const CheckTimeout = 2 * time.Second

// CheckURL validates a destination URL before it is stored (webhook create
// and PATCH, a source's forward_url, a per-request webhook_url). raw must be
// absolute, https (http too when allowPrivate), with a host and a valid
// port, at most MaxURLLength characters and without userinfo. Unless
// allowPrivate, it must not aim at a blocked address: IP literals are
// checked with Blocked, "localhost" and *.localhost (also with
// .localdomain after them) are refused, hosts
// written as numbers that are not a plain IP address ("127.1", "2130706433",
// "0x7f.1", which some HTTP stacks and proxies read as IPv4) are refused,
// and any other hostname is resolved with r (nil means net.DefaultResolver)
// within CheckTimeout. If every address it resolves to is blocked the URL is
// refused, with a message that says so and does not name the addresses (an
// internal name's address is the operator's to know); if resolution fails
// the URL is accepted, because the name may exist later and the dial-time
// guard of NewClient still holds.
//
// Errors are *hookd.Error with code hookd.EINVALID and a message that starts
// with field, e.g. "url must be https".
func CheckURL(ctx context.Context, field, raw string, allowPrivate bool, r *net.Resolver) error {
	return CheckURLs(ctx, []URLField{{Field: field, URL: raw}}, allowPrivate, r)
}

// URLField is a destination URL to check and the request field it came in.
type URLField struct {
	Field string // named by the error, e.g. "events[3].webhook_url"
	URL   string
}

// CheckURLs checks many URLs as CheckURL checks one (a batch publish's
// one-off destinations): each distinct host is resolved once, the lookups
// run side by side, and all of them end within one CheckTimeout, so a
// thousand URLs cost one lookup's wait, not a thousand. The error names the
// first URL at fault: every URL's form is checked before any host is
// resolved.
func CheckURLs(ctx context.Context, urls []URLField, allowPrivate bool, r *net.Resolver) error {
	var hosts []string
	firstField := map[string]string{} // host → the first field naming it
	for _, u := range urls {
		host, err := checkURLForm(u.Field, u.URL, allowPrivate)
		if err != nil {
			return err
		}
		if host == "" {
			continue
		}
		key := strings.ToLower(strings.TrimSuffix(host, "."))
		if _, seen := firstField[key]; !seen {
			firstField[key] = u.Field
			hosts = append(hosts, key)
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	if r == nil {
		r = net.DefaultResolver
	}
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	for i, blocked := range resolveBlocked(ctx, r, hosts) {
		if blocked {
			return hookd.Errorf(hookd.EINVALID, "%s host resolves to a private, loopback or link-local address", firstField[hosts[i]])
		}
	}
	return nil
}

// checkURLForm checks everything about raw that needs no DNS, and returns
// the hostname still to resolve, or "" when there is none to (an IP
// literal, or allowPrivate).
func checkURLForm(field, raw string, allowPrivate bool) (string, error) {
	if raw == "" {
		return "", hookd.Errorf(hookd.EINVALID, "%s is required", field)
	}
	if utf8.RuneCountInString(raw) > MaxURLLength {
		return "", hookd.Errorf(hookd.EINVALID, "%s must be at most %d characters", field, MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", hookd.Errorf(hookd.EINVALID, "%s is not a valid URL", field)
	}
	if !u.IsAbs() || u.Opaque != "" {
		return "", hookd.Errorf(hookd.EINVALID, "%s must be an absolute URL", field)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowPrivate:
	case allowPrivate:
		return "", hookd.Errorf(hookd.EINVALID, "%s must be http or https", field)
	default:
		return "", hookd.Errorf(hookd.EINVALID, "%s must be https", field)
	}
	if u.User != nil {
		return "", hookd.Errorf(hookd.EINVALID, "%s must not contain a user name or password", field)
	}
	host := u.Hostname()
	if host == "" {
		return "", hookd.Errorf(hookd.EINVALID, "%s must have a host", field)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", hookd.Errorf(hookd.EINVALID, "%s has an invalid port", field)
		}
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !allowPrivate && Blocked(ip) {
			return "", blockedURL(field)
		}
		return "", nil
	}
	if numericHost(host) {
		return "", hookd.Errorf(hookd.EINVALID, "%s has an invalid host", field)
	}
	if allowPrivate {
		return "", nil
	}
	if isLocalhost(host) {
		return "", blockedURL(field)
	}
	return host, nil
}

func blockedURL(field string) error {
	return hookd.Errorf(hookd.EINVALID, "%s must not point to a private, loopback or link-local address", field)
}

// maxLookups bounds the lookups CheckURLs runs at once.
const maxLookups = 16

// resolveBlocked resolves each host, side by side, and reports for each
// whether every address it has is blocked; a host that cannot be resolved
// (or not before ctx ends) is not.
func resolveBlocked(ctx context.Context, r *net.Resolver, hosts []string) []bool {
	blocked := make([]bool, len(hosts))
	if len(hosts) == 1 {
		blocked[0] = allBlocked(ctx, r, hosts[0])
		return blocked
	}
	slots := make(chan struct{}, maxLookups)
	var wg sync.WaitGroup
	for i, h := range hosts {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			blocked[i] = allBlocked(ctx, r, h)
		})
	}
	wg.Wait()
	return blocked
}

// allBlocked reports whether host resolves, and only to blocked addresses.
func allBlocked(ctx context.Context, r *net.Resolver, host string) bool {
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if !Blocked(a) {
			return false
		}
	}
	return true
}

// isLocalhost reports whether host is one of the names that resolve to the
// local machine by convention (RFC 6761, and the localhost.localdomain of
// many /etc/hosts files), whatever DNS says.
func isLocalhost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	h = strings.TrimSuffix(h, ".localdomain")
	return h == "localhost" || strings.HasSuffix(h, ".localhost")
}

// numericHost reports whether host, which is not a plain IP address, ends
// in a label made of a number. The WHATWG URL standard, curl and several
// proxies parse such hosts as IPv4 in shorthand, octal or hex ("127.1",
// "0177.0.0.1", "0x7f000001"), and no real top-level domain is numeric, so
// refusing them closes that door without refusing any real name.
func numericHost(host string) bool {
	h := strings.TrimSuffix(host, ".")
	if i := strings.LastIndexByte(h, '.'); i >= 0 {
		h = h[i+1:]
	}
	if h == "" {
		return false
	}
	if len(h) >= 2 && (h[:2] == "0x" || h[:2] == "0X") {
		h = h[2:]
		for _, c := range h {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
		return true
	}
	for _, c := range h {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
