package blob

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPutOpenDelete(t *testing.T) {
	ctx := context.Background()
	s, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	content := "bulletin du premier trimestre"
	st, err := s.Put(ctx, strings.NewReader(content), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(content))
	if st.Size != int64(len(content)) || st.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("stored %+v", st)
	}
	r, err := s.Open(ctx, st.Key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r)
	r.Close()
	if string(b) != content {
		t.Fatalf("read %q", b)
	}
	var keys []string
	if err := s.Walk(ctx, func(k string) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != st.Key {
		t.Fatalf("walk %v", keys)
	}
	if err := s.Delete(ctx, st.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(ctx, st.Key); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open after delete: %v", err)
	}
	if err := s.Delete(ctx, st.Key); err != nil {
		t.Fatalf("second delete: %v", err)
	}
}

func TestLimitLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := NewDisk(dir)
	_, err := s.Put(context.Background(), strings.NewReader(strings.Repeat("x", 101)), 100)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v", err)
	}
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if !d.IsDir() {
			n++
		}
		return nil
	})
	if n != 0 {
		t.Fatalf("%d files left after a refused upload", n)
	}
	if _, err := s.Put(context.Background(), strings.NewReader(strings.Repeat("x", 100)), 100); err != nil {
		t.Fatalf("exactly the limit: %v", err)
	}
}

func TestKeysAreNotPaths(t *testing.T) {
	s, _ := NewDisk(t.TempDir())
	for _, k := range []string{"../../etc/passwd", "", "ABCDEF0123456789abcdef0123456789", "0123"} {
		if _, err := s.Open(context.Background(), k); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q) = %v", k, err)
		}
	}
}

func TestPutSniffed(t *testing.T) {
	s, err := NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	images := map[string]bool{"image/png": true}
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("x", 1000)
	st, ct, err := PutSniffed(ctx, s, strings.NewReader(png), 0, images)
	if err != nil || ct != "image/png" || st.Size != int64(len(png)) {
		t.Fatalf("png: %v %q %+v", err, ct, st)
	}
	// An SVG named like a PNG is refused: the type comes from the content.
	if _, ct, err := PutSniffed(ctx, s, strings.NewReader(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 0, images); !errors.Is(err, ErrType) {
		t.Fatalf("svg: %v %q", err, ct)
	}
	if _, _, err := PutSniffed(ctx, s, strings.NewReader(png), 100, images); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("limit: %v", err)
	}
}
