package store

import "fmt"

// SealSecrets seals a current secret and, when set, the previous one that
// still verifies during a rotation's grace period.
func SealSecrets(s Sealer, current, previous string) (cur, prev []byte, err error) {
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
func OpenSecrets(s Sealer, cur, prev []byte) (current, previous string, err error) {
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
