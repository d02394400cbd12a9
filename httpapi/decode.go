package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/hookd/hookd"
)

// decode reads a JSON body of at most limit bytes into v. An empty body
// decodes as {}.
//
// Bodies are decoded with github.com/go-json-experiment/json, the
// proposed encoding/json/v2: a batch publish carries up to a megabyte of
// event data, and encoding/json spent 11 µs on each 1 KiB event of it
// against 2 µs. Its rules are stricter than encoding/json's: a field name
// matches only as written, appears once, and strings are valid UTF-8.
func decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := readBody(w, r, limit)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := checkJSONContentType(r.Header.Get("Content-Type")); err != nil {
		return err
	}
	dec := jsontext.NewDecoder(bytes.NewReader(body))
	if err := jsonv2.UnmarshalDecode(dec, v); err != nil {
		return hookd.Errorf(hookd.EINVALID, "request body: %s", jsonProblem(err))
	}
	if len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 {
		return hookd.Errorf(hookd.EINVALID, "request body must be one JSON value")
	}
	return nil
}

// checkJSONContentType refuses a body declared as something other than
// JSON. An absent type, and curl's default for -d
// (application/x-www-form-urlencoded), are read as JSON, as the quick
// start's commands send them.
func checkJSONContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return hookd.Errorf(hookd.EINVALID, "Content-Type must be application/json: %.80q does not parse", ct)
	}
	if mt == "application/json" || mt == "application/x-www-form-urlencoded" || strings.HasSuffix(mt, "+json") {
		return nil
	}
	return hookd.Errorf(hookd.EINVALID, "Content-Type must be application/json, not %s", mt)
}

// readBody reads a request body of at most limit bytes, into a buffer
// sized by its Content-Length when it has one.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	tooLarge := func() error {
		return hookd.Errorf(hookd.ETOOLARGE, "the request body must be at most %d bytes", limit)
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	size := int64(bytes.MinRead)
	if r.ContentLength > 0 {
		size += r.ContentLength // ReadFrom grows a buffer with less room than MinRead
	}
	body := bytes.NewBuffer(make([]byte, 0, size))
	_, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	var maxBytes *http.MaxBytesError
	switch {
	case errors.As(err, &maxBytes):
		return nil, tooLarge()
	case err != nil:
		return nil, hookd.Errorf(hookd.EINVALID, "request body: %v", err)
	}
	return body.Bytes(), nil
}

// jsonProblem describes an error of decode in words fit for a user: the
// decoder's own errors here, encoding/json's (which a type's UnmarshalJSON
// may return) by hookd.JSONProblem.
func jsonProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var semantic *jsonv2.SemanticError
	var syntactic *jsontext.SyntacticError
	switch {
	case errors.As(err, &typeErr), errors.As(err, &syntaxErr), strings.HasPrefix(err.Error(), "json: unknown field "):
		return hookd.JSONProblem(err)
	case errors.As(err, &syntactic):
		field := fieldPath(syntactic.JSONPointer)
		if errors.Is(syntactic.Err, jsontext.ErrDuplicateName) {
			return fmt.Sprintf("duplicate field %s", field)
		}
		msg := fmt.Sprintf("invalid JSON at byte %d", syntactic.ByteOffset)
		if field != "" {
			msg += " (in " + field + ")"
		}
		if why := syntaxReason(syntactic.Err); why != "" {
			msg += ": " + why
		}
		return msg
	case errors.As(err, &semantic):
		field := fieldPath(semantic.JSONPointer)
		switch {
		case errors.Is(semantic.Err, jsonv2.ErrUnknownName):
			return "unknown field " + field
		case field != "" && semantic.GoType != nil:
			t := semantic.GoType
			for t.Kind() == reflect.Pointer {
				t = t.Elem()
			}
			// Worded as encoding/json's error of the same kind.
			return hookd.JSONProblem(&json.UnmarshalTypeError{Field: field, Type: t})
		}
		return "wrong JSON type"
	}
	return hookd.JSONProblem(err)
}

// syntaxReason says in words why the decoder stopped, for the causes a
// user can act on; its own messages quote the input, which may be
// anything.
func syntaxReason(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "UTF-8"):
		return "invalid UTF-8"
	case strings.Contains(msg, "surrogate"):
		return "a lone UTF-16 surrogate in a string"
	case strings.Contains(msg, "in string"):
		return "a control character in a string (escape it)"
	case strings.Contains(msg, "max depth"):
		return "nested too deeply"
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of input"
	}
	return ""
}

// maxFieldPath bounds a field path in a message: a body nested thousands
// deep makes a pointer of thousands of tokens.
const maxFieldPath = 80

// fieldPath writes a JSON pointer as a path a user reads: /events/3/type
// becomes events[3].type.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if b.Len() > maxFieldPath {
			b.WriteString("...")
			break
		}
		if _, err := strconv.ParseUint(tok, 10, 64); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(readableKey(tok))
	}
	return b.String()
}

// readableKey returns an object key as a message shows it: as it is when
// it is short plain text, else quoted with escapes, cut short.
func readableKey(k string) string {
	plain := len(k) <= maxFieldPath && utf8.ValidString(k)
	for _, r := range k {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			plain = false
		}
	}
	if plain {
		return k
	}
	if len(k) > maxFieldPath {
		k = strings.ToValidUTF8(k[:maxFieldPath], "") + "..."
	}
	return strconv.QuoteToASCII(k)
}
