package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hookd/hookd/webhook"
)

// headerList collects repeated --header flags.
type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, ", ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

// runVerify checks a signed payload: hookd verify --scheme stripe
// --prefix Alakazam --secret whsec_... --header 'Alakazam-Signature: t=...'
// < body.json
func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("hookd verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scheme := fs.String("scheme", "standard", "signature scheme: standard, stripe, hmac-hex, timestamped-hex")
	prefix := fs.String("prefix", "", "header prefix, e.g. Alakazam or X-WPG")
	secret := fs.String("secret", os.Getenv("HOOKD_VERIFY_SECRET"), "signing secret (env: HOOKD_VERIFY_SECRET)")
	bodyFile := fs.String("body", "-", "file holding the raw body; - reads standard input")
	tolerance := fs.Duration("tolerance", 5*time.Minute, "largest accepted timestamp age")
	var headers headerList
	fs.Var(&headers, "header", "a received header as 'Name: value' (repeatable)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *secret == "" {
		return errors.New("verify: --secret is required")
	}
	h := http.Header{}
	for _, line := range headers {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("verify: --header %q must be 'Name: value'", line)
		}
		h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	var body []byte
	var err error
	if *bodyFile == "-" {
		body, err = io.ReadAll(stdin)
	} else {
		body, err = os.ReadFile(*bodyFile)
	}
	if err != nil {
		return fmt.Errorf("verify: read body: %w", err)
	}
	opts := webhook.Options{Scheme: webhook.Scheme(*scheme), HeaderPrefix: *prefix, Tolerance: *tolerance}
	if err := webhook.Verify(opts, []string{*secret}, h, body); err != nil {
		fmt.Fprintln(stdout, "invalid:", err)
		return errors.New("signature is not valid")
	}
	fmt.Fprintln(stdout, "valid")
	return nil
}
