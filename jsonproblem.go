package hookd

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// JSONProblem describes an encoding/json decoding error in words fit for a
// user. The API decodes request bodies with another decoder, whose errors
// httpapi words itself, falling back on this for the rest.
func JSONProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
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
	}
	return "invalid JSON"
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
