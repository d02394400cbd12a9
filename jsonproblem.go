package hookd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// JSONProblem describes a JSON decoding error in words fit for a user. It
// knows the errors of encoding/json and of github.com/go-json-experiment/json,
// which the API decodes request bodies with.
func JSONProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var semantic *jsonv2.SemanticError
	var syntactic *jsontext.SyntacticError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field != "" {
			return fmt.Sprintf("%s must be %s", typeErr.Field, jsonTypeName(typeErr.Type.Kind().String()))
		}
		return "wrong JSON type"
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("invalid JSON at byte %d", syntaxErr.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
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
			return fmt.Sprintf("%s must be %s", field, jsonTypeName(t.Kind().String()))
		}
		return "wrong JSON type"
	}
	return "invalid JSON"
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

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	default:
		return "a number"
	}
}
