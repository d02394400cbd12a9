package storepg

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5/pgtype"
)

// byteas is a bytea[] parameter that the store's connections write in one
// piece (see registerByteas): a publish's thousand event payloads.
type byteas [][]byte

// registerByteas teaches m to write byteas parameters straight into the
// outgoing buffer, grown once to their whole size. pgx writes an array
// element by element onto a parameter buffer it starts at 256 bytes for
// every statement, boxing each element on the way, and Go grows a large
// slice a quarter at a time: a thousand 1.4 KB payloads were copied about
// forty times over, which made the buffer's growth an eighth of hookd's
// CPU while publishing. Every other value of bytea[] goes to pgx's own
// codec.
func registerByteas(m *pgtype.Map) error {
	t, ok := m.TypeForOID(pgtype.ByteaArrayOID)
	if !ok {
		return fmt.Errorf("register bytea[]: pgx knows no type of oid %d", pgtype.ByteaArrayOID)
	}
	m.RegisterType(&pgtype.Type{Name: t.Name, OID: t.OID, Codec: byteasCodec{Codec: t.Codec}})
	return nil
}

// byteasCodec is pgx's bytea[] codec, but for byteas in the binary format.
type byteasCodec struct{ pgtype.Codec }

func (c byteasCodec) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(byteas); ok && format == pgtype.BinaryFormatCode {
		return encodeByteas{}
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

// encodeByteas writes a byteas in PostgreSQL's binary array format (see
// array_send): the number of dimensions, whether any element is NULL, the
// elements' type, each dimension's length and lower bound, then each
// element as its length (-1 for NULL) and its bytes. As in pgx, a nil
// array is NULL, and so is a nil element.
type encodeByteas struct{}

func (encodeByteas) Encode(value any, buf []byte) ([]byte, error) {
	v := value.(byteas)
	if v == nil {
		return nil, nil
	}
	if len(v) > math.MaxInt32 {
		return nil, fmt.Errorf("bytea[] of %d elements: too many", len(v))
	}
	size, hasNull := 20, int32(0)
	for _, b := range v {
		if len(b) > math.MaxInt32 {
			return nil, fmt.Errorf("bytea of %d bytes: too long", len(b))
		}
		size += 4 + len(b)
		if b == nil {
			hasNull = 1
		}
	}
	buf = slices.Grow(buf, size)
	buf = binary.BigEndian.AppendUint32(buf, 1) // dimensions
	buf = binary.BigEndian.AppendUint32(buf, uint32(hasNull))
	buf = binary.BigEndian.AppendUint32(buf, pgtype.ByteaOID)
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(v)))
	buf = binary.BigEndian.AppendUint32(buf, 1) // lower bound
	for _, b := range v {
		if b == nil {
			buf = binary.BigEndian.AppendUint32(buf, math.MaxUint32) // -1
			continue
		}
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(b)))
		buf = append(buf, b...)
	}
	return buf, nil
}
