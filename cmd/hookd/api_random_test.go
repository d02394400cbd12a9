package main

import (
	"bytes"
	"math/rand/v2"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Random requests at every route: random bytes, random JSON-ish
// mutations of a valid body, random query strings and path segments.
// No answer may be a 5xx, every one is a success or a 4xx in the error
// format, and the server keeps serving. The seed is fixed, and printed,
// so that a failure reproduces.

// randomSeed seeds the random requests; HOOKD_TEST_SEED sets another, to
// explore further or to replay a failure.
func randomSeed(tb testing.TB) uint64 {
	tb.Helper()
	v := os.Getenv("HOOKD_TEST_SEED")
	if v == "" {
		return 20261207
	}
	seed, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		tb.Fatalf("HOOKD_TEST_SEED=%q: %v", v, err)
	}
	return seed
}

// randomPerRoute is how many random requests each route gets.
const randomPerRoute = 200

// TestHostileRandomRequests sends random requests to every route.
func TestHostileRandomRequests(t *testing.T) {
	t.Parallel()
	w := hostileSetup(t)
	table := hostileRoutes(w.rc.URL)
	seed := randomSeed(t)
	t.Logf("seed %d (HOOKD_TEST_SEED), %d requests a route", seed, randomPerRoute)
	rng := rand.New(rand.NewPCG(seed, seed))
	for _, pattern := range destructiveLast(w.routes(t)) {
		rt, ok := table[pattern]
		if !ok {
			t.Fatalf("route %q has no row in hostileRoutes", pattern)
		}
		method, path := w.path(pattern, nil)
		if rt.raw {
			w.resetSourceSecret(t) // for the signed requests
		}
		statuses := map[int]int{}
		for i := range randomPerRoute {
			c := randomCase(rng, rt)
			c.path = path
			if rng.IntN(8) == 0 {
				c.path = randomPath(rng, w, pattern)
			}
			c.name = "random request " + strconv.Itoa(i)
			c.mayPass = true
			r := w.send(t, method, c.path, c)
			statuses[r.Status]++
			failed := t.Failed()
			checkAnswer(t, pattern, c, r)
			if !failed && t.Failed() {
				t.Logf("the first failing request (seed %d): %s %s?%s, Content-Type %q, body %.300q", seed, method, c.path, c.query, c.contentType, c.body)
			}
		}
		t.Logf("%s: statuses %v", pattern, statuses)
		w.alive(t, pattern+" with random requests")
	}
}

// destructiveLast orders routes so that those which delete the world's
// objects come last, the app's own deletion at the very end.
func destructiveLast(routes []string) []string {
	out := slices.Clone(routes)
	rank := func(p string) int {
		switch {
		case p == "DELETE /v1/apps/{app}":
			return 2
		case strings.HasPrefix(p, "DELETE ") || strings.HasSuffix(p, "/delete"):
			return 1
		}
		return 0
	}
	slices.SortStableFunc(out, func(a, b string) int { return rank(a) - rank(b) })
	return out
}

// randomCase makes one random body and query for a route.
func randomCase(rng *rand.Rand, rt hostileRoute) hostileCase {
	var c hostileCase
	switch k := rng.IntN(10); {
	case k < 2:
		c.body = randomBytes(rng, rng.IntN(512))
	case k < 8 && rt.body != "":
		c.body = mutateJSON(rng, []byte(rt.body))
	case k < 8 && rt.raw:
		c.body = mutateJSON(rng, []byte(`{"action":"opened","number":1}`))
	}
	if c.body != nil && rng.IntN(10) == 0 {
		c.contentType = []string{"text/plain", "application/xml", "multipart/form-data", "application/json; charset=latin1", ";;", "application/merge-patch+json"}[rng.IntN(6)]
	}
	if rt.raw && rng.IntN(2) == 0 {
		// Signed by the sender: the signature holds, the rest is hostile.
		c = githubSigned("random", c.body, headerText(rng), headerText(rng))
		if rng.IntN(3) == 0 {
			c.contentType = headerText(rng)
		}
		if rng.IntN(3) == 0 {
			c.header["X-Junk"] = []string{headerText(rng)}
		}
	}
	if rng.IntN(3) == 0 {
		c.query = randomQuery(rng, rt)
	}
	return c
}

// headerText is a random header value Go's client will send: no control
// characters, bytes above 0x7f allowed.
func headerText(rng *rand.Rand) string {
	b := randomBytes(rng, rng.IntN(300))
	for i, c := range b {
		if c < 0x20 || c == 0x7f {
			b[i] = 'x'
		}
	}
	return string(b)
}

// jsonTokens are the pieces mutateJSON splices into bodies.
var jsonTokens = []string{
	`"`, `{`, `}`, `[`, `]`, `,`, `:`, `\`, `null`, `true`, `1e400`, `-0`, `-1`, `1.5`, `"\u0000"`, `"\ud800"`,
	`"x":1,`, "\xff", "\x00", `"` + strings.Repeat("a", 3000) + `"`, strings.Repeat("[", 300), `{"a":{"a":{}}}`, `""`,
}

// jsonValues are the values mutateJSON puts where a value was.
var jsonValues = []string{
	`null`, `true`, `false`, `0`, `-1`, `1.5`, `1e400`, `9223372036854775808`, `"x"`, `""`, `[]`, `{}`, `[1,"a",null]`,
	`{"a":{"b":[]}}`, `"a\u0000b"`, `"\u001f"`, `"nope"`, `["*"]`, `{"X-A":"1"}`, `"https://8.8.8.8/"`, `"2020-01-01T00:00:00Z"`,
}

// mutateJSON changes a valid JSON body a few times at random.
func mutateJSON(rng *rand.Rand, valid []byte) []byte {
	b := bytes.Clone(valid)
	for range 1 + rng.IntN(4) {
		if len(b) == 0 {
			b = append(b, jsonTokens[rng.IntN(len(jsonTokens))]...)
			continue
		}
		at := rng.IntN(len(b))
		switch rng.IntN(6) {
		case 0: // change one byte
			b[at] = byte(rng.IntN(256))
		case 1: // splice in a token
			b = slices.Insert(b, at, []byte(jsonTokens[rng.IntN(len(jsonTokens))])...)
		case 2: // cut a range
			b = slices.Delete(b, at, min(len(b), at+1+rng.IntN(8)))
		case 3: // repeat a range
			end := min(len(b), at+1+rng.IntN(16))
			b = slices.Insert(b, end, bytes.Clone(b[at:end])...)
		case 4: // replace the value after a colon
			if i := bytes.IndexByte(b[at:], ':'); i >= 0 {
				start := at + i + 1
				end := start
				for end < len(b) && b[end] != ',' && b[end] != '}' {
					end++
				}
				b = slices.Replace(b, start, end, []byte(jsonValues[rng.IntN(len(jsonValues))])...)
			}
		case 5: // add a field
			if i := bytes.IndexByte(b, '{'); i >= 0 {
				f := `"` + []string{"url", "name", "type", "data", "events", "status", "secret", "x", ""}[rng.IntN(9)] + `":` + jsonValues[rng.IntN(len(jsonValues))] + `,`
				b = slices.Insert(b, i+1, []byte(f)...)
			}
		}
	}
	return b
}

// randomQuery makes a query string of the route's parameters and others,
// with random values.
func randomQuery(rng *rand.Rand, rt hostileRoute) string {
	keys := append(slices.Clone(rt.query), "limit", "after", "status", "webhook_id", "x", string(randomBytes(rng, 4)))
	var parts []string
	for range 1 + rng.IntN(4) {
		k := keys[rng.IntN(len(keys))]
		var v string
		switch rng.IntN(5) {
		case 0:
			v = strconv.Itoa(rng.IntN(600) - 100)
		case 1:
			v = "wh_01jab3c4d5e6f7g8h9j0k1m2n3"
		case 2:
			v = string(randomBytes(rng, rng.IntN(40)))
		case 3:
			v = []string{"pending", "succeeded", "failed", "held", "PENDING", "", "1e2", "-0"}[rng.IntN(8)]
		default:
			v = strings.Repeat("a", rng.IntN(5000))
		}
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
	}
	if rng.IntN(10) == 0 {
		parts = append(parts, []string{"%zz", "&&", "=", "limit", "after=%00", "limit=%ff"}[rng.IntN(6)])
	}
	return strings.Join(parts, "&")
}

// randomPath is the route's path with one parameter replaced by random
// bytes, escaped.
func randomPath(rng *rand.Rand, w *hostileWorld, pattern string) string {
	_, p, _ := strings.Cut(pattern, " ")
	var params []string
	for _, seg := range strings.Split(p, "/") {
		if strings.HasPrefix(seg, "{") {
			params = append(params, strings.Trim(seg, "{}"))
		}
	}
	if len(params) == 0 {
		_, path := w.path(pattern, nil)
		return path
	}
	v := url.PathEscape(string(randomBytes(rng, 1+rng.IntN(64))))
	_, path := w.path(pattern, map[string]string{params[rng.IntN(len(params))]: v})
	return path
}

// randomBytes returns n random bytes, half the time printable ASCII.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	printable := rng.IntN(2) == 0
	for i := range b {
		if printable {
			b[i] = byte(0x20 + rng.IntN(0x5f))
		} else {
			b[i] = byte(rng.IntN(256))
		}
	}
	return b
}
