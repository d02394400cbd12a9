package hookd

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

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
		if errors.Is(syntactic.Err, jsontext.ErrDuplicateName) {
			return fmt.Sprintf("duplicate field %s", fieldPath(syntactic.JSONPointer))
		}
		return fmt.Sprintf("invalid JSON at byte %d", syntactic.ByteOffset)
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

// fieldPath writes a JSON pointer as a path a user reads: /events/3/type
// becomes events[3].type.
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.ParseUint(tok, 10, 64); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
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
