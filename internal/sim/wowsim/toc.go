package wowsim

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// TOC is an addon's table of contents (<AddonName>.toc).
type TOC struct {
	// Meta holds the "## Key: value" lines (Interface, Title, Version, …).
	Meta map[string]string
	// SavedVariables lists the global names the client persists.
	SavedVariables []string
	// Files are the Lua files in load order, relative to the addon folder,
	// with "/" separators.
	Files []string
}

// ReadTOC reads <dir>/<base of dir>.toc, the file the client looks for.
func ReadTOC(dir string) (TOC, error) {
	name := filepath.Base(filepath.Clean(dir))
	f, err := os.Open(filepath.Join(dir, name+".toc"))
	if err != nil {
		return TOC{}, fmt.Errorf("wowsim: addon %s: %w", name, err)
	}
	defer func() { _ = f.Close() }() // opened for reading: closing loses nothing
	return ParseTOC(f)
}

// ParseTOC parses .toc content: "## Key: value" metadata, "#" comments, and
// one file path per remaining non-blank line.
func ParseTOC(r io.Reader) (TOC, error) {
	toc := TOC{Meta: map[string]string{}}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		switch {
		case line == "":
		case strings.HasPrefix(line, "##"):
			key, value, ok := strings.Cut(strings.TrimSpace(line[2:]), ":")
			if !ok {
				continue
			}
			key, value = strings.TrimSpace(key), strings.TrimSpace(value)
			toc.Meta[key] = value
			if strings.EqualFold(key, "SavedVariables") {
				for _, v := range strings.Split(value, ",") {
					if v = strings.TrimSpace(v); v != "" {
						toc.SavedVariables = append(toc.SavedVariables, v)
					}
				}
			}
		case strings.HasPrefix(line, "#"):
		default:
			toc.Files = append(toc.Files, strings.ReplaceAll(line, `\`, "/"))
		}
	}
	if err := sc.Err(); err != nil {
		return TOC{}, err
	}
	return toc, nil
}
