package procs

import (
	"sort"
	"strings"
)

// weakFamilies maps OpenSSL cipher-string words and suite-name fragments
// to the weak family they enable.
var weakFamilies = []struct {
	family string
	match  func(w string) bool
}{
	{"NULL (no encryption)", func(w string) bool {
		return w == "NULL" || w == "eNULL" || w == "COMPLEMENTOFALL" || strings.Contains(w, "NULL-") || strings.HasSuffix(w, "-NULL")
	}},
	{"anonymous (aNULL)", func(w string) bool {
		return w == "aNULL" || w == "ADH" || w == "AECDH" || strings.HasPrefix(w, "ADH-") || strings.HasPrefix(w, "AECDH-")
	}},
	{"EXPORT", func(w string) bool {
		return w == "EXP" || w == "EXPORT" || strings.HasPrefix(w, "EXP-") || strings.HasPrefix(w, "EXPORT")
	}},
	{"RC4", func(w string) bool { return w == "RC4" || strings.Contains(w, "RC4") }},
	{"DES", func(w string) bool {
		return w == "DES" || w == "3DES" || strings.Contains(w, "DES-CBC") || strings.HasPrefix(w, "DES-") || strings.Contains(w, "-DES-")
	}},
	{"MD5", func(w string) bool { return w == "MD5" || strings.HasSuffix(w, "-MD5") }},
	{"@SECLEVEL=0 (every weak suite and protocol)", func(w string) bool { return strings.EqualFold(w, "@SECLEVEL=0") }},
}

// WeakCiphers lists the weak families an OpenSSL cipher string enables:
// a word without '!' or '-' that names one, and that no '!' word removes
// again (OpenSSL's '!' is permanent).
func WeakCiphers(list string) []string {
	enabled := map[string]bool{}
	removed := map[string]bool{}
	for _, word := range strings.FieldsFunc(list, func(r rune) bool { return r == ':' || r == ' ' || r == ',' || r == ';' }) {
		neg := strings.HasPrefix(word, "!") || strings.HasPrefix(word, "-")
		word = strings.TrimLeft(word, "!-+")
		for _, part := range strings.Split(word, "+") {
			for _, fam := range weakFamilies {
				if fam.match(part) {
					if neg {
						removed[fam.family] = true
					} else {
						enabled[fam.family] = true
					}
				}
			}
		}
	}
	var out []string
	for fam := range enabled {
		if !removed[fam] || strings.HasPrefix(fam, "@SECLEVEL") {
			out = append(out, fam)
		}
	}
	sort.Strings(out)
	return out
}
