// Package openapidoc embeds the OpenAPI 3.1 documents beside this file, so
// the server serves, and the tests validate against, the very files the
// developers read: openapi-v1.yaml, the Open API for department systems,
// and api-v1.yaml, the /api/v1 JSON API of the H5 and the console, from
// which the front end's TypeScript types are generated.
package openapidoc

import _ "embed"

// V1 is openapi-v1.yaml: the document served at /openapi/v1/openapi.yaml.
//
//go:embed openapi-v1.yaml
var V1 []byte

// APIV1 is api-v1.yaml: the contract of /api/v1 (holder, officer, public
// and console routes). The bff/api tests check every route of the route
// table and every answer they receive against it.
//
//go:embed api-v1.yaml
var APIV1 []byte
