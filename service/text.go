package service

import (
	"unicode/utf8"

	"github.com/hookd/hookd"
)

// checkText refuses control characters in text an operator or customer
// gives: NUL, which PostgreSQL cannot store in text, and the other C0
// controls and DEL, which no name needs and which garble logs and the
// dashboard. Multi-line text (descriptions, metadata values) may hold
// tabs and line breaks. The request decoder has refused invalid UTF-8.
func checkText(field, v string, multiline bool) error {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c >= 0x20 && c != 0x7f {
			continue
		}
		if multiline && (c == '\t' || c == '\n' || c == '\r') {
			continue
		}
		if c == 0 {
			return hookd.Errorf(hookd.EINVALID, "%s must not contain NUL characters", field)
		}
		return hookd.Errorf(hookd.EINVALID, "%s must not contain control characters", field)
	}
	return nil
}

// maxDescription is how many characters a description may have.
const maxDescription = 2000

// checkDescription checks a webhook's, source's or event type's
// description.
func checkDescription(v string) error {
	if utf8.RuneCountInString(v) > maxDescription {
		return hookd.Errorf(hookd.EINVALID, "description must be at most %d characters", maxDescription)
	}
	return checkText("description", v, true)
}
