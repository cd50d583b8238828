// Package configs carries the files of this directory that the binary
// needs without a checkout: the demo catalogue embedded/demo mode applies
// at start-up.
package configs

import _ "embed"

// DemoCatalogue is catalogue.demo.yaml, the catalogue of the demo data
// (departments, the 13 licence types, the demo officers' usage lists).
//
//go:embed catalogue.demo.yaml
var DemoCatalogue []byte
