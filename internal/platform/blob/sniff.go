package blob

import (
	"bufio"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
)

// ErrType is returned by PutSniffed for content of a type not allowed.
var ErrType = errors.New("blob: type de fichier refusé")

// PutSniffed stores r like Put, after reading its type from its first bytes (never
// from a name the user gave): types not in allowed are refused with ErrType. It
// returns what was stored and the detected media type ("image/png").
func PutSniffed(ctx context.Context, s *Store, r io.Reader, limit int64, allowed map[string]bool) (Stored, string, error) {
	br := bufio.NewReaderSize(r, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) {
		return Stored{}, "", err
	}
	ct, _, _ := mime.ParseMediaType(http.DetectContentType(head))
	if !allowed[ct] {
		return Stored{}, ct, ErrType
	}
	st, err := s.Put(ctx, br, limit)
	return st, ct, err
}
