package storepg

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hookd/hookd"
)

// unavailable returns err with the code UNAVAILABLE when it says that
// the database takes no writes for now, for any row: it does not answer
// (refused, shut down, starting) or its disk is full. Callers then answer
// 503, and the recorder keeps its batch rather than look for a poisoned
// row in it. Other errors are returned as they are.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	var why string
	var pe *pgconn.PgError
	var ce *pgconn.ConnectError
	switch {
	case errors.As(err, &pe):
		switch {
		case pe.Code == "53100":
			why = "the store cannot write: disk full"
		case strings.HasPrefix(pe.Code, "08"), pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03":
			why = "the database does not answer"
		}
	case errors.As(err, &ce), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		why = "the database does not answer"
	}
	if why == "" {
		return err
	}
	return fmt.Errorf("%w: %w", hookd.Errorf(hookd.EUNAVAILABLE, "%s", why), err)
}
