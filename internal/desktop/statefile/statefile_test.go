package statefile

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestSetBoundedAndOrdered(t *testing.T) {
	s := NewSet(3)
	for _, k := range []string{"a", "b", "a", "c", "d"} {
		s.Add(k)
	}
	if got := s.Keys(); len(got) != 3 || got[0] != "b" || got[2] != "d" || s.Has("a") || !s.Has("b") {
		t.Fatalf("keys %v", got)
	}
	b, _ := json.Marshal(s)
	if string(b) != `["b","c","d"]` {
		t.Fatalf("json %s", b)
	}
	r := NewSet(2)
	if err := json.Unmarshal(b, r); err != nil || r.Has("b") || !r.Has("d") || r.Len() != 2 {
		t.Fatalf("reload %v %v", r.Keys(), err)
	}
	var zero Set
	if b, _ := json.Marshal(&zero); string(b) != "[]" {
		t.Fatalf("zero %s", b)
	}
}

func TestWriteJSONAtomicAndPerm(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "state.json")
	if ok, err := ReadJSON(p, &struct{}{}); ok || err != nil {
		t.Fatalf("missing: %v %v", ok, err)
	}
	if err := WriteJSON(p, map[string]int{"a": 1}, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(p, map[string]int{"a": 2}, 0o600); err != nil {
		t.Fatal(err)
	}
	var v map[string]int
	if ok, err := ReadJSON(p, &v); !ok || err != nil || v["a"] != 2 {
		t.Fatalf("read %v %v %v", ok, err, v)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Fatalf("temporary files left: %v", ents)
	}
	if runtime.GOOS != "windows" {
		fi, _ := os.Stat(p)
		if fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v", fi.Mode())
		}
	}
	os.WriteFile(p, []byte("{not json"), 0o600)
	if ok, err := ReadJSON(p, &v); !ok || err == nil {
		t.Fatal("corrupt file accepted")
	}
}
