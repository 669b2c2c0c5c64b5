// Package docsui holds the assets of the documentation pages (/v1/docs,
// /v1/redoc): Swagger UI and ReDoc, vendored from npm (README.md lists the
// versions and licenses) and embedded so the pages work offline.
package docsui

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"path"
	"sort"
)

//go:embed swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css
//go:embed redoc.standalone.js redoc.standalone.js.LICENSE.txt
var files embed.FS

// Asset is one served file.
type Asset struct {
	Name        string // file name, the last segment of its URL
	ContentType string
	Body        []byte
	// Hash is the first 16 hex digits of the body's SHA-256: the asset's
	// ETag and the cache-busting query of the URLs the pages use.
	Hash string
}

var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
}

// assets is every embedded file, by name.
var assets = func() map[string]*Asset {
	entries, err := files.ReadDir(".")
	if err != nil {
		panic(err)
	}
	m := make(map[string]*Asset, len(entries))
	for _, e := range entries {
		body, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		ct, ok := contentTypes[path.Ext(e.Name())]
		if !ok {
			panic("docsui: no content type for " + e.Name())
		}
		sum := sha256.Sum256(body)
		m[e.Name()] = &Asset{Name: e.Name(), ContentType: ct, Body: body, Hash: hex.EncodeToString(sum[:8])}
	}
	return m
}()

// Lookup returns the asset named name, or nil.
func Lookup(name string) *Asset { return assets[name] }

// Names lists the assets' names, sorted.
func Names() []string {
	names := make([]string, 0, len(assets))
	for n := range assets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
