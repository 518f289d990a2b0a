package engine

import (
	"io/fs"
	"strconv"
	"strings"

	"github.com/mimirons-goldomatic/mgm/internal/ebsapi"
)

var errNotExist = fs.ErrNotExist

// updateMessage is the in-game answer to /mgm update (the predecessor's
// Russian texts, in proper UTF-8).
func updateMessage(current string, v ebsapi.VersionInfo, err error) string {
	const p = "Mimiron's Gold-o-Matic: "
	cur := normalizeVersion(current)
	if err != nil || strings.TrimSpace(v.Version) == "" {
		return p + "Не удалось проверить обновления. Убедитесь, что Desktop-приложение подключено к интернету."
	}
	latest := normalizeVersion(v.Version)
	var msg string
	if CompareVersions(latest, cur) > 0 {
		msg = p + "Доступна новая версия v" + latest + " (у вас v" + cur + ")."
		if v.ReleaseNotesURL != nil && strings.TrimSpace(*v.ReleaseNotesURL) != "" {
			u := strings.TrimSpace(*v.ReleaseNotesURL)
			if len(u) > 80 {
				u = u[:77] + "..."
			}
			msg += " Подробнее: " + u
		}
	} else {
		msg = p + "Вы используете актуальную версию (v" + cur + ")."
	}
	if v.MinimumDesktopVersion != nil && strings.TrimSpace(*v.MinimumDesktopVersion) != "" &&
		CompareVersions(cur, *v.MinimumDesktopVersion) < 0 {
		msg += " Текущая версия v" + cur + " ниже минимальной поддерживаемой."
	}
	return msg
}

// normalizeVersion trims build metadata ("1.0.0+abc" → "1.0.0").
func normalizeVersion(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "+;"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
}

// CompareVersions compares semantic versions (1–3 numeric parts, optional
// "v", pre-release and build suffixes ignored); anything else compares as
// case-insensitive strings.
func CompareVersions(a, b string) int {
	pa, oka := parseVersion(a)
	pb, okb := parseVersion(b)
	if oka && okb {
		for i := 0; i < 3; i++ {
			if pa[i] != pb[i] {
				if pa[i] > pb[i] {
					return 1
				}
				return -1
			}
		}
		return 0
	}
	return strings.Compare(strings.ToLower(strings.TrimSpace(a)), strings.ToLower(strings.TrimSpace(b)))
}

func parseVersion(s string) ([3]int, bool) {
	var out [3]int
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	if i := strings.IndexAny(s, "-+"); i >= 0 {
		s = s[:i]
	}
	var parts []string
	for _, p := range strings.Split(s, ".") {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) < 1 || len(parts) > 3 {
		return out, false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return out, false
		}
		out[i] = n
	}
	return out, true
}
