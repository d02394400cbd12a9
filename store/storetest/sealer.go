package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"sync"

	"github.com/hookd/hookd/store"
)

// Sealer wraps a real Sealer and records what passes through it, so
// that the suite can tell, without reading any database, that secrets are
// sealed before they are stored and opened after they are read. Its Open
// refuses bytes its Seal did not produce: a store that kept a secret in
// plaintext and handed it back to Open fails loudly.
type Sealer struct {
	inner store.Sealer

	mu       sync.Mutex
	sealed   [][]byte // plaintexts given to Seal
	outputs  [][]byte // what Seal returned
	opened   [][]byte // plaintexts Open returned
	problems []string
}

var _ store.Sealer = (*Sealer)(nil)

// Seal implements store.Sealer.
func (s *Sealer) Seal(plaintext []byte) ([]byte, error) {
	out, err := s.inner.Seal(plaintext)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sealed = append(s.sealed, bytes.Clone(plaintext))
	s.outputs = append(s.outputs, bytes.Clone(out))
	if len(plaintext) >= 8 && bytes.Contains(out, plaintext) {
		s.problems = append(s.problems, fmt.Sprintf("sealed value contains its plaintext %q", plaintext))
	}
	return out, nil
}

// Open implements store.Sealer.
func (s *Sealer) Open(sealed []byte) ([]byte, error) {
	s.mu.Lock()
	known := slices.ContainsFunc(s.outputs, func(o []byte) bool { return bytes.Equal(o, sealed) })
	if !known {
		s.problems = append(s.problems, fmt.Sprintf("Open was given %d bytes that Seal never produced", len(sealed)))
	}
	s.mu.Unlock()
	if !known {
		return nil, fmt.Errorf("storetest: Open of a value Seal never produced")
	}
	plain, err := s.inner.Open(sealed)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.opened = append(s.opened, bytes.Clone(plain))
	s.mu.Unlock()
	return plain, nil
}

// Sealed reports whether Seal was given secret.
func (s *Sealer) Sealed(secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.sealed, func(p []byte) bool { return string(p) == secret })
}

// Opened reports whether Open returned secret.
func (s *Sealer) Opened(secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.opened, func(p []byte) bool { return string(p) == secret })
}

// Problems returns what the Sealer saw go wrong.
func (s *Sealer) Problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.problems)
}
