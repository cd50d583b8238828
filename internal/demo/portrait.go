package demo

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
)

// demoPortrait is a generated placeholder portrait for a demo holder: a
// head-and-shoulders silhouette on an ID-photo background, as an SVG data:
// URI. The tint follows the name so two demo holders look different, and
// the surname is drawn in so a screenshot cannot pass for a real photo.
func demoPortrait(name, sex string) string {
	h := fnv.New32a()
	_, _ = h.Write([]byte(name))
	hue := h.Sum32() % 360
	hair := "#2b2b2b"
	if sex == "女" {
		hair = "#3a2a22"
	}
	first := []rune(name)
	label := "示例"
	if len(first) > 0 {
		label = string(first[0]) + " · 示例"
	}
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 90 120" width="90" height="120">`+
		`<rect width="90" height="120" fill="hsl(%d,45%%,88%%)"/>`+
		`<ellipse cx="45" cy="112" rx="38" ry="30" fill="hsl(%d,30%%,40%%)"/>`+
		`<rect x="37" y="66" width="16" height="16" fill="#e9c6a5"/>`+
		`<ellipse cx="45" cy="50" rx="19" ry="23" fill="#f1d2b3"/>`+
		`<path d="M26 48 Q26 22 45 22 Q64 22 64 48 Q60 34 45 33 Q30 34 26 48Z" fill="%s"/>`+
		`<text x="45" y="116" font-size="9" text-anchor="middle" fill="#fff">%s</text></svg>`, hue, hue, hair, label)
	return "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(svg))
}
