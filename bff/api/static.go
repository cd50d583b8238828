package api

import (
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// precompressed are the encodings the H5 build writes next to each asset
// (name.br, name.gz), best first. Serving them saves a phone on a slow
// network more than half the bytes at no CPU cost per request.
var precompressed = []struct{ encoding, ext string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

// serveFile sends file, or its precompressed sibling when the client
// accepts that encoding, with Vary so caches keep the variants apart.
// http.ServeContent handles HEAD, Range and If-Modified-Since.
func serveFile(c *gin.Context, file string) {
	c.Header("Vary", "Accept-Encoding")
	accept := c.GetHeader("Accept-Encoding")
	for _, p := range precompressed {
		if !acceptsEncoding(accept, p.encoding) {
			continue
		}
		f, err := os.Open(file + p.ext)
		if err != nil {
			continue
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil || st.IsDir() {
			continue
		}
		ctype := mime.TypeByExtension(filepath.Ext(file))
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		c.Header("Content-Type", ctype)
		c.Header("Content-Encoding", p.encoding)
		http.ServeContent(c.Writer, c.Request, filepath.Base(file), st.ModTime(), f)
		return
	}
	c.File(file)
}

// acceptsEncoding reports whether an Accept-Encoding header allows enc
// (by name or by *) with a q-value above zero.
func acceptsEncoding(header, enc string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		q := 1.0
		if k, v, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				q = f
			}
		}
		switch name {
		case enc:
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}
