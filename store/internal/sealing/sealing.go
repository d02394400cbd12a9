// Package sealing seals the secrets a store keeps (webhook and source
// signing secrets, credential headers) with a store.Sealer before they are
// written, and opens them as they are read.
package sealing

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/hookd/hookd"
	"github.com/hookd/hookd/store"
)

// SealSecrets seals a current secret and, when set, the previous one that
// still verifies during a rotation's grace period.
func SealSecrets(s store.Sealer, current, previous string) (cur, prev []byte, err error) {
	if cur, err = s.Seal([]byte(current)); err != nil {
		return nil, nil, fmt.Errorf("seal secret: %w", err)
	}
	if previous != "" {
		if prev, err = s.Seal([]byte(previous)); err != nil {
			return nil, nil, fmt.Errorf("seal previous secret: %w", err)
		}
	}
	return cur, prev, nil
}

// OpenSecrets opens what SealSecrets sealed; an empty prev opens to "".
func OpenSecrets(s store.Sealer, cur, prev []byte) (current, previous string, err error) {
	plain, err := s.Open(cur)
	if err != nil {
		return "", "", fmt.Errorf("open secret: %w", err)
	}
	current = string(plain)
	if len(prev) > 0 {
		if plain, err = s.Open(prev); err != nil {
			return "", "", fmt.Errorf("open previous secret: %w", err)
		}
		previous = string(plain)
	}
	return current, previous, nil
}

// sealedHeaderMark starts a credential header's stored value that is
// sealed: a line feed, which no header value can hold (the API refuses
// one), so that a value stored in clear by an older hookd is never taken
// for a sealed one.
const sealedHeaderMark = "\nsealed:"

// SealHeaders returns a copy of a webhook's custom headers fit for
// storing: the value of every credential header (hookd.CredentialHeader)
// is sealed and written as sealedHeaderMark followed by its base64.
func SealHeaders(s store.Sealer, h map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(h))
	for k, v := range h {
		if hookd.CredentialHeader(k) {
			sealed, err := s.Seal([]byte(v))
			if err != nil {
				return nil, fmt.Errorf("seal header %s: %w", k, err)
			}
			v = sealedHeaderMark + base64.StdEncoding.EncodeToString(sealed)
		}
		out[k] = v
	}
	return out, nil
}

// OpenHeaders opens what SealHeaders sealed, in place. A value without
// the mark is used as stored: a credential header written in clear by an
// older hookd keeps working, and is sealed the next time its webhook is
// written.
func OpenHeaders(s store.Sealer, h map[string]string) error {
	for k, v := range h {
		enc, ok := strings.CutPrefix(v, sealedHeaderMark)
		if !ok {
			continue
		}
		sealed, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return fmt.Errorf("open header %s: %w", k, err)
		}
		plain, err := s.Open(sealed)
		if err != nil {
			return fmt.Errorf("open header %s: %w", k, err)
		}
		h[k] = string(plain)
	}
	return nil
}
