// Package openapidoc embeds the OpenAPI 3.1 document of the Open API for
// department systems (openapi-v1.yaml beside this file), so the server
// serves, and the tests validate against, the very file a department's
// developer reads.
package openapidoc

import _ "embed"

// V1 is openapi-v1.yaml: the document served at /openapi/v1/openapi.yaml.
//
//go:embed openapi-v1.yaml
var V1 []byte
