package dashboard

import (
	"strings"

	"github.com/hookd/hookd"
)

// verifySnippet is copyable receiver code in one language.
type verifySnippet struct {
	Lang string
	Note string
	Code string
}

// verifySnippets are receiver code for the app's signing scheme, in
// Node, Python and Go. The standard scheme points at the Standard
// Webhooks libraries; the others are a few lines of HMAC.
func verifySnippets(p hookd.Profile) []verifySnippet {
	prefix := p.Signature.HeaderPrefix
	lower := strings.ToLower(prefix)
	switch p.Signature.Scheme {
	case hookd.SchemeStripe:
		h := lower + "-signature"
		return []verifySnippet{
			{"Node", "Header " + prefix + "-Signature: t=…,v1=…; signed bytes: {t}.{raw body}", `import crypto from "node:crypto";

// rawBody: the request body as a Buffer, before any JSON parsing.
export function verify(rawBody, header, secret) {
  const parts = Object.fromEntries(header.split(",").map((p) => p.split("=")));
  const t = Number(parts.t);
  if (Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = crypto.createHmac("sha256", secret)
    .update(t + "." + rawBody).digest("hex");
  return header.split(",").some((p) => p.startsWith("v1=") &&
    crypto.timingSafeEqual(Buffer.from(p.slice(3)), Buffer.from(expected)));
}
// verify(req.rawBody, req.headers["` + h + `"], process.env.WEBHOOK_SECRET)`},
			{"Python", "Header " + prefix + "-Signature", `import hashlib, hmac, time

def verify(raw_body: bytes, header: str, secret: str) -> bool:
    parts = [p.split("=", 1) for p in header.split(",")]
    t = int(dict(parts)["t"])
    if abs(time.time() - t) > 300:
        return False
    expected = hmac.new(secret.encode(), f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return any(k == "v1" and hmac.compare_digest(v, expected) for k, v in parts)

# verify(request.get_data(), request.headers["` + prefix + `-Signature"], secret)`},
			{"Go", "Or use github.com/hookd/hookd/webhook: webhook.Verify", `import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

func verify(body []byte, header, secret string) bool {
	var ts string
	var sigs []string
	for _, p := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(p, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(t, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	want := hex.EncodeToString(m.Sum(nil))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}
// verify(body, r.Header.Get("` + prefix + `-Signature"), secret)`},
		}
	case hookd.SchemeHMACHex, hookd.SchemeTimestampedHex:
		ts := p.Signature.Scheme == hookd.SchemeTimestampedHex
		signed, nodeMsg, pyMsg, goMsg := "{raw body}", "rawBody", "raw_body", "body"
		nodeTS, pyTS, goTS := "", "", ""
		if ts {
			signed = "{" + prefix + "-Timestamp}.{raw body}"
			nodeMsg = "ts + \".\" + rawBody"
			pyMsg = "f\"{ts}.\".encode() + raw_body"
			goMsg = "append([]byte(ts+\".\"), body...)"
			nodeTS = `  const ts = req.headers["` + lower + `-timestamp"];
  if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) return false;
`
			pyTS = `    ts = headers["` + prefix + `-Timestamp"]
    if abs(time.time() - int(ts)) > 300:
        return False
`
			goTS = `	ts := r.Header.Get("` + prefix + `-Timestamp")
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(t, 0)).Abs() > 5*time.Minute {
		return false
	}
`
		}
		return []verifySnippet{
			{"Node", "Header " + prefix + "-Signature: hex HMAC-SHA256 of " + signed, `import crypto from "node:crypto";

// rawBody: the request body as a string, before any JSON parsing.
export function verify(req, rawBody, secret) {
` + nodeTS + `  const expected = crypto.createHmac("sha256", secret).update(` + nodeMsg + `).digest("hex");
  const got = String(req.headers["` + lower + `-signature"] || "");
  return got.length === expected.length &&
    crypto.timingSafeEqual(Buffer.from(got), Buffer.from(expected));
}`},
			{"Python", "Header " + prefix + "-Signature", `import hashlib, hmac, time

def verify(headers, raw_body: bytes, secret: str) -> bool:
` + pyTS + `    expected = hmac.new(secret.encode(), ` + pyMsg + `, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers.get("` + prefix + `-Signature", ""), expected)`},
			{"Go", "Or use github.com/hookd/hookd/webhook: webhook.Verify", `import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

func verify(r *http.Request, body []byte, secret string) bool {
` + goTS + `	m := hmac.New(sha256.New, []byte(secret))
	m.Write(` + goMsg + `)
	want := hex.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(r.Header.Get("` + prefix + `-Signature")), []byte(want))
}`},
		}
	}
	return []verifySnippet{
		{"Node", "Standard Webhooks: npm install standardwebhooks", `import { Webhook } from "standardwebhooks";

const wh = new Webhook(process.env.WEBHOOK_SECRET); // "whsec_…"
// rawBody: the request body as a string, before any JSON parsing.
// Throws when the signature or timestamp is wrong.
const event = wh.verify(rawBody, {
  "webhook-id": req.headers["webhook-id"],
  "webhook-timestamp": req.headers["webhook-timestamp"],
  "webhook-signature": req.headers["webhook-signature"],
});`},
		{"Python", "Standard Webhooks: pip install standardwebhooks", `from standardwebhooks.webhooks import Webhook

wh = Webhook(os.environ["WEBHOOK_SECRET"])  # "whsec_…"
# raw_body: the request body as bytes, before any JSON parsing.
# Raises when the signature or timestamp is wrong.
event = wh.verify(raw_body, {
    "webhook-id": request.headers["webhook-id"],
    "webhook-timestamp": request.headers["webhook-timestamp"],
    "webhook-signature": request.headers["webhook-signature"],
})`},
		{"Go", "github.com/standard-webhooks/standard-webhooks/libraries/go, or hookd's own webhook package", `import "github.com/hookd/hookd/webhook"

func handler(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	// secret: "whsec_…"
	opts := webhook.Options{Scheme: webhook.Standard}
	if err := webhook.Verify(opts, []string{secret}, r.Header, body); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	// body is the event; answer 2xx quickly.
}`},
	}
}
