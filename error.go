package hookd

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to exactly one HTTP status in package httpapi.
const (
	ECONFLICT     = "CONFLICT"
	EINTERNAL     = "INTERNAL"
	EINVALID      = "BAD_REQUEST"
	ENOTFOUND     = "NOT_FOUND"
	ETOOLARGE     = "PAYLOAD_TOO_LARGE"
	ERATELIMITED  = "RATE_LIMITED"
	EUNAUTHORIZED = "UNAUTHORIZED"
	// EGONE answers a request to a disabled source (410).
	EGONE = "GONE"
	// EUNAVAILABLE says the store cannot take writes for now (its disk is
	// full, say): the request may succeed if sent again later (503).
	EUNAVAILABLE = "UNAVAILABLE"
)

// Error is an error a user may see: a code from the list above and a
// message that is safe to show.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("hookd: %s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err's *Error, INTERNAL for any other error
// and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err's *Error, or a generic
// message for any other error so that internals never leak.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// IsNotFound reports whether err carries the NOT_FOUND code.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
